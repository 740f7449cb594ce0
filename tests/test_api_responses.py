"""End to end: the Responses API (create, stream, stream(), parse, retrieve) over a mock transport."""

from __future__ import annotations

import gc
import json
import weakref
from typing import Any

import openai
import pydantic
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from otel_openai import _semconv as sc
from tests.conftest import drain, event_value, fixture_json, json_response, make_client, resolve, serve

pytestmark = pytest.mark.skipif(not hasattr(openai.OpenAI, "responses"),
                                reason="the Responses API arrived in openai 1.66; this SDK lacks it")

MODEL = "gpt-4o"


async def test_create_whole_span(instrument: Any, async_client: bool) -> None:
    """A plain create is one `chat {model}` CLIENT span with Responses request and response attributes."""
    t = instrument()
    client = make_client(serve("responses/text.json"), async_client=async_client)
    result = await resolve(client.responses.create(
        model=MODEL, input="Capital of France?", instructions="Be brief.", temperature=0.5, top_p=0.9,
        max_output_tokens=200, previous_response_id="resp_prev", reasoning={"effort": "low"},
        service_tier="flex"))
    span = t.only_span()
    assert span.name == f"chat {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert dict(span.attributes) == {
        sc.OPERATION_NAME: "chat",
        sc.PROVIDER_NAME: "openai",
        sc.REQUEST_MODEL: MODEL,
        sc.SERVER_ADDRESS: "openai.test",
        sc.SERVER_PORT: 8080,
        sc.OPENAI_API_TYPE: "responses",
        sc.REQUEST_TEMPERATURE: 0.5,
        sc.REQUEST_TOP_P: 0.9,
        sc.REQUEST_MAX_TOKENS: 200,
        sc.REQUEST_PREVIOUS_RESPONSE_ID: "resp_prev",
        sc.REQUEST_REASONING_LEVEL: "low",
        sc.OPENAI_REQUEST_SERVICE_TIER: "flex",
        sc.RESPONSE_ID: "resp_abc123",
        sc.RESPONSE_MODEL: "gpt-4o-2024-08-06",
        sc.OPENAI_RESPONSE_SERVICE_TIER: "default",
        sc.RESPONSE_FINISH_REASONS: ("stop",),
        sc.USAGE_INPUT_TOKENS: 36,
        sc.USAGE_OUTPUT_TOKENS: 87,
        sc.USAGE_CACHE_READ_INPUT_TOKENS: 4,
        sc.USAGE_CACHE_WRITE_INPUT_TOKENS: 0,
        sc.USAGE_REASONING_OUTPUT_TOKENS: 64,
    }
    assert span.status.status_code is StatusCode.UNSET
    assert result.output_text == "Paris."


async def test_conversation_id(instrument: Any, async_client: bool) -> None:
    """`conversation=` is recorded as gen_ai.conversation.id, given as a string or as {id}."""
    t = instrument()
    client = make_client(serve("responses/text.json"), async_client=async_client)
    try:
        await resolve(client.responses.create(model=MODEL, input="hi", conversation={"id": "conv_1"}))
    except TypeError:
        pytest.skip("this SDK's responses.create has no conversation parameter")
    assert t.only_span().attributes[sc.CONVERSATION_ID] == "conv_1"


async def test_content_capture(instrument: Any, async_client: bool) -> None:
    """With capture on: instructions, item input (incl. function output), tools and every output item."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(serve("responses/text.json"), async_client=async_client)
    items = [
        {"role": "user", "content": "Weather in Paris?"},
        {"type": "function_call", "call_id": "call_1", "name": "get_weather", "arguments": '{"city":"Paris"}'},
        {"type": "function_call_output", "call_id": "call_1", "output": "18C"},
    ]
    tools = [{"type": "function", "name": "get_weather", "parameters": {"type": "object"}},
             {"type": "web_search"}]
    await resolve(client.responses.create(model=MODEL, input=items, instructions="Be brief.", tools=tools))
    attrs = t.only_span().attributes
    assert json.loads(attrs[sc.SYSTEM_INSTRUCTIONS]) == [{"type": "text", "content": "Be brief."}]
    assert json.loads(attrs[sc.INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Weather in Paris?"}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "call_1", "name": "get_weather",
                                         "arguments": {"city": "Paris"}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_1", "response": {"value": "18C"}}]},
    ]
    assert json.loads(attrs[sc.TOOL_DEFINITIONS]) == [
        {"type": "function", "name": "get_weather", "parameters": {"type": "object"}},
        {"type": "web_search", "name": "web_search"}]
    (output,) = json.loads(attrs[sc.OUTPUT_MESSAGES])
    assert output["role"] == "assistant" and "finish_reason" not in output
    reasoning, search, text = output["parts"]
    assert reasoning == {"type": "reasoning", "content": "Thinking about Paris."}
    assert search["type"] == "server_tool_call" and search["name"] == "web_search"
    assert search["server_tool_call"]["action"]["query"] == "capital of France"
    assert text == {"type": "text", "content": "Paris."}


async def test_no_content_by_default(instrument: Any, async_client: bool) -> None:
    """Without capture no message, instruction, tool or argument appears anywhere on the span."""
    t = instrument()
    client = make_client(serve("responses/function_call.json"), async_client=async_client)
    await resolve(client.responses.create(model=MODEL, input="Weather?", instructions="Be brief.",
                                          tools=[{"type": "function", "name": "get_weather"}]))
    attrs = dict(t.only_span().attributes)
    assert not {sc.INPUT_MESSAGES, sc.OUTPUT_MESSAGES, sc.SYSTEM_INSTRUCTIONS, sc.TOOL_DEFINITIONS} & set(attrs)
    assert "Paris" not in json.dumps(attrs)
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ("tool_calls",)


async def test_function_call_output(instrument: Any, async_client: bool) -> None:
    """A function call output item becomes a tool_call part with parsed arguments."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(serve("responses/function_call.json"), async_client=async_client)
    await resolve(client.responses.create(model=MODEL, input="Weather?"))
    (output,) = json.loads(t.only_span().attributes[sc.OUTPUT_MESSAGES])
    assert output == {"role": "assistant", "parts": [
        {"type": "tool_call", "id": "call_1", "name": "get_weather", "arguments": {"city": "Paris"}}]}


async def test_incomplete_finish_reason(instrument: Any, async_client: bool) -> None:
    """An incomplete response reports its incomplete reason as finish reason, ``max_output_tokens`` in the chat
    vocabulary (``length``)."""
    t = instrument()
    client = make_client(serve("responses/incomplete.json"), async_client=async_client)
    await resolve(client.responses.create(model=MODEL, input="hi", max_output_tokens=5))
    assert t.only_span().attributes[sc.RESPONSE_FINISH_REASONS] == ("length",)


async def test_create_stream(instrument: Any, async_client: bool) -> None:
    """create(stream=True) keeps an openai.Stream; the span ends at exhaustion with the completed response."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(serve("responses/stream_text.sse"), async_client=async_client)
    stream = await resolve(client.responses.create(model=MODEL, input="hi", stream=True))
    assert isinstance(stream, (openai.Stream, openai.AsyncStream))
    assert t.finished_spans() == []
    events = await drain(stream)
    assert events[-1].type == "response.completed"
    span = t.only_span()
    attrs = span.attributes
    assert attrs[sc.REQUEST_STREAM] is True
    assert attrs[sc.RESPONSE_ID] == "resp_abc123"
    assert attrs[sc.USAGE_OUTPUT_TOKENS] == 87
    assert attrs[sc.RESPONSE_TIME_TO_FIRST_CHUNK] >= 0
    assert json.loads(attrs[sc.OUTPUT_MESSAGES])[0]["parts"] == [{"type": "text", "content": "Paris."}]
    assert len(t.metric_points(sc.METRIC_TIME_TO_FIRST_CHUNK)) == 1
    usage = sorted((p.attributes[sc.TOKEN_TYPE], p.sum) for p in t.metric_points(sc.METRIC_TOKEN_USAGE))
    assert usage == [("input", 36), ("output", 87)]


async def test_stream_cut_short_keeps_partial_text(instrument: Any, async_client: bool) -> None:
    """Closing a stream before response.completed ends the span with the text received so far and finish
    reason ``error``."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(serve("responses/stream_cut.sse"), async_client=async_client)
    stream = await resolve(client.responses.create(model=MODEL, input="hi", stream=True))
    await drain(stream)
    attrs = t.only_span().attributes
    assert attrs[sc.RESPONSE_ID] == "resp_abc123"
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ("error",)
    assert json.loads(attrs[sc.OUTPUT_MESSAGES])[0]["parts"] == [{"type": "text", "content": "Paris."}]


@pytest.mark.parametrize(("fixture", "error"), [("responses/stream_failed.sse", "server_error"),
                                                ("responses/stream_error_event.sse", "rate_limit_exceeded")])
async def test_stream_failure_events(instrument: Any, async_client: bool, fixture: str, error: str) -> None:
    """response.failed and error events set error.type from their code; the caller still gets every event."""
    t = instrument()
    client = make_client(serve(fixture), async_client=async_client)
    events = await drain(await resolve(client.responses.create(model=MODEL, input="hi", stream=True)))
    assert len(events) == 3
    span = t.only_span()
    assert span.attributes[sc.ERROR_TYPE] == error
    assert span.status.status_code is StatusCode.ERROR


async def test_stream_helper(instrument: Any, async_client: bool) -> None:
    """responses.stream() yields one span (not two) that ends when the with-block exits."""
    t = instrument()
    client = make_client(serve("responses/stream_text.sse"), async_client=async_client)
    manager = client.responses.stream(model=MODEL, input="hi")
    if async_client:
        async with manager as stream:
            final = await stream.get_final_response()
    else:
        with manager as stream:
            final = stream.get_final_response()
    assert final.output_text == "Paris."
    span = t.only_span()
    assert span.attributes[sc.USAGE_INPUT_TOKENS] == 36


async def test_stream_helper_abandoned_early(instrument: Any, async_client: bool) -> None:
    """Leaving a stream() block after the first event ends the span at once."""
    t = instrument()
    client = make_client(serve("responses/stream_text.sse"), async_client=async_client)
    manager = client.responses.stream(model=MODEL, input="hi")
    if async_client:
        async with manager as stream:
            async for _ in stream:
                break
    else:
        with manager as stream:
            for _ in stream:
                break
    span = t.only_span()
    assert span.attributes[sc.RESPONSE_ID] == "resp_abc123"


def test_abandoned_stream_ends_on_collection(instrument: Any) -> None:
    """A half-read stream that is dropped still ends its span when collected."""
    t = instrument()
    client = make_client(serve("responses/stream_text.sse"))
    stream = client.responses.create(model=MODEL, input="hi", stream=True)
    next(iter(stream))
    del stream
    gc.collect()
    assert len(t.finished_spans()) == 1


class Capital(pydantic.BaseModel):
    city: str


async def test_parse(instrument: Any, async_client: bool) -> None:
    """responses.parse(text_format=...) is traced with output type json and the parsed result intact."""
    body = fixture_json("responses/text.json")
    body["output"] = [body["output"][2]]
    body["output"][0]["content"][0]["text"] = '{"city": "Paris"}'
    t = instrument()
    client = make_client(lambda r: json_response(body), async_client=async_client)
    result = await resolve(client.responses.parse(model=MODEL, input="hi", text_format=Capital))
    assert result.output_parsed == Capital(city="Paris")
    attrs = t.only_span().attributes
    assert attrs[sc.OUTPUT_TYPE] == "json"
    assert attrs[sc.RESPONSE_ID] == "resp_abc123"


async def test_http_error(instrument: Any, async_client: bool) -> None:
    """A 429 ends the span with error.type and reaches the caller unchanged."""
    t = instrument()
    client = make_client(lambda r: json_response({"error": {"message": "slow down"}}, 429),
                         async_client=async_client)
    with pytest.raises(openai.RateLimitError):
        await resolve(client.responses.create(model=MODEL, input="hi"))
    span = t.only_span()
    assert span.attributes[sc.ERROR_TYPE] == "openai.RateLimitError"
    assert span.status.status_code is StatusCode.ERROR


@pytest.mark.parametrize("call", ["delete", "cancel", "input_items"])
async def test_other_response_endpoints_untouched(instrument: Any, async_client: bool, call: str) -> None:
    """delete, cancel and input_items.list are not model calls: no span."""
    body = fixture_json("responses/text.json")
    t = instrument()
    client = make_client(lambda r: json_response({"object": "list", "data": [], "first_id": None,
                                                  "last_id": None, "has_more": False}
                                                 if call == "input_items" else body),
                         async_client=async_client)
    if call == "delete":
        await resolve(client.responses.delete("resp_abc123"))
    elif call == "cancel":
        await resolve(client.responses.cancel("resp_abc123"))
    else:
        await resolve(client.responses.input_items.list("resp_abc123"))
    assert t.finished_spans() == []


async def test_stream_helper_resumes_by_response_id(instrument: Any, async_client: bool) -> None:
    """responses.stream(response_id=...) resumes a background response through one traced GET stream."""
    seen: list[Any] = []
    t = instrument()
    client = make_client(serve("responses/stream_text.sse", seen), async_client=async_client)
    manager = client.responses.stream(response_id="resp_abc123", starting_after=2)
    if async_client:
        async with manager as stream:
            await stream.until_done()
    else:
        with manager as stream:
            stream.until_done()
    assert seen[0].method == "GET"
    attrs = t.only_span().attributes
    assert attrs[sc.REQUEST_STREAM] is True
    assert attrs[sc.RESPONSE_ID] == "resp_abc123"


async def test_with_raw_response(instrument: Any, async_client: bool) -> None:
    """with_raw_response.create returns the raw response, and the span has the parsed response's attributes."""
    t = instrument()
    client = make_client(serve("responses/text.json"), async_client=async_client)
    raw = await resolve(client.responses.with_raw_response.create(model=MODEL, input="hi"))
    assert raw.headers["x-request-id"] == "req_123"
    assert raw.parse().output_text == "Paris."
    assert t.only_span().attributes[sc.USAGE_INPUT_TOKENS] == 36


async def test_with_streaming_response_stream(instrument: Any, async_client: bool) -> None:
    """with_streaming_response + stream=True: the parsed stream is traced until it is drained."""
    t = instrument()
    client = make_client(serve("responses/stream_text.sse"), async_client=async_client)
    if async_client:
        async with client.responses.with_streaming_response.create(model=MODEL, input="hi", stream=True) as raw:
            events = [e async for e in await raw.parse()]
    else:
        with client.responses.with_streaming_response.create(model=MODEL, input="hi", stream=True) as raw:
            events = list(raw.parse())
    assert events[-1].type == "response.completed"
    assert t.only_span().attributes[sc.USAGE_OUTPUT_TOKENS] == 87


async def test_content_on_events_only(instrument: Any, async_client: bool) -> None:
    """EVENT_ONLY: the details event holds structured instructions, input and output; the span holds none."""
    t = instrument(capture_content="EVENT_ONLY")
    client = make_client(serve("responses/text.json"), async_client=async_client)
    await resolve(client.responses.create(model=MODEL, input="Capital?", instructions="Be brief."))
    assert sc.INPUT_MESSAGES not in t.only_span().attributes
    (record,) = [r for r in t.log_records() if r.event_name == sc.EVENT_OPERATION_DETAILS]
    content = {k: event_value(v) for k, v in record.attributes.items()}
    assert content[sc.SYSTEM_INSTRUCTIONS] == [{"type": "text", "content": "Be brief."}]
    assert content[sc.INPUT_MESSAGES] == [{"role": "user", "parts": [{"type": "text", "content": "Capital?"}]}]
    assert content[sc.OUTPUT_MESSAGES][0]["parts"][-1] == {"type": "text", "content": "Paris."}
    assert record.attributes[sc.OPENAI_API_TYPE] == "responses"


def test_nothing_kept_after_the_stream_ends(instrument: Any) -> None:
    """Once a traced stream is drained and dropped, no response object from it stays alive anywhere."""
    instrument(capture_content="SPAN_ONLY")
    client = make_client(serve("responses/stream_text.sse"))
    stream = client.responses.create(model=MODEL, input="hi", stream=True)
    events = list(stream)
    final = weakref.ref(events[-1].response)
    del stream, events
    gc.collect()
    assert final() is None


def _beta_responses(client: Any) -> Any:
    beta = getattr(client.beta, "responses", None)
    if beta is None:
        pytest.skip("client.beta.responses (paths with ?beta=true) exists in recent openai 3.x only")
    return beta


async def test_beta_responses_are_traced(instrument: Any, async_client: bool) -> None:
    """client.beta.responses (openai 3.x) sends `/responses?beta=true`: create is a `chat` span with its usage
    (cache writes included) and retrieve a `fetch_response` span, like the stable API."""
    seen: list[Any] = []
    t = instrument()
    client = make_client(serve("responses/text.json", seen), async_client=async_client)
    beta = _beta_responses(client)
    await resolve(beta.create(model=MODEL, input="hi"))
    await resolve(beta.retrieve("resp_abc123"))
    assert [r.url.query for r in seen] == [b"beta=true", b"beta=true"]
    create, fetch = t.finished_spans()
    assert (create.name, fetch.name) == (f"chat {MODEL}", "fetch_response")
    assert create.attributes[sc.USAGE_CACHE_WRITE_INPUT_TOKENS] == 0
    assert create.attributes[sc.USAGE_INPUT_TOKENS] == 36
    assert fetch.attributes[sc.RESPONSE_ID] == "resp_abc123"
    assert sc.USAGE_INPUT_TOKENS not in fetch.attributes
