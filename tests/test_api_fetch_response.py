"""End to end: ``GET /responses/{id}`` (retrieve, background polling, resumed streams) as ``fetch_response``."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from otel_openai import _semconv as sc
from tests.conftest import drain, fixture_json, json_response, make_client, resolve, serve

pytestmark = pytest.mark.skipif(not hasattr(openai.OpenAI, "responses"),
                                reason="the Responses API arrived in openai 1.66; this SDK lacks it")

TOKEN_METRICS = (sc.METRIC_TOKEN_USAGE, sc.METRIC_USAGE_INPUT_TOKENS, sc.METRIC_USAGE_OUTPUT_TOKENS,
                 sc.METRIC_OPERATION_INPUT_TOKENS, sc.METRIC_OPERATION_OUTPUT_TOKENS)


def stored(**changes: Any) -> Any:
    """The stored response of responses/text.json with some fields changed."""
    return {**fixture_json("responses/text.json"), **changes}


def no_token_points(t: Any) -> bool:
    return all(t.metric_points(name) == [] for name in TOKEN_METRICS)


async def test_retrieve_whole_span(instrument: Any, async_client: bool) -> None:
    """A retrieve is one CLIENT span named just `fetch_response`: response id, model, status and finish
    reason, no token usage; its duration is recorded under gen_ai.client.operation.duration."""
    seen: list[Any] = []
    t = instrument()
    client = make_client(serve("responses/text.json", seen), async_client=async_client)
    result = await resolve(client.responses.retrieve("resp_abc123"))
    assert result.output_text == "Paris."
    span = t.only_span()
    assert seen[0].method == "GET"
    assert (span.name, span.kind) == ("fetch_response", SpanKind.CLIENT)
    assert dict(span.attributes) == {
        sc.OPERATION_NAME: "fetch_response",
        sc.PROVIDER_NAME: "openai",
        sc.SERVER_ADDRESS: "openai.test",
        sc.SERVER_PORT: 8080,
        sc.OPENAI_API_TYPE: "responses",
        sc.RESPONSE_ID: "resp_abc123",
        sc.RESPONSE_MODEL: "gpt-4o-2024-08-06",
        sc.OPENAI_RESPONSE_SERVICE_TIER: "default",
        sc.RESPONSE_FINISH_REASONS: ("stop",),
        sc.RESPONSE_STATUS: "completed",
    }
    assert span.status.status_code is StatusCode.UNSET
    (duration,) = t.metric_points(sc.METRIC_OPERATION_DURATION)
    assert duration.attributes[sc.OPERATION_NAME] == "fetch_response"
    assert no_token_points(t)


@pytest.mark.parametrize(("changes", "reasons", "status"), [
    ({"status": "failed", "error": {"code": "server_error", "message": "boom"}}, ("error",), "failed"),
    ({"status": "cancelled"}, ("error",), "cancelled"),
    ({"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}, ("length",), "incomplete"),
    ({"status": "incomplete", "incomplete_details": {"reason": "content_filter"}}, ("content_filter",),
     "incomplete"),
    ({"status": "queued", "usage": None, "output": []}, None, "queued"),
    ({"status": "in_progress", "usage": None, "output": []}, None, "in_progress"),
])
async def test_status_and_finish_reasons(instrument: Any, async_client: bool, changes: dict[str, Any],
                                         reasons: Any, status: str) -> None:
    """The status is reported as is; failed and cancelled generations finish with `error`, max_output_tokens
    with `length`, and an unfinished response with none."""
    t = instrument()
    client = make_client(lambda r: json_response(stored(**changes)), async_client=async_client)
    await resolve(client.responses.retrieve("resp_abc123"))
    attrs = t.only_span().attributes
    assert attrs[sc.RESPONSE_STATUS] == status
    assert attrs.get(sc.RESPONSE_FINISH_REASONS) == reasons
    assert sc.USAGE_INPUT_TOKENS not in attrs


async def test_failed_response_is_an_error(instrument: Any, async_client: bool) -> None:
    """A fetched response that failed sets error.type from its code and the span status to ERROR."""
    t = instrument()
    client = make_client(lambda r: json_response(stored(status="failed", error={"code": "server_error",
                                                                                  "message": "boom"})),
                         async_client=async_client)
    await resolve(client.responses.retrieve("resp_abc123"))
    span = t.only_span()
    assert span.attributes[sc.ERROR_TYPE] == "server_error"
    assert span.status.status_code is StatusCode.ERROR


async def test_http_error_keeps_the_response_id(instrument: Any, async_client: bool) -> None:
    """A failed fetch still names the response it asked for (the id is required) and its error."""
    t = instrument()
    client = make_client(lambda r: json_response({"error": {"message": "no such response"}}, 404),
                         async_client=async_client)
    with pytest.raises(openai.NotFoundError):
        await resolve(client.responses.retrieve("resp_missing"))
    attrs = t.only_span().attributes
    assert attrs[sc.RESPONSE_ID] == "resp_missing"
    assert attrs[sc.ERROR_TYPE] == "openai.NotFoundError"
    (duration,) = t.metric_points(sc.METRIC_OPERATION_DURATION)
    assert duration.attributes[sc.ERROR_TYPE] == "openai.NotFoundError"


async def test_resumed_stream(instrument: Any, async_client: bool) -> None:
    """retrieve(stream=True, starting_after=N) keeps an openai.Stream; the span records the stream flag and
    the cursor, ends when the stream does, and reports the outcome but no usage."""
    seen: list[Any] = []
    t = instrument()
    client = make_client(serve("responses/stream_text.sse", seen), async_client=async_client)
    stream = await resolve(client.responses.retrieve("resp_abc123", stream=True, starting_after=3))
    assert isinstance(stream, (openai.Stream, openai.AsyncStream))
    await drain(stream)
    assert "starting_after=3" in str(seen[0].url)
    span = t.only_span()
    assert span.name == "fetch_response"
    attrs = span.attributes
    assert attrs[sc.REQUEST_STREAM] is True
    assert attrs[sc.REQUEST_STREAM_CURSOR] == "3"
    assert attrs[sc.RESPONSE_ID] == "resp_abc123"
    assert attrs[sc.RESPONSE_STATUS] == "completed"
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ("stop",)
    assert not {sc.USAGE_INPUT_TOKENS, sc.USAGE_OUTPUT_TOKENS, sc.USAGE_CACHE_READ_INPUT_TOKENS} & set(attrs)
    assert no_token_points(t)


async def test_resumed_stream_cut_short(instrument: Any, async_client: bool) -> None:
    """A resumed stream that ends before its final event owes a finish reason: `error`."""
    t = instrument()
    client = make_client(serve("responses/stream_cut.sse"), async_client=async_client)
    await drain(await resolve(client.responses.retrieve("resp_abc123", stream=True)))
    attrs = t.only_span().attributes
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ("error",)
    assert sc.REQUEST_STREAM_CURSOR not in attrs


async def test_output_content_only(instrument: Any, async_client: bool) -> None:
    """With capture on, the fetched output is recorded; there is no input to record (a fetched response
    does not carry it)."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(serve("responses/text.json"), async_client=async_client)
    await resolve(client.responses.retrieve("resp_abc123"))
    attrs = t.only_span().attributes
    (output,) = json.loads(attrs[sc.OUTPUT_MESSAGES])
    assert output["parts"][-1] == {"type": "text", "content": "Paris."}
    assert sc.INPUT_MESSAGES not in attrs and sc.TOOL_DEFINITIONS not in attrs


async def test_no_content_by_default(instrument: Any, async_client: bool) -> None:
    """Without capture the fetched output stays off the span."""
    t = instrument()
    client = make_client(serve("responses/text.json"), async_client=async_client)
    await resolve(client.responses.retrieve("resp_abc123"))
    assert "Paris" not in json.dumps(dict(t.only_span().attributes))


@pytest.mark.parametrize("latest", [False, True], ids=["default-metrics", "latest-metrics"])
async def test_polling_counts_tokens_once(instrument: Any, async_client: bool, monkeypatch: Any,
                                          latest: bool) -> None:
    """Regression: polling a background response used to record its tokens once per poll. A background
    create (queued, no usage yet) polled three times records no token point at all, in either metric mode,
    while each call still records its duration."""
    if latest:
        monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    polls = iter([stored(status="in_progress", usage=None, output=[]), stored(), stored()])

    def handler(request: Any) -> Any:
        if request.method == "POST":
            return json_response(stored(status="queued", usage=None, output=[], background=True))
        return json_response(next(polls))

    t = instrument()
    client = make_client(handler, async_client=async_client)
    created = await resolve(client.responses.create(model="gpt-4o", input="hi", background=True))
    for _ in range(3):
        await resolve(client.responses.retrieve(created.id))
    spans = t.finished_spans()
    assert [s.name for s in spans] == ["chat gpt-4o"] + ["fetch_response"] * 3
    assert all(sc.USAGE_INPUT_TOKENS not in s.attributes for s in spans)
    assert t.metric_points(sc.METRIC_TOKEN_USAGE) == []
    if latest:
        # The create is an inference call: it reports its (unknown yet) usage as 0, never the polls' tokens.
        assert [p.value for p in t.metric_points(sc.METRIC_USAGE_INPUT_TOKENS)] == [0]
        assert [p.sum for p in t.metric_points(sc.METRIC_OPERATION_INPUT_TOKENS)] == [0]
        (fetches,) = t.metric_points(sc.METRIC_OPERATION_DURATION)
        assert (fetches.count, fetches.attributes[sc.OPERATION_NAME]) == (3, "fetch_response")
    else:
        durations = {p.attributes[sc.OPERATION_NAME]: p.count for p in t.metric_points(sc.METRIC_OPERATION_DURATION)}
        assert durations == {"chat": 1, "fetch_response": 3}
