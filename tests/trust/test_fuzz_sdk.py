"""Differential fuzzing through the real SDK: malformed bodies and streams look the same with and without us."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.trust._differential import Scenario, Wire, observe, observe_instrumented
from tests.trust._support import FUZZ, FUZZ_EXAMPLES, JSON, shaped
from tests.trust._support import _load as load_type

# Each example makes two full client calls, so fewer of them; the mapping fuzzers cover breadth.
SDK_FUZZ = settings(FUZZ, max_examples=max(FUZZ_EXAMPLES // 3, 10))

CHUNK_TYPES = {
    "chat": load_type("openai.types.chat:ChatCompletionChunk"),
    "completions": load_type("openai.types:Completion"),
    "responses": load_type("openai.types.responses:ResponseStreamEvent"),
}
RESPONSE_TYPES = {
    "chat": load_type("openai.types.chat:ChatCompletion"),
    "completions": load_type("openai.types:Completion"),
    "responses": load_type("openai.types.responses:Response"),
}
APIS = [api for api in ("chat", "completions", "responses") if RESPONSE_TYPES[api] is not None]


def _sse_event(api: str) -> st.SearchStrategy[str]:
    """One SSE event: a schema-shaped payload, arbitrary JSON, non-JSON, an unknown event name, a comment."""
    payload = st.one_of(shaped(CHUNK_TYPES[api]), JSON).map(lambda v: json.dumps(v, allow_nan=True))
    return st.one_of(
        payload.map(lambda d: f"data: {d}\n\n"),
        st.tuples(st.sampled_from(["response.made_up", "thread.x", "error", "ping"]), payload)
        .map(lambda e: f"event: {e[0]}\ndata: {e[1]}\n\n"),
        st.text(max_size=30).map(lambda t: f"data: {t}\n\n"),
        st.just(": keep-alive\n\n"),
        st.just("data: [DONE]\n\n"),
        st.just('data: {"error": {"message": "overloaded"}}\n\n'),
    )


@st.composite
def sse_wire(draw: Any, api: str) -> Wire:
    """A stream body: events, maybe truncated mid-byte, maybe cut by a failing connection."""
    body = "".join(draw(st.lists(_sse_event(api), max_size=6))).encode("utf-8", "surrogatepass")
    cut = draw(st.one_of(st.none(), st.integers(0, max(len(body) - 1, 0))))
    if cut is not None:
        body = body[:cut]
    pieces = [body[i:i + 37] for i in range(0, len(body), 37)] or [b""]
    fail_after = draw(st.one_of(st.none(), st.integers(0, len(pieces))))
    return Wire(200, "text/event-stream", pieces, fail_after, draw(st.sampled_from(["read", "other"])))


@st.composite
def json_wire(draw: Any, api: str) -> Wire:
    """A non-streamed body: schema-violating JSON or garbage bytes, with a success or error status."""
    status = draw(st.sampled_from([200, 200, 200, 400, 404, 429, 500]))
    data = draw(st.one_of(shaped(RESPONSE_TYPES[api]).map(lambda v: json.dumps(v).encode("utf-8", "surrogatepass")),
                          st.binary(max_size=40)))
    fail_after = draw(st.one_of(st.none(), st.just(0), st.just(1)))
    return Wire(status, draw(st.sampled_from(["application/json", "text/plain"])), [data[:20], data[20:]],
                fail_after, draw(st.sampled_from(["read", "other"])))


def _check(scenario: Scenario, wire: Wire, capture: bool) -> None:
    """Same user-visible values and exceptions with and without us; exactly one span, ended once."""
    expected = observe(scenario, wire)
    seen, spans, double_ends = observe_instrumented(
        scenario, wire, capture_content="SPAN_AND_EVENT" if capture else None)
    assert seen == expected
    assert len(spans) == 1, [s.name for s in spans]
    assert double_ends == 0


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@SDK_FUZZ
@given(data=st.data(), consume=st.sampled_from(["all", "take2_close", "with", "raw"]), capture=st.booleans())
def test_streams_look_the_same_instrumented(api: str, is_async: bool, data: st.DataObject, consume: str,
                                           capture: bool) -> None:
    """Malformed SSE, truncated streams, unknown events and dropped connections reach the user unchanged."""
    wire = data.draw(sse_wire(api), label="wire")
    _check(Scenario(api, True, consume, is_async), wire, capture)


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@SDK_FUZZ
@given(data=st.data(), consume=st.sampled_from(["all", "raw"]), capture=st.booleans())
def test_responses_look_the_same_instrumented(api: str, is_async: bool, data: st.DataObject, consume: str,
                                             capture: bool) -> None:
    """Schema-violating JSON, garbage bodies, error statuses and failing reads reach the user unchanged."""
    wire = data.draw(json_wire(api), label="wire")
    _check(Scenario(api, False, consume, is_async), wire, capture)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("failure", ["read", "other"])
def test_connection_dropped_mid_chunk(is_async: bool, failure: str) -> None:
    """A server that closes mid-chunk: the same exception after the same chunks, and one ended span."""
    chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m",
             "choices": [{"index": 0, "delta": {"content": "Hel"}, "finish_reason": None}]}
    body = (f"data: {json.dumps(chunk)}\n\n" * 3).encode()
    wire = Wire(200, "text/event-stream", [body[: len(body) - 20], body[-20:]], fail_after=1, failure=failure)
    scenario = Scenario("chat", True, "all", is_async)
    expected = observe(scenario, wire)
    assert expected[-1][0] == "raised" and len(expected) == 3, expected
    seen, spans, double_ends = observe_instrumented(scenario, wire)
    assert seen == expected
    assert len(spans) == 1 and double_ends == 0
    # The span names the exception the user got (openai 3 wraps read errors in APIConnectionError).
    user_exception = expected[-1][1].split(":")[0].rsplit(".", 1)[-1]
    assert spans[0].attributes["error.type"].endswith(user_exception)

