"""The benchmark scenarios: canned OpenAI responses behind an in-process mock transport, and the calls.

Self-contained on purpose (no import from tests/ or src/), so the same file runs in the peers' virtualenvs.
Every body is encoded once at import; a request costs the SDK's own work plus building one Response.
"""

from __future__ import annotations

import asyncio
import base64
import json
import random
import struct
from dataclasses import dataclass
from typing import Any, Callable

import openai

OPENAI_MAJOR = int(openai.__version__.split(".")[0])
if OPENAI_MAJOR >= 3:
    import httpx2 as http
else:
    import httpx as http  # type: ignore[no-redef]

BASE_URL = "http://openai.test:8080/v1"
MODEL = "gpt-4o-mini"
RESPONSE_MODEL = "gpt-4o-mini-2024-07-18"
STREAM_CHUNKS = 200  # content chunks; the usage chunk comes on top
SHORT_STREAM_CHUNKS = 20  # the same stream, shorter: the difference isolates the per-chunk cost
EMBED_INPUTS = 16
EMBED_DIMS = 1536

SYSTEM = ("You are a concise assistant for a travel agency. Answer in two or three sentences, cite the "
          "fare rules when relevant, and never invent prices. ") * 2
USER = ("I am flying from Lisbon to Montreal on the 14th with a stopover in Paris. Can I check a bag "
        "through to my final destination, and what happens if the first leg is delayed by three hours? ") * 2
TOKENS = [f"tok{i % 50} " for i in range(STREAM_CHUNKS)]
ANSWER = "".join(TOKENS)
TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"},
                                                         "unit": {"type": "string", "enum": ["c", "f"]}},
                       "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "get_time", "description": "Local time in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
]
CHAT_MESSAGES = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}]
USAGE = {"prompt_tokens": 96, "completion_tokens": STREAM_CHUNKS, "total_tokens": 96 + STREAM_CHUNKS,
         "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
         "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0}}


# --- canned bodies -------------------------------------------------------------------------------


def _chat_completion(message: dict[str, Any], finish_reason: str) -> bytes:
    return json.dumps({
        "id": "chatcmpl-bench", "object": "chat.completion", "created": 1_700_000_000, "model": RESPONSE_MODEL,
        "system_fingerprint": "fp_bench", "service_tier": "default",
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason, "logprobs": None}],
        "usage": USAGE,
    }).encode()


def _sse(events: list[Any], done: bool = True) -> bytes:
    lines = [f"data: {json.dumps(e)}\n\n" for e in events]
    if done:
        lines.append("data: [DONE]\n\n")
    return "".join(lines).encode()


def _chat_stream(chunks: int) -> bytes:
    def chunk(delta: dict[str, Any], finish: Any = None) -> dict[str, Any]:
        return {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1_700_000_000,
                "model": RESPONSE_MODEL, "system_fingerprint": "fp_bench", "service_tier": "default",
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}],
                "usage": None}

    events = [chunk({"role": "assistant", "content": TOKENS[0]} if i == 0 else {"content": TOKENS[i]},
                    "stop" if i == chunks - 1 else None) for i in range(chunks)]
    usage = chunk({})
    usage.update(choices=[], usage=USAGE)
    events.append(usage)
    return _sse(events)


def _tool_calls() -> bytes:
    calls = [{"id": f"call_{i}", "type": "function",
              "function": {"name": name, "arguments": json.dumps({"city": city})}}
             for i, (name, city) in enumerate([("get_weather", "Lisbon"), ("get_time", "Montreal")])]
    return _chat_completion({"role": "assistant", "content": None, "tool_calls": calls}, "tool_calls")


def _vectors() -> list[list[float]]:
    rng = random.Random(7)
    return [[rng.uniform(-0.1, 0.1) for _ in range(EMBED_DIMS)] for _ in range(EMBED_INPUTS)]


def _embeddings(encoding: str) -> bytes:
    data = []
    for i, vector in enumerate(_vectors()):
        value: Any = vector
        if encoding == "base64":
            value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": value})
    return json.dumps({"object": "list", "data": data, "model": "text-embedding-3-small",
                       "usage": {"prompt_tokens": 8 * EMBED_INPUTS, "total_tokens": 8 * EMBED_INPUTS}}).encode()


def _response_object(status: str, output: list[Any], usage: Any) -> dict[str, Any]:
    return {"id": "resp_bench", "object": "response", "created_at": 1_700_000_000, "status": status,
            "model": RESPONSE_MODEL, "output": output, "parallel_tool_calls": True, "tool_choice": "auto",
            "tools": [], "temperature": 0.2, "top_p": 1.0, "instructions": SYSTEM, "error": None,
            "incomplete_details": None, "metadata": {}, "service_tier": "default", "usage": usage,
            "text": {"format": {"type": "text"}}}


def _message_item(text: str) -> dict[str, Any]:
    return {"type": "message", "id": "msg_bench", "status": "completed", "role": "assistant",
            "content": [{"type": "output_text", "text": text, "annotations": []}]}


RESPONSES_USAGE = {"input_tokens": 96, "output_tokens": STREAM_CHUNKS, "total_tokens": 96 + STREAM_CHUNKS,
                   "input_tokens_details": {"cached_tokens": 0},
                   "output_tokens_details": {"reasoning_tokens": 0}}


def _responses() -> bytes:
    return json.dumps(_response_object("completed", [_message_item(ANSWER)], RESPONSES_USAGE)).encode()


def _responses_stream() -> bytes:
    seq = iter(range(10_000))
    item = _message_item("")
    item.update(status="in_progress", content=[])
    part = {"type": "output_text", "text": "", "annotations": []}
    events: list[dict[str, Any]] = [
        {"type": "response.created", "response": _response_object("in_progress", [], None)},
        {"type": "response.in_progress", "response": _response_object("in_progress", [], None)},
        {"type": "response.output_item.added", "output_index": 0, "item": item},
        {"type": "response.content_part.added", "item_id": "msg_bench", "output_index": 0,
         "content_index": 0, "part": part},
    ]
    events += [{"type": "response.output_text.delta", "item_id": "msg_bench", "output_index": 0,
                "content_index": 0, "delta": tok, "logprobs": []} for tok in TOKENS]
    done_part = {**part, "text": ANSWER}
    events += [
        {"type": "response.output_text.done", "item_id": "msg_bench", "output_index": 0, "content_index": 0,
         "text": ANSWER, "logprobs": []},
        {"type": "response.content_part.done", "item_id": "msg_bench", "output_index": 0,
         "content_index": 0, "part": done_part},
        {"type": "response.output_item.done", "output_index": 0, "item": _message_item(ANSWER)},
        {"type": "response.completed",
         "response": _response_object("completed", [_message_item(ANSWER)], RESPONSES_USAGE)},
    ]
    for event in events:
        event["sequence_number"] = next(seq)
    return _sse(events, done=False)


_JSON = {"content-type": "application/json", "x-request-id": "req_bench"}
_SSE = {"content-type": "text/event-stream", "x-request-id": "req_bench"}
BODIES: dict[str, tuple[bytes, dict[str, str]]] = {
    "chat": (_chat_completion({"role": "assistant", "content": ANSWER, "refusal": None}, "stop"), _JSON),
    "chat_stream": (_chat_stream(STREAM_CHUNKS), _SSE),
    "chat_stream_short": (_chat_stream(SHORT_STREAM_CHUNKS), _SSE),
    "tools": (_tool_calls(), _JSON),
    "embeddings_float": (_embeddings("float"), _JSON),
    "embeddings_base64": (_embeddings("base64"), _JSON),
    "responses": (_responses(), _JSON),
    "responses_stream": (_responses_stream(), _SSE),
}


def _body_key(request: Any) -> str:
    path = request.url.path
    payload = json.loads(request.content) if request.content else {}
    if path.endswith("/embeddings"):
        return "embeddings_" + payload.get("encoding_format", "float")
    if path.endswith("/responses"):
        return "responses_stream" if payload.get("stream") else "responses"
    if payload.get("tools"):
        return "tools"
    if payload.get("stream"):
        return "chat_stream_short" if payload.get("max_tokens") == SHORT_STREAM_CHUNKS else "chat_stream"
    return "chat"


def handler(request: Any) -> Any:
    body, headers = BODIES[_body_key(request)]
    return http.Response(200, content=body, headers=headers)


async def async_handler(request: Any) -> Any:
    return handler(request)


def make_clients() -> tuple[Any, Any]:
    """A sync and an async ``openai`` client over the mock transport, no retries."""
    kwargs: dict[str, Any] = {"api_key": "sk-bench", "base_url": BASE_URL, "max_retries": 0}
    sync = openai.OpenAI(http_client=http.Client(transport=http.MockTransport(handler)), **kwargs)
    async_ = openai.AsyncOpenAI(http_client=http.AsyncClient(transport=http.MockTransport(async_handler)),
                                **kwargs)
    return sync, async_


# --- the calls ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One user call. ``stream`` scenarios are consumed to the end; ``chunks`` counts what the user sees."""

    name: str
    operation: str
    request_model: str
    kwargs: dict[str, Any]
    resource: str  # "chat", "embeddings" or "responses"
    stream: bool = False
    chunks: int = 0


def _chat_kwargs(**extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": CHAT_MESSAGES, "temperature": 0.2, "max_tokens": STREAM_CHUNKS, **extra}


SCENARIOS: tuple[Scenario, ...] = (
    Scenario("chat", "chat", MODEL, _chat_kwargs(), "chat"),
    Scenario("chat_stream", "chat", MODEL,
             _chat_kwargs(stream=True, stream_options={"include_usage": True}), "chat",
             stream=True, chunks=STREAM_CHUNKS + 1),
    Scenario("chat_stream_short", "chat", MODEL,
             _chat_kwargs(stream=True, stream_options={"include_usage": True}, max_tokens=SHORT_STREAM_CHUNKS),
             "chat", stream=True, chunks=SHORT_STREAM_CHUNKS + 1),
    Scenario("tools", "chat", MODEL, _chat_kwargs(tools=TOOLS), "chat"),
    Scenario("embeddings_float", "embeddings", "text-embedding-3-small",
             {"model": "text-embedding-3-small", "input": [USER[:80]] * EMBED_INPUTS, "encoding_format": "float"},
             "embeddings"),
    Scenario("embeddings_base64", "embeddings", "text-embedding-3-small",
             {"model": "text-embedding-3-small", "input": [USER[:80]] * EMBED_INPUTS}, "embeddings"),
    Scenario("responses", "chat", MODEL,
             {"model": MODEL, "instructions": SYSTEM, "input": USER, "temperature": 0.2}, "responses"),
    Scenario("responses_stream", "chat", MODEL,
             {"model": MODEL, "instructions": SYSTEM, "input": USER, "temperature": 0.2, "stream": True},
             "responses", stream=True, chunks=STREAM_CHUNKS + 8),
)
BY_NAME = {s.name: s for s in SCENARIOS}


def method(client: Any, scenario: Scenario) -> Callable[..., Any]:
    if scenario.resource == "chat":
        return client.chat.completions.create  # type: ignore[no-any-return]
    if scenario.resource == "embeddings":
        return client.embeddings.create  # type: ignore[no-any-return]
    return client.responses.create  # type: ignore[no-any-return]


def sync_call(client: Any, scenario: Scenario, on_chunk: Callable[[], None] | None = None) -> Any:
    """Make the call as a user would; a stream is read to the end (``on_chunk`` runs after each item)."""
    result = method(client, scenario)(**scenario.kwargs)
    if not scenario.stream:
        return result
    for _item in result:
        if on_chunk is not None:
            on_chunk()
    return result


async def async_call(client: Any, scenario: Scenario, on_chunk: Callable[[], None] | None = None) -> Any:
    result = await method(client, scenario)(**scenario.kwargs)
    if not scenario.stream:
        return result
    async for _item in result:
        if on_chunk is not None:
            on_chunk()
    return result


def selfcheck() -> None:
    """Every scenario parses, sync and async, and streams yield the chunk count they claim."""
    sync, async_ = make_clients()
    for scenario in SCENARIOS:
        count = [0]

        def tick(count: list[int] = count) -> None:
            count[0] += 1

        sync_call(sync, scenario, tick)
        asyncio.run(async_call(async_, scenario, tick))
        if scenario.stream:
            assert count[0] == 2 * scenario.chunks, (scenario.name, count[0])
    print("ok", openai.__version__)


if __name__ == "__main__":
    selfcheck()
