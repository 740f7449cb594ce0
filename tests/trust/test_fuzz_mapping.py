"""Fuzzing every routed mapping with schema-violating bodies, responses and chunks built like the SDK builds them."""

from __future__ import annotations

import contextlib
import warnings
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from otel_openai import _content
from otel_openai import _semconv as sc
from otel_openai._config import ContentCapture, Settings
from otel_openai._invocation import Invocation
from tests.trust._support import (
    FUZZ,
    JSON,
    Endpoint,
    api_functions,
    attribute_problems,
    endpoints,
    is_json_text,
)
from tests.trust._telemetry import FuzzPipeline

ENDPOINTS = endpoints()
CONTENT_KEYS = (sc.INPUT_MESSAGES, sc.OUTPUT_MESSAGES, sc.SYSTEM_INSTRUCTIONS, sc.TOOL_DEFINITIONS)
PIPELINE = FuzzPipeline()

SETTINGS = st.builds(
    Settings,
    capture=st.sampled_from(list(ContentCapture)),
    max_content_length=st.sampled_from([0, 1, 16, 32_768]),
    capture_media=st.booleans(),
    stream_chunk_events=st.sampled_from([0, 3]),
    time_per_chunk_metric=st.booleans(),
)


def _content_ok(value: Any, limit: int) -> bool:
    """Captured content serializes to JSON that parses back, with every string within the limit (labels such
    as a part's type within theirs)."""
    text = _content.to_json(_content.bounded(value, limit))
    if not is_json_text(text):
        return False
    return limit <= 0 or _max_string(_content.bounded(value, limit)) <= limit + len("…[truncated]")


def _max_string(value: Any) -> int:
    """The longest string, labels kept whole by ``bounded`` aside."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return max([0, *(_max_string(v) for k, v in value.items() if not _label(k, v))])
    if isinstance(value, (list, tuple)):
        return max([0, *(_max_string(v) for v in value)])
    return 0


def _label(key: Any, value: Any) -> bool:
    return key in _content.LABEL_KEYS and isinstance(value, str) and len(value) <= _content.LABEL_LIMIT


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
@FUZZ
@given(data=st.data())
def test_request_attributes_are_valid_for_any_body(endpoint: Endpoint, data: st.DataObject) -> None:
    """request_attributes never raises on a JSON-object body and yields only valid attribute values."""
    body = data.draw(endpoint.body(), label="body")
    assert attribute_problems(endpoint.api.request_attributes(body)) == []


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
@FUZZ
@given(data=st.data(), limit=st.sampled_from([0, 8, 32_768]))
def test_request_content_is_valid_json_for_any_body(endpoint: Endpoint, data: st.DataObject, limit: int) -> None:
    """Input messages, system instructions and tool definitions always serialize to bounded, valid JSON."""
    body = data.draw(endpoint.body(), label="body")
    for name, fn in api_functions(endpoint.api):
        if name != "request_attributes":
            assert _content_ok(fn(body), limit), name


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
@FUZZ
@given(data=st.data())
def test_response_attributes_are_valid_for_any_response(endpoint: Endpoint, data: st.DataObject) -> None:
    """response_attributes and output_messages never raise on a constructed response; attributes are valid."""
    response = endpoint.build(endpoint.response, data.draw(endpoint.response_data(), label="response"))
    assert attribute_problems(endpoint.api.response_attributes(response)) == []
    assert _content_ok(endpoint.api.output_messages(response, False), 16)


@pytest.mark.parametrize("endpoint", [e for e in ENDPOINTS if e.api.accumulator], ids=repr)
@FUZZ
@given(data=st.data(), capture=st.booleans())
def test_accumulator_attributes_are_valid_for_any_chunks(endpoint: Endpoint, data: st.DataObject,
                                                         capture: bool) -> None:
    """A stream accumulator fed any chunks (a chunk it cannot read is skipped) yields valid attributes."""
    assert endpoint.api.accumulator is not None
    acc = endpoint.api.accumulator(capture)
    for raw in data.draw(st.lists(endpoint.chunk_data(), max_size=6), label="chunks"):
        # Invocation.on_chunk guards each chunk; what matters is what the rest still yields.
        with contextlib.suppress(Exception):
            acc.add(endpoint.build(endpoint.chunk, raw))
    assert attribute_problems(acc.attributes()) == []
    assert _content_ok(acc.output_messages(False), 16)


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=repr)
@FUZZ
@given(data=st.data(), settings=SETTINGS, outcome=st.sampled_from(["response", "stream", "error"]))
def test_invocation_never_raises_and_exports_valid_data(endpoint: Endpoint, data: st.DataObject,
                                                        settings: Settings, outcome: str) -> None:
    """The guarded Invocation path never raises, never warns, ends one span, and exports only valid
    attributes."""
    PIPELINE.reset()
    body = data.draw(endpoint.body() | JSON.filter(lambda v: isinstance(v, dict)), label="body")
    response = endpoint.build(endpoint.response, data.draw(endpoint.response_data(), label="response"))
    chunks = [endpoint.build(endpoint.chunk, raw)
              for raw in data.draw(st.lists(endpoint.chunk_data(), max_size=5), label="chunks")]
    # A warning would reach the user's logs (the suite turns warnings into errors, which the guard would
    # then swallow unseen), so record them instead.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        invocation = Invocation(PIPELINE.telemetry(settings), endpoint.api, PIPELINE.client, body)
        if outcome == "response":
            invocation.end_response(response)
        elif outcome == "stream":
            invocation.begin_stream()
            for chunk in chunks:
                invocation.on_chunk(chunk)
            invocation.end_stream()
        else:
            invocation.end_error(RuntimeError("failed"))
        invocation.end_unread()  # a second end is a no-op
    found = [str(w.message)[:200] for w in caught]
    assert found == []
    PIPELINE.check(CONTENT_KEYS)


# --- regressions the fuzzer found, pinned as plain examples --------------------------------------------


def test_lone_surrogates_from_the_wire_become_encodable_strings() -> None:
    """A JSON ``"\\ud800"`` escape in an id or model never yields an attribute an exporter cannot encode."""
    attrs = ENDPOINTS[0].api.response_attributes({"id": "a\ud800", "model": "\udfff"})
    assert attribute_problems(attrs) == []


def test_integers_beyond_int64_are_dropped_not_exported() -> None:
    """A seed or token count OTLP cannot carry as int64 is left out rather than breaking the export batch."""
    from otel_openai._mapping._common import as_int

    assert as_int(2**63) is None
    assert as_int(-(2**63) - 1) is None
    assert as_int(2**63 - 1) == 2**63 - 1


def test_floats_too_large_for_a_double_are_dropped() -> None:
    """``temperature=10**400`` is dropped instead of raising OverflowError and losing every request attribute."""
    from otel_openai._mapping._common import as_float

    assert as_float(10**400) is None
    assert as_float(2) == 2.0


def test_unhashable_field_names_read_as_missing() -> None:
    """A field name taken from garbage input (a list ``type``) reads as missing instead of raising."""
    from otel_openai._mapping._common import get

    assert get({"a": 1}, ["a"]) is None  # type: ignore[arg-type]
    assert get(object(), ["a"]) is None  # type: ignore[arg-type]


def test_captured_json_is_strict_and_utf8_encodable() -> None:
    """Content with lone surrogates or NaN still serializes to strict, UTF-8 encodable JSON."""
    text = _content.to_json([{"content": "x\ud800", "n": float("nan"), "i": float("-inf")}])
    assert is_json_text(text)
    text.encode("utf-8")


def test_non_string_media_data_becomes_an_empty_blob() -> None:
    """A number where base64 belongs yields an empty media part (withheld, size 0) instead of a TypeError."""
    from otel_openai._mapping import _parts

    assert _parts.blob("image", 1, None, False) == {"type": "generic", "generic_type": "blob", "modality": "image",
                                                    "byte_size": 0, "stripped_reason": "media_capture_off"}
    assert _parts.blob("image", 1, None, True) == {"type": "blob", "modality": "image", "content": ""}


# --- found by fuzzing in mapping modules owned elsewhere (fixed in ff8a6ae): the guard in _invocation.py
# contained each one, but a span lost all its output messages or response attributes to one malformed item.


def _endpoint(path: str, needs: str = "response") -> Endpoint:
    found = [e for e in ENDPOINTS if e.path == path]
    if not found:
        pytest.skip(f"{path} is not routed in this build")
    if getattr(found[0], needs) is None:
        pytest.skip(f"this openai version has no {needs} type for {path}")
    return found[0]


def _chunks(endpoint: Endpoint, raws: list[Any], capture: bool) -> Any:
    assert endpoint.api.accumulator is not None
    acc = endpoint.api.accumulator(capture)
    for raw in raws:
        acc.add(endpoint.build(endpoint.chunk, raw))
    return acc


def test_responses_output_item_with_a_list_type_is_kept_as_a_part() -> None:
    """A Responses output item whose ``type`` is a list becomes a generic part instead of raising."""
    endpoint = _endpoint("/responses")
    response = endpoint.build(endpoint.response, {"output": [{"type": []}]})
    assert _content_ok(endpoint.api.output_messages(response, False), 0)


def test_responses_input_item_with_a_list_type_is_kept_as_a_part() -> None:
    """A Responses input item whose ``type`` is a list becomes a generic part instead of raising."""
    endpoint = _endpoint("/responses")
    assert _content_ok(endpoint.api.input_messages({"input": [{"type": [], "content": None}]}, False), 0)


def test_moderation_result_with_list_categories_is_kept() -> None:
    """A moderation result whose ``categories`` is not an object still yields an output message."""
    endpoint = _endpoint("/moderations")
    response = endpoint.build(endpoint.response, {"results": [{"categories": ["violence"], "flagged": True}]})
    assert _content_ok(endpoint.api.output_messages(response, False), 0)


def test_transcription_delta_without_text_is_skipped() -> None:
    """A ``transcript.text.delta`` event with no ``delta`` is skipped, not joined as None."""
    acc = _chunks(_endpoint("/audio/transcriptions", "chunk"), [{"type": "transcript.text.delta"}], True)
    assert _content_ok(acc.output_messages(False), 0)


def test_responses_text_delta_without_text_is_skipped() -> None:
    """A ``response.output_text.delta`` event with no ``delta`` is skipped, not joined as None."""
    acc = _chunks(_endpoint("/responses", "chunk"), [{"type": "response.output_text.delta"}], True)
    assert _content_ok(acc.output_messages(False), 0)


def test_responses_text_format_with_a_list_type_keeps_request_attributes() -> None:
    """A Responses ``text.format.type`` that is a list costs only the output type, not every request attribute."""
    attrs = _endpoint("/responses").api.request_attributes({"model": "m", "temperature": 0.5,
                                                           "text": {"format": {"type": []}}})
    assert attrs[sc.REQUEST_TEMPERATURE] == 0.5


def _warnings_from(fn: Any, *args: Any) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn(*args)
    return [str(w.message)[:120] for w in caught]


def test_responses_malformed_server_item_does_not_warn() -> None:
    """A server tool call whose ``action`` is a number is kept as a part without a pydantic warning."""
    endpoint = _endpoint("/responses")
    item = {"type": "web_search_call", "id": "ws", "status": "completed", "action": 5}
    response = endpoint.build(endpoint.response, {"output": [item]})
    assert _warnings_from(endpoint.api.output_messages, response, False) == []


def test_moderation_malformed_categories_do_not_warn() -> None:
    """Categories holding a string where a bool belongs yield a verdict without a pydantic warning."""
    endpoint = _endpoint("/moderations")
    response = endpoint.build(endpoint.response, {"results": [{"categories": {"harassment": "yes"}}]})
    assert _warnings_from(endpoint.api.output_messages, response, False) == []


def test_chunk_events_on_malformed_chunks_do_not_warn() -> None:
    """With chunk events and capture on, a malformed chunk is recorded without a pydantic warning."""
    endpoint = _endpoint("/chat/completions", "chunk")
    PIPELINE.reset()
    settings = Settings(capture=ContentCapture.SPAN_ONLY, stream_chunk_events=3)
    invocation = Invocation(PIPELINE.telemetry(settings), endpoint.api, PIPELINE.client, {"model": "m"})
    invocation.begin_stream()
    chunk = endpoint.build(endpoint.chunk, {"id": "c", "choices": [{"index": 0, "logprobs": False}]})
    assert _warnings_from(invocation.on_chunk, chunk) == []
    invocation.end_stream()
