"""A canned chat server and the five kinds of call the fault, concurrency and soak suites repeat."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import http

MODEL = "gpt-4o-mini"
ERROR_MODEL = "rate-limited"
KINDS = ("plain", "stream", "abandoned", "raw", "error")


def completion(text: str = "Hello there", model: str = MODEL) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8},
    }


def chunks(pieces: tuple[str, ...] = ("Hel", "lo", " there"), model: str = MODEL) -> list[dict[str, Any]]:
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": model}
    out = [{**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]} for p in pieces]
    out.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    out.append({**base, "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}})
    return out


def sse_bytes(events: list[dict[str, Any]]) -> bytes:
    return "".join(f"data: {json.dumps(e)}\n\n" for e in [*events, "[DONE]"]).replace(
        'data: "[DONE]"', "data: [DONE]").encode()


_ERROR = {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}


def chat_server(request: Any) -> Any:
    """Answers like the chat endpoint: a stream when asked for one, a 429 for ``ERROR_MODEL``.

    The model in the answer echoes the request's, so concurrent callers can check they got their own.
    """
    body = json.loads(request.content or b"{}")
    model = body.get("model", MODEL)
    if model == ERROR_MODEL:
        return http.Response(429, json=_ERROR)
    text = body.get("messages", [{}])[-1].get("content", "Hello there")
    if body.get("stream"):
        return http.Response(200, content=sse_bytes(chunks((text[:3], text[3:]), model)),
                             headers={"content-type": "text/event-stream"})
    return http.Response(200, json=completion(text, model))


def call(client: Any, kind: str, text: str = "Hello there", model: str = MODEL) -> Any:
    """One sync call of ``kind``; returns what the user got (the content, or the error type)."""
    messages = [{"role": "user", "content": text}]
    chat = client.chat.completions
    if kind == "plain":
        return chat.create(model=model, messages=messages).choices[0].message.content
    if kind == "stream":
        stream = chat.create(model=model, messages=messages, stream=True)
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    if kind == "abandoned":
        stream = chat.create(model=model, messages=messages, stream=True)
        first = next(iter(stream)).choices[0].delta.content
        del stream  # dropped half-read: the span ends when the proxy is collected
        return first
    if kind == "raw":
        raw = chat.with_raw_response.create(model=model, messages=messages)
        return raw.parse().choices[0].message.content
    try:
        chat.create(model=ERROR_MODEL, messages=messages)
    except Exception as exc:
        return type(exc).__name__
    raise AssertionError("the error call succeeded")


async def acall(client: Any, kind: str, text: str = "Hello there", model: str = MODEL) -> Any:
    """The async twin of ``call`` (streams read to the end, or closed half-read for ``abandoned``)."""
    messages = [{"role": "user", "content": text}]
    chat = client.chat.completions
    if kind == "plain":
        return (await chat.create(model=model, messages=messages)).choices[0].message.content
    if kind in ("stream", "abandoned"):
        stream = await chat.create(model=model, messages=messages, stream=True)
        parts = []
        async for chunk in stream:
            parts.extend(c.delta.content or "" for c in chunk.choices)
            if kind == "abandoned":
                await stream.close()
                break
        return "".join(parts)
    if kind == "raw":
        raw = await chat.with_raw_response.create(model=model, messages=messages)
        return raw.parse().choices[0].message.content
    try:
        await chat.create(model=ERROR_MODEL, messages=messages)
    except Exception as exc:
        return type(exc).__name__
    raise AssertionError("the error call succeeded")
