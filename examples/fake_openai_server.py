"""A loopback OpenAI-compatible HTTP server for demos and tests: standard library only, no API key, no network.

Stable API (the demo, the agent tests and the end-to-end tests rely on it)::

    from fake_openai_server import FakeOpenAIServer

    with FakeOpenAIServer() as server:          # port 0: a free port; binds 127.0.0.1 only
        client = openai.OpenAI(base_url=server.base_url, api_key="unused")
        ...
        server.requests                        # [{"method", "path", "body"}, ...] in arrival order

    server = FakeOpenAIServer(port=8123, latency=0.05).start()   # or start()/stop() by hand
    server.stop()

Command line: ``python examples/fake_openai_server.py --port 8123 [--latency 0.05]``.

Endpoints under ``/v1`` (all with realistic ids and ``usage``):

- ``POST /chat/completions``: plain and ``stream=True`` (Server-Sent Events; a final usage chunk when
  ``stream_options.include_usage``), ``n`` choices. When ``tools`` declare ``get_weather`` and the last
  message is the user's, the answer is one tool call ``get_weather({"city": ...})`` per known city the
  question names (Tokyo, Paris, London, New York, Berlin, Sydney; Tokyo when none is named), in parallel when
  it names several; when the last messages are tool results, the answer uses them ("The weather in Tokyo is
  sunny."); otherwise the answer echoes the last user message. An Agents SDK handoff tool
  (``transfer_to_<agent>``) without ``get_weather`` is called for a user question, and after its result the
  receiving agent answers as above; so is an agent offered as a tool (``ask_<name>``), with the question as
  its ``input``.
- ``POST /responses``: the same conversation logic for the Responses API (``function_call`` output items,
  ``function_call_output`` inputs), plain and streamed as typed events.
- ``POST /embeddings``: deterministic vectors (``dimensions`` or 1536), ``float`` or ``base64``.
- ``POST /completions``: legacy completions, plain and streamed.
- ``GET /models``: one model list.
- ``POST /traces/ingest``: accepts the Agents SDK's own trace export (its exporter pointed here).

Structured output: a ``json_schema`` response format (chat ``response_format``, Responses ``text.format``)
gets a JSON answer that fits the schema, and a ``tool_choice`` that forces a function (``"required"`` or by
name) gets a call to it with arguments that fit its parameters (string fields named like ``city`` hold the
city of the question).

A model named ``error-<status>`` (``error-429``, ``error-500``, ...), or a request with the header
``x-fake-error: <status>`` (for clients that only accept model names they know), answers with that status
and an OpenAI-style error body; ``latency`` (seconds) delays each response and each streamed event.
``FakeOpenAIServer(stable=True)`` makes ids and timestamps a function of the request body, so the same
requests get the same answers byte for byte (tests that compare two runs use it).
"""

from __future__ import annotations

import argparse
import base64
import functools
import hashlib
import itertools
import json
import re
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Optional

__all__ = ["CITIES", "FakeOpenAIServer"]

CITIES = ("Tokyo", "Paris", "London", "New York", "Berlin", "Sydney")
_ERROR_MODEL = re.compile(r"^error-(\d{3})$")
_ERROR_STATUS = re.compile(r"^(\d{3})$")
_ERRORS = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", "model_not_found"),
    429: ("requests", "rate_limit_exceeded"),
}
_counter = itertools.count(1)
# Set per request (each runs on its own thread) by a stable server: ids and timestamps derive from the body.
_stable = threading.local()
_STABLE_TIME = 1767225600  # 2026-01-01T00:00:00Z


def _id(prefix: str) -> str:
    seed = getattr(_stable, "seed", None)
    if seed is not None:
        _stable.n += 1
        return f"{prefix}{hashlib.sha1(f'{seed}:{_stable.n}'.encode()).hexdigest()[:24]}"
    return f"{prefix}{next(_counter):06d}{hashlib.sha1(str(time.time_ns()).encode()).hexdigest()[:18]}"


def _now() -> int:
    return _STABLE_TIME if getattr(_stable, "seed", None) is not None else int(time.time())


def _tokens(text: str) -> int:
    """Roughly what a BPE tokenizer gives for English: one token per four characters, at least one."""
    return max(1, (len(text) + 3) // 4)


def _text_of(content: Any) -> str:
    """The text of a message's content: a string, or a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def _tool_names(tools: Any) -> list[str]:
    names = []
    for tool in tools or []:
        function = tool.get("function", tool) if isinstance(tool, dict) else {}
        names.append(str(function.get("name", "")))
    return names


def _has_weather_tool(tools: Any) -> bool:
    return "get_weather" in _tool_names(tools)


def _handoff_tool(tools: Any) -> Optional[str]:
    """The first handoff the caller offers: the Agents SDK names them ``transfer_to_<agent>``."""
    return next((name for name in _tool_names(tools) if name.startswith("transfer_to_")), None)


# --- the conversation logic, shared by chat completions and responses --------------------------------

Calls = list[tuple[str, str]]  # (function name, JSON arguments)


def _reply(turns: list[tuple[str, str]], tools: Any) -> tuple[str, Any]:
    """Decide the answer from ``(role, text)`` turns: ("calls", [(name, arguments), ...]) or ("text", answer).

    A user question (or a handoff's result) gets one ``get_weather`` call per city it names when that tool is
    offered, else a handoff call when one is offered; tool results get an answer that uses them."""
    if not turns:
        return "text", "Hello! How can I help you today?"
    role, text = turns[-1]
    if role == "tool":
        results = [t for _, t in _trailing(turns, "tool")]
        cities = [t for r, t in turns if r == "tool_call_city"][-len(results):]
        answers = [f"The weather {f'in {c} ' if c else ''}is {r.strip()}." for c, r in zip(cities, results)]
        return "text", " ".join(answers) or f"The weather is {text.strip()}."
    user = next((t for r, t in reversed(turns) if r == "user"), "")
    if role in ("user", "handoff_output") and _has_weather_tool(tools):
        return "calls", [("get_weather", json.dumps({"city": city})) for city in _find_cities(user)]
    handoff = _handoff_tool(tools)
    if role == "user" and handoff:
        return "calls", [(handoff, "{}")]
    asked = next((name for name in _tool_names(tools) if name.startswith("ask_")), None)
    if role == "user" and asked:
        return "calls", [(asked, json.dumps({"input": user}))]
    return "text", f"You said: {user}" if user else "Hello! How can I help you today?"


def _trailing(turns: list[tuple[str, str]], role: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for turn in reversed(turns):
        if turn[0] != role:
            break
        found.insert(0, turn)
    return found


def _find_cities(text: str) -> list[str]:
    """Every known city the text names, in the order named; Tokyo when it names none."""
    lowered = text.lower()
    named = sorted((lowered.find(c.lower()), c) for c in CITIES if c.lower() in lowered)
    return [c for _, c in named] or [CITIES[0]]


def _call_turn(name: str, arguments: Any) -> tuple[str, str]:
    return ("handoff", name) if name.startswith("transfer_to_") else ("tool_call_city", _city_argument(arguments))


def _answer(body: dict[str, Any], turns: list[tuple[str, str]], tools: list[dict[str, Any]],
            schema: Any) -> tuple[str, Any]:
    """The answer: ("calls", [(name, JSON arguments), ...]) or ("text", text). ``tools`` are
    ``{"name", "parameters"}``; ``schema`` is the JSON schema the answer must fit, if any."""
    city = _find_cities(next((t for r, t in reversed(turns) if r == "user"), ""))[0]
    forced = _forced_tool(body.get("tool_choice"), tools, turns)
    kind, value = _reply(turns, body.get("tools"))
    if kind == "calls" and (forced is None or any(name == forced["name"] for name, _ in value)):
        return kind, value
    if forced is not None:
        return "calls", [(forced["name"], json.dumps(_instance(forced.get("parameters") or {}, city)))]
    if schema is not None:
        return "text", json.dumps(_instance(schema, city))
    return kind, value


def _forced_tool(choice: Any, tools: list[dict[str, Any]], turns: list[tuple[str, str]]) -> Any:
    """The tool a ``tool_choice`` forces: the one named, or for "required" the first that is not the
    weather tool once the weather is known."""
    if isinstance(choice, dict):
        name = (choice.get("function") or choice).get("name")
        return next((t for t in tools if t["name"] == name), None)
    if choice == "required" and tools:
        weather = [t for t in tools if t["name"] == "get_weather"]
        others = [t for t in tools if t["name"] != "get_weather"]
        answered = bool(turns) and turns[-1][0] == "tool"
        return weather[0] if weather and (not answered or not others) else others[0]
    return None


def _instance(schema: Any, city: str, root: Any = None, name: str = "", depth: int = 0) -> Any:
    """A small value that fits a JSON schema: strings are the city (for fields named like it) or "sunny",
    numbers 21, booleans true, arrays one item, objects every property."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > 8:
        return None
    if "$ref" in schema:
        target: Any = root
        for part in str(schema["$ref"]).lstrip("#/").split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return _instance(target, city, root, name, depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key) or [] if not (isinstance(o, dict) and o.get("type") == "null")]
        if options:
            return _instance(options[0], city, root, name, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), "null") if isinstance(kind, list) else kind
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties") or {}
        return {key: _instance(sub, city, root, key, depth + 1) for key, sub in properties.items()}
    if kind == "array":
        return [_instance(schema.get("items") or {}, city, root, name, depth + 1)]
    scalars = {"string": city if "city" in name.lower() else "sunny", "integer": 21, "number": 21, "boolean": True}
    return scalars.get(str(kind))


def _chat_tools(tools: Any) -> list[dict[str, Any]]:
    return [{"name": t["function"].get("name"), "parameters": t["function"].get("parameters")}
            for t in tools or [] if isinstance(t, dict) and isinstance(t.get("function"), dict)]


def _responses_tools(tools: Any) -> list[dict[str, Any]]:
    return [{"name": t.get("name"), "parameters": t.get("parameters")}
            for t in tools or [] if isinstance(t, dict) and t.get("type") == "function"]


def _json_schema(fmt: Any) -> Any:
    """The schema of a ``json_schema`` format (chat nests it under ``json_schema``); any object for
    ``json_object``."""
    if not isinstance(fmt, dict) or fmt.get("type") not in ("json_object", "json_schema"):
        return None
    return (fmt.get("json_schema") or fmt).get("schema") or {"type": "object"}


def _chat_answer(body: dict[str, Any]) -> tuple[str, Any]:
    return _answer(body, _chat_turns(body.get("messages")), _chat_tools(body.get("tools")),
                   _json_schema(body.get("response_format")))


def _chat_turns(messages: Any) -> list[tuple[str, str]]:
    turns: list[tuple[str, str]] = []
    handoffs: set[str] = set()
    for message in messages or []:
        role, text = message.get("role", "user"), _text_of(message.get("content"))
        for call in message.get("tool_calls") or []:
            function = call.get("function", {})
            turns.append(_call_turn(str(function.get("name", "")), function.get("arguments")))
            if turns[-1][0] == "handoff":
                handoffs.add(str(call.get("id")))
        if role == "tool" and message.get("tool_call_id") in handoffs:
            turns.append(("handoff_output", text))
        elif text or role != "assistant":
            turns.append((role, text))
    return turns


def _city_argument(arguments: Any) -> str:
    try:
        return str(json.loads(arguments or "{}").get("city", ""))
    except (ValueError, AttributeError):
        return ""


def _responses_turns(body: dict[str, Any]) -> list[tuple[str, str]]:
    items = body.get("input")
    if isinstance(items, str):
        return [("user", items)]
    turns: list[tuple[str, str]] = []
    handoffs: set[str] = set()
    for item in items or []:
        kind = item.get("type", "message")
        if kind == "function_call":
            turns.append(_call_turn(str(item.get("name", "")), item.get("arguments")))
            if turns[-1][0] == "handoff":
                handoffs.add(str(item.get("call_id")))
        elif kind == "function_call_output":
            role = "handoff_output" if item.get("call_id") in handoffs else "tool"
            turns.append((role, str(item.get("output", ""))))
        elif kind == "message":
            turns.append((item.get("role", "user"), _text_of(item.get("content"))))
    return turns


def _prompt_tokens(body: dict[str, Any]) -> int:
    return 7 + _tokens(json.dumps(body.get("messages") or body.get("input") or body.get("prompt") or "")) + (
        _tokens(json.dumps(body["tools"])) if body.get("tools") else 0)


# --- chat completions --------------------------------------------------------------------------------


def _chat_message(kind: str, value: Any) -> tuple[dict[str, Any], str, int]:
    if kind == "calls":
        calls = [{"id": _id("call_"), "type": "function", "function": {"name": name, "arguments": arguments}}
                 for name, arguments in value]
        return {"role": "assistant", "content": None, "tool_calls": calls, "refusal": None}, "tool_calls", 17
    return {"role": "assistant", "content": value, "refusal": None}, "stop", _tokens(value)


def _chat_envelope(body: dict[str, Any], object_name: str) -> dict[str, Any]:
    return {"id": _id("chatcmpl-"), "object": object_name, "created": _now(),
            "model": _response_model(body), "system_fingerprint": "fp_fake0001", "service_tier": "default"}


def _response_model(body: dict[str, Any]) -> str:
    model = str(body.get("model") or "gpt-4o-mini")
    return "gpt-4o-mini-2024-07-18" if model == "gpt-4o-mini" else model


def _usage(prompt: int, completion: int) -> dict[str, Any]:
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0}}


def chat_completion(body: dict[str, Any]) -> dict[str, Any]:
    kind, value = _chat_answer(body)
    message, finish, completion = _chat_message(kind, value)
    n = int(body.get("n") or 1)
    choices = [{"index": i, "message": message, "logprobs": None, "finish_reason": finish} for i in range(n)]
    return {**_chat_envelope(body, "chat.completion"), "choices": choices,
            "usage": _usage(_prompt_tokens(body), completion * n)}


def chat_chunks(body: dict[str, Any]) -> list[dict[str, Any]]:
    kind, value = _chat_answer(body)
    message, finish, completion = _chat_message(kind, value)
    envelope = _chat_envelope(body, "chat.completion.chunk")
    n = int(body.get("n") or 1)
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

    def chunk(index: int, delta: dict[str, Any], finish_reason: Optional[str] = None) -> dict[str, Any]:
        choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return {**envelope, "choices": [choice], **({"usage": None} if include_usage else {})}

    chunks = []
    for i in range(n):
        chunks.append(chunk(i, {"role": "assistant", "content": "" if kind == "text" else None,
                                "refusal": None}))
        for at, call in enumerate(message.get("tool_calls") or []):
            name, args = call["function"]["name"], call["function"]["arguments"]
            chunks.append(chunk(i, {"tool_calls": [{"index": at, "id": call["id"], "type": "function",
                                                    "function": {"name": name, "arguments": ""}}]}))
            for piece in (args[: len(args) // 2], args[len(args) // 2:]):
                chunks.append(chunk(i, {"tool_calls": [{"index": at, "function": {"arguments": piece}}]}))
        if kind == "text":
            for piece in re.findall(r"\S+\s*", value):
                chunks.append(chunk(i, {"content": piece}))
        chunks.append(chunk(i, {}, finish))
    if include_usage:
        chunks.append({**envelope, "choices": [], "usage": _usage(_prompt_tokens(body), completion * n)})
    return chunks


# --- responses ---------------------------------------------------------------------------------------


def _responses_output(body: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    kind, value = _answer(body, _responses_turns(body), _responses_tools(body.get("tools")),
                          _json_schema((body.get("text") or {}).get("format")))
    if kind == "calls":
        return [{"type": "function_call", "id": _id("fc_"), "call_id": _id("call_"), "name": name,
                 "arguments": arguments, "status": "completed"} for name, arguments in value], 17
    text = {"type": "output_text", "text": value, "annotations": [], "logprobs": []}
    item = {"type": "message", "id": _id("msg_"), "role": "assistant", "status": "completed", "content": [text]}
    return [item], _tokens(value)


def response(body: dict[str, Any], status: str = "completed") -> dict[str, Any]:
    output, completion = _responses_output(body)
    prompt = _prompt_tokens(body)
    return {
        "id": _id("resp_"), "object": "response", "created_at": _now(), "status": status,
        "model": _response_model(body), "output": output, "parallel_tool_calls": True,
        "tool_choice": body.get("tool_choice", "auto"), "tools": body.get("tools", []),
        "temperature": body.get("temperature", 1.0), "top_p": body.get("top_p", 1.0),
        "instructions": body.get("instructions"), "previous_response_id": body.get("previous_response_id"),
        "error": None, "incomplete_details": None, "metadata": {}, "service_tier": "default",
        "text": {"format": {"type": "text"}}, "truncation": "disabled",
        "usage": {"input_tokens": prompt, "output_tokens": completion, "total_tokens": prompt + completion,
                  "input_tokens_details": {"cached_tokens": 0},
                  "output_tokens_details": {"reasoning_tokens": 0}},
    }


def response_events(body: dict[str, Any]) -> list[dict[str, Any]]:
    final = response(body)
    pending = {**final, "status": "in_progress", "output": [], "usage": None}
    events: list[dict[str, Any]] = [{"type": "response.created", "response": pending},
                                    {"type": "response.in_progress", "response": pending}]
    for index, item in enumerate(final["output"]):
        events.extend(_item_events(index, item))
    events.append({"type": "response.completed", "response": final})
    return [{**event, "sequence_number": n} for n, event in enumerate(events)]


def _item_events(index: int, item: dict[str, Any]) -> list[dict[str, Any]]:
    where = {"output_index": index, "item_id": item["id"]}
    if item["type"] == "function_call":
        return [{"type": "response.output_item.added", "output_index": index,
                 "item": {**item, "arguments": "", "status": "in_progress"}},
                {"type": "response.function_call_arguments.delta", **where, "delta": item["arguments"]},
                {"type": "response.function_call_arguments.done", **where, "arguments": item["arguments"]},
                {"type": "response.output_item.done", "output_index": index, "item": item}]
    text = item["content"][0]["text"]
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    events = [{"type": "response.output_item.added", "output_index": index,
               "item": {**item, "status": "in_progress", "content": []}},
              {"type": "response.content_part.added", **where, "content_index": 0, "part": part}]
    for piece in re.findall(r"\S+\s*", text):
        events.append({"type": "response.output_text.delta", **where, "content_index": 0, "delta": piece,
                       "logprobs": []})
    events += [{"type": "response.output_text.done", **where, "content_index": 0, "text": text, "logprobs": []},
               {"type": "response.content_part.done", **where, "content_index": 0,
                "part": item["content"][0]},
               {"type": "response.output_item.done", "output_index": index, "item": item}]
    return events


# --- embeddings and legacy completions ---------------------------------------------------------------


def _vector(text: str, dimensions: int) -> list[float]:
    seed = hashlib.sha256(text.encode()).digest()
    raw = [seed[i % len(seed)] ^ (i * 37 % 251) for i in range(dimensions)]
    norm = sum(v * v for v in raw) ** 0.5 or 1.0
    return [round(v / norm, 6) for v in raw]


def embeddings(body: dict[str, Any]) -> dict[str, Any]:
    inputs = body.get("input")
    texts = [inputs] if isinstance(inputs, str) else [str(i) for i in inputs or []]
    dimensions = int(body.get("dimensions") or 1536)
    data = []
    for index, text in enumerate(texts):
        vector = _vector(text, dimensions)
        if body.get("encoding_format") == "base64":
            encoded: Any = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
        else:
            encoded = vector
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    prompt = sum(_tokens(t) for t in texts)
    return {"object": "list", "data": data, "model": str(body.get("model") or "text-embedding-3-small"),
            "usage": {"prompt_tokens": prompt, "total_tokens": prompt}}


def completion(body: dict[str, Any]) -> dict[str, Any]:
    prompt = body.get("prompt")
    text = " and that is all." if isinstance(prompt, str) and prompt else " Hello."
    return {"id": _id("cmpl-"), "object": "text_completion", "created": _now(),
            "model": str(body.get("model") or "gpt-3.5-turbo-instruct"), "system_fingerprint": "fp_fake0001",
            "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": _tokens(str(prompt or "")), "completion_tokens": _tokens(text),
                      "total_tokens": _tokens(str(prompt or "")) + _tokens(text)}}


def completion_chunks(body: dict[str, Any]) -> list[dict[str, Any]]:
    full = completion(body)
    envelope = {k: v for k, v in full.items() if k not in ("choices", "usage")}
    pieces = re.findall(r"\s*\S+", full["choices"][0]["text"])
    chunks = [{**envelope, "choices": [{"index": 0, "text": p, "logprobs": None, "finish_reason": None}]}
              for p in pieces]
    chunks.append({**envelope, "choices": [{"index": 0, "text": "", "logprobs": None, "finish_reason": "stop"}]})
    if (body.get("stream_options") or {}).get("include_usage"):
        chunks.append({**envelope, "choices": [], "usage": full["usage"]})
    return chunks


def error_body(status: int, model: str) -> dict[str, Any]:
    kind, code = _ERRORS.get(status, ("server_error", None))
    message = (f"Rate limit reached for {model}: please try again shortly." if status == 429
               else f"The fake server answered {status} for model {model!r}, as asked.")
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


# --- HTTP ----------------------------------------------------------------------------------------------

_ROUTES = {
    "/v1/chat/completions": (chat_completion, chat_chunks),
    "/v1/responses": (response, response_events),
    "/v1/completions": (completion, completion_chunks),
    "/v1/embeddings": (embeddings, None),
    # The Agents SDK's own trace exporter, pointed here: accepted and kept in ``requests``.
    "/v1/traces/ingest": (lambda body: {}, None),
}


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    # One request per connection: nothing lingers after a test stops the server.
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests and the demo own the terminal
        return

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self._json(200, {"object": "list", "data": [
                {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"}]})
        else:
            self._json(404, {"error": {"message": f"Unknown path {self.path}", "type": "invalid_request_error",
                                       "param": None, "code": "unknown_url"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            body = {}
        path = self.path.split("?", 1)[0]
        self.server.owner.requests.append({"method": "POST", "path": path, "body": body})
        if self.server.owner.stable:
            _stable.seed, _stable.n = hashlib.sha1(json.dumps(body, sort_keys=True).encode()).hexdigest(), 0
        try:
            self._answer(path, body)
        finally:
            _stable.seed = None

    def _answer(self, path: str, body: dict[str, Any]) -> None:
        self._delay()
        route = _ROUTES.get(path)
        failure = _ERROR_MODEL.match(str(body.get("model", ""))) or _ERROR_STATUS.match(
            self.headers.get("x-fake-error") or "")
        if route is None:
            self.do_GET()
        elif failure:
            status = int(failure.group(1))
            self._json(status, error_body(status, str(body.get("model"))), {"retry-after-ms": "10"})
        elif body.get("stream") and route[1] is not None:
            self._sse(route[1](body), typed=path == "/v1/responses")
        else:
            self._json(200, route[0](body))

    def _delay(self) -> None:
        if self.server.owner.latency:
            time.sleep(self.server.owner.latency)

    def _head(self, status: int, content_type: str, headers: Optional[dict[str, str]] = None) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("x-request-id", _id("req_"))
        self.send_header("openai-processing-ms", "42")
        for key, value in (headers or {}).items():
            self.send_header(key, value)

    def _json(self, status: int, payload: Any, headers: Optional[dict[str, str]] = None) -> None:
        data = json.dumps(payload).encode()
        self._head(status, "application/json", headers)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _sse(self, events: list[dict[str, Any]], typed: bool) -> None:
        self._head(200, "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.end_headers()
        for event in events:
            self._delay()
            prefix = f"event: {event['type']}\n" if typed else ""
            self.wfile.write(f"{prefix}data: {json.dumps(event)}\n\n".encode())
            self.wfile.flush()
        if not typed:
            self.wfile.write(b"data: [DONE]\n\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FakeOpenAIServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that drops a stream it stopped reading is normal traffic, not a server fault; printing it
        # would make stderr depend on how fast the client hung up.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeOpenAIServer:
    """The loopback server: ``with FakeOpenAIServer() as server: server.base_url``."""

    def __init__(self, port: int = 0, latency: float = 0.0, stable: bool = False) -> None:
        self.requested_port = port
        self.latency = latency
        self.stable = stable
        self.requests: list[dict[str, Any]] = []
        self._httpd: Optional[_Server] = None
        self._thread: Optional[threading.Thread] = None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("the server is not running")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """What to pass as ``base_url=`` (or ``OPENAI_BASE_URL``): ``http://127.0.0.1:<port>/v1``."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> FakeOpenAIServer:
        self._httpd = _Server(("127.0.0.1", self.requested_port), _Handler)
        self._httpd.owner = self
        # A short poll interval keeps stop() quick; serve_forever only checks for shutdown between polls.
        serve = functools.partial(self._httpd.serve_forever, poll_interval=0.05)
        self._thread = threading.Thread(target=serve, name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="A loopback OpenAI-compatible server for demos and tests.")
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds before each response and event")
    args = parser.parse_args()
    server = FakeOpenAIServer(args.port, args.latency).start()
    print(f"Fake OpenAI server on {server.base_url} (Ctrl-C to stop)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
