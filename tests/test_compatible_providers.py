"""End to end: OpenAI-compatible servers reached through base_url, their provider names and their quirks."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from otel_openai import _semconv as sc
from tests.conftest import http, json_response, make_client, resolve

MESSAGES = [{"role": "user", "content": "Hi"}]
QUIRKY_CHAT = {  # Ollama/vLLM-style: nulls where OpenAI sends values, extra fields, no usage
    "id": None, "object": "chat.completion", "created": 0, "model": None, "x_backend": {"gpu": "a100"},
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello", "reasoning_content": "hm"},
                 "finish_reason": None, "logprobs": None, "stop_reason": 42}],
}


def ok(request: Any) -> Any:
    return json_response(QUIRKY_CHAT)


@pytest.mark.parametrize(("base_url", "provider", "port"), [
    ("https://api.groq.com/openai/v1", "groq", 443),
    ("https://api.deepseek.com/v1", "deepseek", 443),
    ("https://api.mistral.ai/v1", "mistral_ai", 443),
    ("https://api.x.ai/v1", "x_ai", 443),
    ("https://openrouter.ai/api/v1", "openai", 443),  # no well-known provider value: `openai`
    ("https://api.together.xyz/v1", "openai", 443),
    ("https://api.perplexity.ai", "perplexity", 443),
    ("https://generativelanguage.googleapis.com/v1beta/openai/", "gcp.gemini", 443),
    ("http://localhost:11434/v1", "openai", 11434),  # Ollama: the host proves nothing, so `openai`
    ("http://vllm.internal/v1", "openai", 80),
])
async def test_provider_by_host(instrument: Any, async_client: bool, base_url: str, provider: str,
                                port: int) -> None:
    """A well-known host names its provider; any other host is reported as `openai`, the API it speaks."""
    t = instrument()
    client = make_client(ok, async_client=async_client, base_url=base_url)
    await resolve(client.chat.completions.create(model="m", messages=MESSAGES))
    attrs = t.only_span().attributes
    assert attrs[sc.PROVIDER_NAME] == provider
    assert attrs[sc.SERVER_PORT] == port


async def test_provider_override(instrument: Any, async_client: bool) -> None:
    """instrument(provider_name=) names the provider for every client, whatever the host."""
    t = instrument(provider_name="ollama")
    client = make_client(ok, async_client=async_client, base_url="http://localhost:11434/v1")
    await resolve(client.chat.completions.create(model="llama3", messages=MESSAGES))
    assert t.only_span().attributes[sc.PROVIDER_NAME] == "ollama"


async def test_quirky_chat_response(instrument: Any, async_client: bool) -> None:
    """Null id/model/finish reason, extra fields and no usage never break the call or the span."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(ok, async_client=async_client)
    result = await resolve(client.chat.completions.create(model="llama3", messages=MESSAGES))
    assert result.choices[0].message.content == "Hello"
    attrs = t.only_span().attributes
    assert sc.RESPONSE_ID not in attrs and sc.RESPONSE_MODEL not in attrs
    assert sc.USAGE_INPUT_TOKENS not in attrs
    assert json.loads(attrs[sc.OUTPUT_MESSAGES])[0]["parts"][0] == {"type": "text", "content": "Hello"}
    assert t.metric_points(sc.METRIC_TOKEN_USAGE) == []
    assert len(t.metric_points(sc.METRIC_OPERATION_DURATION)) == 1


async def test_quirky_chat_stream(instrument: Any, async_client: bool) -> None:
    """A stream with null ids, empty choices, no usage and no finish reason ends cleanly."""
    chunks = [{"id": None, "object": "chat.completion.chunk", "created": 0, "model": None,
               "choices": [{"index": 0, "delta": {"content": "He"}, "finish_reason": None}]},
              {"id": None, "object": "chat.completion.chunk", "created": 0, "model": None, "choices": []},
              {"id": None, "object": "chat.completion.chunk", "created": 0, "model": None, "usage": None,
               "choices": [{"index": 0, "delta": {"content": None, "tool_calls": None}, "finish_reason": None}]}]
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(lambda r: http.Response(200, content=body.encode(),
                                                 headers={"content-type": "text/event-stream"}),
                         async_client=async_client)
    stream = await resolve(client.chat.completions.create(model="m", messages=MESSAGES, stream=True))
    received = [c async for c in stream] if async_client else list(stream)
    assert len(received) == 3
    attrs = t.only_span().attributes
    assert sc.RESPONSE_ID not in attrs and sc.USAGE_OUTPUT_TOKENS not in attrs


@pytest.mark.skipif(not hasattr(openai.OpenAI, "responses"),
                    reason="the Responses API arrived in openai 1.66; this SDK lacks it")
async def test_quirky_responses_response(instrument: Any, async_client: bool) -> None:
    """A Responses server that omits usage and sends an unknown output item type still yields a span; the
    item is kept as a generic part."""
    body = {"id": "r1", "object": "response", "created_at": 0, "status": "completed", "model": "m",
            "output": [{"type": "vendor_thing", "id": "x", "payload": {"a": 1}}], "parallel_tool_calls": True,
            "tool_choice": "auto", "tools": [], "usage": None}
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(lambda r: json_response(body), async_client=async_client)
    await resolve(client.responses.create(model="m", input="hi"))
    attrs = t.only_span().attributes
    assert sc.USAGE_INPUT_TOKENS not in attrs
    (message,) = json.loads(attrs[sc.OUTPUT_MESSAGES])
    assert message["parts"] == [{"type": "generic", "generic_type": "vendor_thing", "id": "x", "payload": {"a": 1}}]


async def test_untraced_endpoints_make_no_span(instrument: Any, async_client: bool) -> None:
    """Files, models and batches go through the same choke point but produce no span and no metric."""
    def handler(request: Any) -> Any:
        if request.url.path.endswith("/models"):
            return json_response({"object": "list", "data": []})
        if request.url.path.endswith("/files"):
            return json_response({"object": "list", "data": [], "has_more": False})
        return json_response({"object": "list", "data": [], "has_more": False})
    t = instrument()
    client = make_client(handler, async_client=async_client)
    await resolve(client.models.list())
    await resolve(client.files.list())
    await resolve(client.batches.list())
    assert t.finished_spans() == []
    assert t.metric_points(sc.METRIC_OPERATION_DURATION) == []
