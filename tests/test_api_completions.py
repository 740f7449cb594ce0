"""End to end: legacy completions (plain and streamed) over a mock transport."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from otel_openai import _semconv as sc
from tests.conftest import drain, json_response, make_client, resolve, serve

MODEL = "gpt-3.5-turbo-instruct"


async def test_completion_whole_span(instrument: Any, async_client: bool) -> None:
    """A legacy completion is a `text_completion {model}` span with sampling parameters and usage."""
    t = instrument()
    client = make_client(serve("completions/plain.json"), async_client=async_client)
    result = await resolve(client.completions.create(model=MODEL, prompt="Capital of France?", max_tokens=5,
                                                     temperature=0.2, stop="\n", seed=7))
    span = t.only_span()
    assert span.name == f"text_completion {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert dict(span.attributes) == {
        sc.OPERATION_NAME: "text_completion",
        sc.PROVIDER_NAME: "openai",
        sc.REQUEST_MODEL: MODEL,
        sc.SERVER_ADDRESS: "openai.test",
        sc.SERVER_PORT: 8080,
        sc.REQUEST_MAX_TOKENS: 5,
        sc.REQUEST_TEMPERATURE: 0.2,
        sc.REQUEST_STOP_SEQUENCES: ("\n",),
        sc.REQUEST_SEED: 7,
        sc.RESPONSE_ID: "cmpl_1",
        sc.RESPONSE_MODEL: MODEL,
        sc.OPENAI_RESPONSE_SYSTEM_FINGERPRINT: "fp_1",
        sc.RESPONSE_FINISH_REASONS: ("stop",),
        sc.USAGE_INPUT_TOKENS: 5,
        sc.USAGE_OUTPUT_TOKENS: 2,
    }
    assert result.choices[0].text == " Paris."


async def test_content_capture(instrument: Any, async_client: bool) -> None:
    """With capture on the prompt is a user message and each choice an assistant message."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(serve("completions/plain.json"), async_client=async_client)
    await resolve(client.completions.create(model=MODEL, prompt="Capital of France?"))
    attrs = t.only_span().attributes
    assert json.loads(attrs[sc.INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Capital of France?"}]}]
    assert json.loads(attrs[sc.OUTPUT_MESSAGES]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": " Paris."}]}]


async def test_stream(instrument: Any, async_client: bool) -> None:
    """A streamed completion stays an openai.Stream; the span ends at exhaustion with usage and text."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(serve("completions/stream.sse"), async_client=async_client)
    stream = await resolve(client.completions.create(model=MODEL, prompt="hi", stream=True,
                                                     stream_options={"include_usage": True}))
    assert isinstance(stream, (openai.Stream, openai.AsyncStream))
    chunks = await drain(stream)
    assert len(chunks) == 3
    attrs = t.only_span().attributes
    assert attrs[sc.REQUEST_STREAM] is True
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ("stop",)
    assert attrs[sc.USAGE_OUTPUT_TOKENS] == 2
    assert json.loads(attrs[sc.OUTPUT_MESSAGES])[0]["parts"] == [{"type": "text", "content": " Paris."}]
    assert len(t.metric_points(sc.METRIC_TIME_TO_FIRST_CHUNK)) == 1
    assert len(t.metric_points(sc.METRIC_TOKEN_USAGE)) == 2


async def test_stream_closed_early(instrument: Any, async_client: bool) -> None:
    """Closing a stream after one chunk ends the span once, with finish reason ``error`` and no usage."""
    t = instrument()
    client = make_client(serve("completions/stream.sse"), async_client=async_client)
    stream = await resolve(client.completions.create(model=MODEL, prompt="hi", stream=True))
    if async_client:
        await stream.__anext__()
        await stream.close()
    else:
        next(stream)
        stream.close()
    attrs = t.only_span().attributes
    assert attrs[sc.RESPONSE_ID] == "cmpl_1"
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ("error",) and sc.USAGE_INPUT_TOKENS not in attrs


async def test_error(instrument: Any, async_client: bool) -> None:
    """A 500 ends the span with error.type and status ERROR."""
    t = instrument()
    client = make_client(lambda r: json_response({"error": {"message": "boom"}}, 500), async_client=async_client)
    with pytest.raises(openai.InternalServerError):
        await resolve(client.completions.create(model=MODEL, prompt="hi"))
    span = t.only_span()
    assert span.attributes[sc.ERROR_TYPE] == "openai.InternalServerError"
    assert span.status.status_code is StatusCode.ERROR
