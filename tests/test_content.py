"""Captured content: where it goes in each capture mode, its shape, and the bounds that keep it valid JSON."""

from __future__ import annotations

import base64
import inspect
import json
from typing import Any

import pytest

from otel_openai import _semconv as sc
from otel_openai._content import JsonMemo, bounded, bounded_json, json_object, to_json
from tests.conftest import event_value, fixture_json, json_response, make_client

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40).decode()
WAV = base64.b64encode(b"RIFF" + b"\x00" * 60).decode()
TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]},
    },
}]
CONVERSATION: list[dict[str, Any]] = [
    {"role": "developer", "content": "You are a weather bot."},
    {"role": "user", "name": "ada", "content": [
        {"type": "text", "text": "What is in these pictures, and what is the weather?"},
        {"type": "image_url", "image_url": {"url": "https://example.com/paris.jpg", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
        {"type": "input_audio", "input_audio": {"data": WAV, "format": "wav"}},
    ]},
    {"role": "assistant", "content": None, "tool_calls": [{
        "id": "call_secret_1", "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"location\": \"Secretville\"}"},
    }]},
    {"role": "tool", "tool_call_id": "call_secret_1", "content": "Sunny in Secretville"},
]
EXPECTED_INPUT = [
    {"role": "developer", "parts": [{"type": "text", "content": "You are a weather bot."}]},
    {"role": "user", "name": "ada", "parts": [
        {"type": "text", "content": "What is in these pictures, and what is the weather?"},
        {"type": "uri", "modality": "image", "uri": "https://example.com/paris.jpg"},
        {"type": "generic", "generic_type": "blob", "modality": "image", "mime_type": "image/png",
         "byte_size": len(base64.b64decode(PNG)), "stripped_reason": "media_capture_off"},
        {"type": "generic", "generic_type": "blob", "modality": "audio", "mime_type": "audio/wav",
         "byte_size": len(base64.b64decode(WAV)), "stripped_reason": "media_capture_off"},
    ]},
    {"role": "assistant", "parts": [{"type": "tool_call", "id": "call_secret_1", "name": "get_weather",
                                     "arguments": {"location": "Secretville"}}]},
    {"role": "tool", "parts": [{"type": "tool_call_response", "id": "call_secret_1",
                                "response": {"value": "Sunny in Secretville"}}]},
]
EXPECTED_OUTPUT = [{"role": "assistant", "parts": [{
    "type": "tool_call", "id": "call_baX7cP6fq4TLnOcvSMCsmU0S", "name": "get_weather",
    "arguments": {"location": "Paris, France"}}]}]
EXPECTED_TOOLS = [{"type": "function", "name": "get_weather", "description": "Current weather for a city.",
                   "parameters": TOOLS[0]["function"]["parameters"]}]


async def call(t: Any, async_client: bool, fixture: str = "chat/tool_calls.json", **kwargs: Any) -> Any:
    client = make_client(lambda r: json_response(fixture_json(fixture)), async_client=async_client)
    kwargs.setdefault("messages", CONVERSATION)
    result = client.chat.completions.create(model="gpt-4o", tools=TOOLS, **kwargs)
    if inspect.isawaitable(result):
        await result
    return t.only_span()


def everything(t: Any) -> str:
    """Every span, event and log record of the test as one string, to search for leaked content."""
    out = [s.to_json() for s in t.finished_spans()]
    out += [json.dumps({"attributes": dict(r.attributes or {}), "body": r.body}, default=str)
            for r in t.log_records()]
    return "\n".join(out)


# --- modes ---------------------------------------------------------------------------------------------


async def test_no_content_by_default(instrument: Any, async_client: bool) -> None:
    """By default nothing of the conversation is recorded: no messages, no tool definitions, no tool-call
    arguments or results, no log records."""
    t = instrument()
    span = await call(t, async_client)
    assert not {sc.INPUT_MESSAGES, sc.OUTPUT_MESSAGES, sc.TOOL_DEFINITIONS, sc.SYSTEM_INSTRUCTIONS} & \
        set(span.attributes)
    assert t.log_records() == []
    dump = everything(t)
    for secret in ("Secretville", "Paris, France", "weather bot", "get_weather", "call_secret_1", PNG[:20]):
        assert secret not in dump


async def test_span_only(instrument: Any, async_client: bool) -> None:
    """SPAN_ONLY puts compact JSON strings on the span and emits no log record."""
    t = instrument(capture_content="SPAN_ONLY")
    span = await call(t, async_client)
    assert json.loads(span.attributes[sc.INPUT_MESSAGES]) == EXPECTED_INPUT
    assert json.loads(span.attributes[sc.OUTPUT_MESSAGES]) == EXPECTED_OUTPUT
    assert json.loads(span.attributes[sc.TOOL_DEFINITIONS]) == EXPECTED_TOOLS
    assert sc.SYSTEM_INSTRUCTIONS not in span.attributes
    assert ", " not in span.attributes[sc.TOOL_DEFINITIONS]  # compact separators
    assert t.log_records() == []


async def test_event_only(instrument: Any, async_client: bool) -> None:
    """EVENT_ONLY keeps the span free of content and emits one details record with the content as structured
    attributes (no body), the span's attributes, and the span's trace context."""
    t = instrument(capture_content="EVENT_ONLY")
    span = await call(t, async_client, temperature=0.1)
    assert sc.INPUT_MESSAGES not in span.attributes
    assert sc.OUTPUT_MESSAGES not in span.attributes
    (record,) = t.log_records()
    assert record.event_name == sc.EVENT_OPERATION_DETAILS
    assert (record.trace_id, record.span_id) == (span.context.trace_id, span.context.span_id)
    assert record.trace_flags == span.context.trace_flags
    assert record.body is None
    attrs = dict(record.attributes)
    assert {k: event_value(attrs[k]) for k in (sc.INPUT_MESSAGES, sc.OUTPUT_MESSAGES, sc.TOOL_DEFINITIONS)} == {
        sc.INPUT_MESSAGES: EXPECTED_INPUT, sc.OUTPUT_MESSAGES: EXPECTED_OUTPUT, sc.TOOL_DEFINITIONS: EXPECTED_TOOLS}
    for key in (sc.OPERATION_NAME, sc.PROVIDER_NAME, sc.REQUEST_MODEL, sc.SERVER_ADDRESS, sc.SERVER_PORT,
                sc.REQUEST_TEMPERATURE, sc.RESPONSE_ID, sc.RESPONSE_FINISH_REASONS, sc.USAGE_INPUT_TOKENS):
        assert attrs[key] == span.attributes[key], key


async def test_span_and_event(instrument: Any, async_client: bool) -> None:
    """SPAN_AND_EVENT records content in both places, with the same content."""
    t = instrument(capture_content="SPAN_AND_EVENT")
    span = await call(t, async_client)
    (record,) = t.log_records()
    assert json.loads(span.attributes[sc.INPUT_MESSAGES]) == event_value(record.attributes[sc.INPUT_MESSAGES])
    assert json.loads(span.attributes[sc.OUTPUT_MESSAGES]) == event_value(record.attributes[sc.OUTPUT_MESSAGES])


async def test_capture_media(instrument: Any, async_client: bool) -> None:
    """With ``capture_media`` inline images and audio are kept as base64 blobs."""
    t = instrument(capture_content="SPAN_ONLY", capture_media=True)
    span = await call(t, async_client)
    user_parts = json.loads(span.attributes[sc.INPUT_MESSAGES])[1]["parts"]
    assert user_parts[2] == {"type": "blob", "modality": "image", "mime_type": "image/png", "content": PNG}
    assert user_parts[3] == {"type": "blob", "modality": "audio", "mime_type": "audio/wav", "content": WAV}


async def test_refusal_output(instrument: Any, async_client: bool) -> None:
    """A refusal is kept as a generic part, not dropped."""
    t = instrument(capture_content="SPAN_ONLY")
    span = await call(t, async_client, fixture="chat/refusal.json")
    assert json.loads(span.attributes[sc.OUTPUT_MESSAGES]) == [{"role": "assistant", "parts": [
        {"type": "generic", "generic_type": "refusal", "content": "I'm sorry, I can't assist with that request."}]}]


async def test_parallel_tool_calls_output(instrument: Any, async_client: bool) -> None:
    """Parallel tool calls become one tool_call part each, in order."""
    t = instrument(capture_content="SPAN_ONLY")
    span = await call(t, async_client, fixture="chat/parallel_tool_calls.json")
    parts = json.loads(span.attributes[sc.OUTPUT_MESSAGES])[0]["parts"]
    assert [(p["id"], p["arguments"]) for p in parts] == [("call_Paris0001", {"location": "Paris"}),
                                                          ("call_Berlin002", {"location": "Berlin"})]


async def test_failure_details_event(instrument: Any, async_client: bool) -> None:
    """On failure with EVENT_ONLY, the details record still carries the input and the error type."""
    import openai

    t = instrument(capture_content="EVENT_ONLY")
    client = make_client(lambda r: json_response(fixture_json("chat/server_error.json"), status=500),
                         async_client=async_client)
    with pytest.raises(openai.InternalServerError):
        result = client.chat.completions.create(model="gpt-4o", messages=CONVERSATION[:2])
        if inspect.isawaitable(result):
            await result
    details = [r for r in t.log_records() if r.event_name == sc.EVENT_OPERATION_DETAILS]
    assert len(details) == 1
    assert event_value(details[0].attributes[sc.INPUT_MESSAGES]) == EXPECTED_INPUT[:2]
    assert sc.OUTPUT_MESSAGES not in details[0].attributes
    assert details[0].attributes[sc.ERROR_TYPE] == "openai.InternalServerError"


async def test_truncation_keeps_json_valid(instrument: Any, async_client: bool) -> None:
    """``max_content_length`` truncates each string, and the attribute stays valid JSON."""
    t = instrument(capture_content="SPAN_ONLY", max_content_length=10)
    span = await call(t, async_client, messages=[{"role": "user", "content": "x" * 500}])
    (message,) = json.loads(span.attributes[sc.INPUT_MESSAGES])
    assert message["parts"][0]["content"].startswith("x" * 10)
    assert len(message["parts"][0]["content"]) < 30


# --- pure helpers ------------------------------------------------------------------------------------


def test_bounded() -> None:
    """Strings are cut at the limit (marked), nested structures are walked, other values kept; 0 is no limit."""
    value = {"a": "abcdef", "b": ["xyz", "uvwxyz", 7, None], "c": {"d": "short"}}
    out = bounded(value, 5)
    assert out["a"].startswith("abcde") and out["a"] != "abcdef"
    assert out["b"][0] == "xyz" and out["b"][1].startswith("uvwxy") and out["b"][2:] == [7, None]
    assert out["c"] == {"d": "short"}
    assert value["a"] == "abcdef"  # the input is not modified
    assert bounded(value, 0) is value


@pytest.mark.parametrize("limit", [0, 3, 5, 6, 12, 40, 1000])
def test_bounded_json(limit: int) -> None:
    """``bounded_json`` is ``to_json(bounded(...))`` byte for byte, whether or not something is cut (long JSON
    of short strings, a long label kept whole, tuples, non-finite floats, escapes, lone surrogates)."""
    values: list[Any] = [
        {"a": "abcdef", "b": ["xyz", ("uvwxyz", 7, None)], "c": {"d": "short"}},
        [{"type": "generic", "generic_type": "x" * 10, "content": "ab"}] * 5,
        {"role": "user", "parts": [{"type": "text", "content": 'quo"te\\n\u00e9'}]},
        ["a", "b", "c", "d", "e", "f", "g"],
        {"x": float("nan"), "y": "\ud800abc"},
        "a long string",
        [],
    ]
    for value in values:
        assert bounded_json(value, limit) == to_json(bounded(value, limit))


@pytest.mark.parametrize("text", [
    '{"city":"Lisbon"}', ' {"a": 1} ', '{"a": 1}\n', '\t[1, 2]', "[1, 2]", "42", '"quoted"', "null", "NaN",
    "plain text", "", " ", "{not json", '{"a": 1} trailing', "\ufeff{}", "[" * 100_000,
])
def test_json_object_as_decoder(text: str) -> None:
    """A string is read as ``json.JSONDecoder().decode`` reads it (whitespace around the value allowed, nothing
    else): a JSON object is kept, other JSON wrapped as its value, anything else wrapped as the text."""
    try:
        parsed: Any = json.JSONDecoder().decode(text)
    except (ValueError, RecursionError):
        expected: Any = {"value": text}
    else:
        expected = parsed if isinstance(parsed, dict) else {"value": parsed}
    assert repr(json_object(text)) == repr(expected)  # repr: NaN equals itself


def test_to_json_compact() -> None:
    """Compact separators, unicode kept, unknown objects as their str."""
    class Thing:
        def __str__(self) -> str:
            return "thing"

    assert to_json({"a": [1, "é"], "b": Thing()}) == '{"a":[1,"é"],"b":"thing"}'


# --- the span's JSON memo ----------------------------------------------------------------------------


class Builds:
    """A mapping function that counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, value: Any, media: bool) -> Any:
        self.calls += 1
        return {"value": value, "media": media}


def test_memo_reuses_the_json_of_a_value_it_has_seen() -> None:
    memo, build = JsonMemo(), Builds()
    value = {"role": "user", "content": "hello"}
    first = memo.text(build, value, False, 0, value)
    assert first == to_json({"value": value, "media": False})
    assert memo.text(build, dict(value), False, 0, dict(value)) == first  # an equal copy: the same entry
    assert build.calls == 1
    memo.text(build, value, True, 0, value)  # media, limit and the mapping function are part of the key
    memo.text(build, value, False, 3, value)
    memo.text(Builds(), value, False, 0, value)
    assert build.calls == 3


@pytest.mark.parametrize(("before", "after"), [
    ({"a": 1}, {"a": True}),
    ({"a": 1}, {"a": 1.0}),
    ({"a": 0.0}, {"a": -0.0}),
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}),
    ({"a": [1, 2]}, {"a": (1, 2)}),
    ({"a": "x"}, {"a": "x "}),
    ({"a": None}, {"a": "None"}),
    ({"a": {"b": ["c"]}}, {"a": {"b": ["c", "d"]}}),
])
def test_memo_tells_apart_values_that_compare_equal_but_encode_differently(before: Any, after: Any) -> None:
    """Everything the JSON could show is in the key, including what ``==`` ignores (1 == 1.0 == True, key order)."""
    memo = JsonMemo()
    identity = lambda value, media: value  # noqa: E731
    assert memo.text(identity, before, False, 0, before) == to_json(before)
    assert memo.text(identity, after, False, 0, after) == to_json(after)


def test_memo_sees_a_value_changed_in_place() -> None:
    """The same list, its dicts changed in place between calls: never the earlier text."""
    memo = JsonMemo()
    identity = lambda value, media: value  # noqa: E731
    tools = [{"name": "f", "parameters": {"required": ["city"]}}]
    assert memo.text(identity, tools, False, 0, tools) == to_json(tools)
    tools[0]["parameters"]["required"].append("unit")
    assert memo.text(identity, tools, False, 0, tools) == to_json(tools)
    assert "unit" in memo.text(identity, tools, False, 0, tools)


def test_memo_builds_every_time_what_it_cannot_key() -> None:
    """A subclass, an SDK-like object, or one inside plain data: no key (its mapping could read more than its
    value), so it is mapped and encoded on every call."""
    class Message(dict):  # type: ignore[type-arg]
        pass

    class Model:
        content = "hi"

    memo = JsonMemo()
    for value in (Message(role="user"), Model(), {"a": Model()}, [Model()]):
        build = Builds()
        memo.text(build, value, False, 0, value)
        memo.text(build, value, False, 0, value)
        assert build.calls == 2, value


def test_memo_is_bounded() -> None:
    """At most ``max_chars`` of keys and texts (emptied when full, the new entry kept); a value over a sixteenth
    is not kept."""
    memo, build = JsonMemo(max_chars=4000), Builds()
    values = [f"message {i} " * 10 for i in range(100)]
    for value in values:
        memo.text(build, value, False, 0, value)
    assert memo.size() <= 4000
    calls = build.calls
    memo.text(build, values[-1], False, 0, values[-1])  # the newest is kept
    assert build.calls == calls
    memo.text(build, values[0], False, 0, values[0])  # the first ones are gone
    assert build.calls == calls + 1
    large = "x" * 300
    memo.text(build, large, False, 0, large)
    memo.text(build, large, False, 0, large)
    assert build.calls == calls + 3
