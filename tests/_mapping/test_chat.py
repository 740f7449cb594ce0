"""Chat mapping, pure: request kwargs and SDK objects in, attributes and message parts out."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessage

from otel_openai import _semconv as sc
from otel_openai._mapping import chat
from tests.conftest import fixture_json, fixture_text


def completion(name: str) -> Any:
    """Built the way the SDK builds responses (no validation), so newer enum values load on old SDKs."""
    from openai._models import construct_type

    return construct_type(type_=ChatCompletion, value=fixture_json(name))


def chunks(name: str) -> list[Any]:
    """The chunks of a canned SSE fixture, as the SDK would yield them: built without validation (Azure's
    prompt-filter chunk has an empty ``object``), without the final [DONE]."""
    import json

    from openai._models import construct_type

    out = []
    for event in fixture_text(name).split("\n\n"):
        data = event.strip().removeprefix("data: ")
        if data and data != "[DONE]":
            out.append(construct_type(type_=ChatCompletionChunk, value=json.loads(data)))
    return out


# --- request ----------------------------------------------------------------------------------------------


def test_request_attributes_minimal() -> None:
    """A body with only model and messages maps to the API type alone."""
    assert chat.request_attributes({"model": "gpt-4o", "messages": []}) == {sc.OPENAI_API_TYPE: "chat_completions"}


def test_request_attributes_full() -> None:
    """Every mapped parameter, with ints for counts and floats for sampling parameters."""
    attrs = chat.request_attributes({
        "model": "gpt-4o", "temperature": 1, "top_p": 0.9, "frequency_penalty": 0, "presence_penalty": 0.5,
        "max_tokens": 10, "stop": ["a", "b"], "seed": 42, "n": 3, "stream": True,
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {}}},
        "reasoning_effort": "high", "service_tier": "priority",
    })
    assert attrs == {
        sc.OPENAI_API_TYPE: "chat_completions", sc.REQUEST_TEMPERATURE: 1.0, sc.REQUEST_TOP_P: 0.9,
        sc.REQUEST_FREQUENCY_PENALTY: 0.0, sc.REQUEST_PRESENCE_PENALTY: 0.5, sc.REQUEST_MAX_TOKENS: 10,
        sc.REQUEST_STOP_SEQUENCES: ["a", "b"], sc.REQUEST_SEED: 42, sc.REQUEST_CHOICE_COUNT: 3,
        sc.REQUEST_STREAM: True, sc.OUTPUT_TYPE: "json", sc.REQUEST_REASONING_LEVEL: "high",
        sc.OPENAI_REQUEST_SERVICE_TIER: "priority",
    }
    assert isinstance(attrs[sc.REQUEST_TEMPERATURE], float)


def test_max_completion_tokens_preferred() -> None:
    """``max_completion_tokens`` wins over the deprecated ``max_tokens``."""
    assert chat.request_attributes({"max_tokens": 5, "max_completion_tokens": 50})[sc.REQUEST_MAX_TOKENS] == 50
    assert chat.request_attributes({"max_tokens": 5})[sc.REQUEST_MAX_TOKENS] == 5


@pytest.mark.parametrize("body", [
    {"temperature": None, "stop": None, "seed": None, "n": None, "max_tokens": None},
    {"temperature": True, "seed": "7", "n": 1, "stream": False, "service_tier": "auto"},
    {"stop": [], "reasoning_effort": "", "response_format": None},
])
def test_absent_or_default_values_are_not_invented(body: dict[str, Any]) -> None:
    """Nulls, wrong types, n=1, stream=False and service_tier=auto leave no attribute behind."""
    assert chat.request_attributes(body) == {sc.OPENAI_API_TYPE: "chat_completions"}


def test_stop_string_becomes_list() -> None:
    """A single stop string is a one-element list."""
    assert chat.request_attributes({"stop": "\n"})[sc.REQUEST_STOP_SEQUENCES] == ["\n"]


@pytest.mark.parametrize(("body", "expected"), [
    ({"response_format": {"type": "text"}}, "text"),
    ({"response_format": {"type": "json_object"}}, "json"),
    ({"response_format": {"type": "json_schema", "json_schema": {"name": "n"}}}, "json"),
    ({"modalities": ["text", "audio"], "audio": {"voice": "alloy", "format": "wav"}}, "speech"),
    ({"modalities": ["text"]}, None),
    ({}, None),
])
def test_output_type(body: dict[str, Any], expected: str | None) -> None:
    """``response_format`` and the audio modality decide ``gen_ai.output.type``."""
    assert chat.output_type(body) == expected


# --- response -------------------------------------------------------------------------------------------------


def test_response_attributes() -> None:
    """Id, model, finish reasons, fingerprint, tier and usage with cached and reasoning tokens."""
    assert chat.response_attributes(completion("chat/usage_details.json")) == {
        sc.RESPONSE_ID: "chatcmpl-CxR2reasoning7HqLm0cached", sc.RESPONSE_MODEL: "o3-mini-2025-01-31",
        sc.OPENAI_RESPONSE_SYSTEM_FINGERPRINT: "fp_42bfad963b", sc.OPENAI_RESPONSE_SERVICE_TIER: "flex",
        sc.RESPONSE_FINISH_REASONS: ["stop"], sc.USAGE_INPUT_TOKENS: 2006, sc.USAGE_OUTPUT_TOKENS: 300,
        sc.USAGE_CACHE_READ_INPUT_TOKENS: 1920, sc.USAGE_REASONING_OUTPUT_TOKENS: 256,
    }


def test_response_without_usage_details() -> None:
    """No token details in the usage: no cached or reasoning attributes."""
    attrs = chat.response_attributes(completion("chat/tool_calls.json"))
    assert (attrs[sc.USAGE_INPUT_TOKENS], attrs[sc.USAGE_OUTPUT_TOKENS]) == (82, 17)
    assert sc.USAGE_CACHE_READ_INPUT_TOKENS not in attrs
    assert sc.USAGE_REASONING_OUTPUT_TOKENS not in attrs


def test_response_as_plain_dict() -> None:
    """The mapping reads plain dicts as well as SDK models (``with_raw_response.parse(to=dict)``)."""
    assert chat.response_attributes(fixture_json("chat/n2.json"))[sc.RESPONSE_FINISH_REASONS] == ["stop", "length"]


def test_output_messages_in_index_order() -> None:
    """One output message per choice, sorted by index."""
    assert [m["parts"][0]["content"] for m in chat.output_messages(completion("chat/n2.json"), False)] == \
        ["Salut!", "Bonjour"]


def test_output_audio_message() -> None:
    """An audio reply becomes a blob part with its transcript; the audio itself only with media capture
    (else the withheld part, transcript kept)."""
    body = fixture_json("chat/plain.json")
    body["choices"][0]["message"]["content"] = None
    body["choices"][0]["message"]["audio"] = {"id": "audio_1", "data": "UklGRg==", "expires_at": 1,
                                              "transcript": "Paris."}
    (message,) = chat.output_messages(ChatCompletion.model_validate(body), False)
    assert message["parts"] == [{"type": "generic", "generic_type": "blob", "modality": "audio", "byte_size": 4,
                                 "stripped_reason": "media_capture_off", "transcript": "Paris."}]
    (message,) = chat.output_messages(ChatCompletion.model_validate(body), True)
    assert message["parts"][0]["content"] == "UklGRg=="


def _message(**changes: Any) -> dict[str, Any]:
    """plain.json with its one message changed (a value of None removes nothing: it is sent as null)."""
    body = fixture_json("chat/plain.json")
    body["choices"][0]["message"].update(changes)
    return body


def _calls(*arguments: Any) -> list[dict[str, Any]]:
    return [{"id": f"call_{i}", "type": "function", "function": {"name": "f", "arguments": a}}
            for i, a in enumerate(arguments)]


# (body, whether the direct JSON writes it: the usual answers), for output_json against output_messages.
OUTPUT_JSON_CASES: dict[str, tuple[Any, bool]] = {
    "text": (fixture_json("chat/plain.json"), True),
    "tool calls": (fixture_json("chat/tool_calls.json"), True),
    "parallel tool calls": (fixture_json("chat/parallel_tool_calls.json"), True),
    "text and tool calls": (_message(content="Let me look.", tool_calls=_calls('{"a": 1}')), True),
    "empty text": (_message(content=""), True),
    "nothing": (_message(content=None), True),
    "no tool calls": (_message(tool_calls=[]), True),
    "non-ASCII": (_message(content="Olá, é já 🌍", tool_calls=_calls('{"q": "ünï"}', '{"q": "\\u00e9"}')), True),
    "odd arguments": (_message(content=None, tool_calls=_calls("plain text", "[1, 2]", "", " {}", "{} x", "7",
                                                                '{"deep": {"a": [1, 2.5, null, true]}}')), True),
    "arguments as an object": (_message(content=None, tool_calls=_calls({"a": 1})), True),
    "NaN arguments": (_message(content=None, tool_calls=_calls('{"a": NaN, "b": Infinity}')), True),
    "lone surrogate in text": (_message(content="a\ud800b"), False),
    "lone surrogate in arguments": (_message(content="é", tool_calls=_calls('{"a": "\\ud800"}')), False),
    "null arguments": (_message(content=None, tool_calls=_calls(None)), False),
    "null id": (_message(content=None, tool_calls=[{"id": None, "type": "function",
                                                    "function": {"name": "f", "arguments": "{}"}}]), False),
    "custom tool call": (_message(content=None, tool_calls=[{"id": "c", "type": "custom",
                                                             "custom": {"name": "g", "input": "x"}}]), False),
    "legacy function call": (_message(content=None, function_call={"name": "f", "arguments": "{}"}), False),
    "refusal": (fixture_json("chat/refusal.json"), False),
    "audio": (_message(content=None, audio={"id": "a", "data": "UklGRg==", "expires_at": 1, "transcript": "t"}),
              False),
    "content parts": (_message(content=[{"type": "text", "text": "hi"}]), False),
    "no role": (_message(role=None), False),
    "two choices": (fixture_json("chat/n2.json"), False),
    "no choices": ({**fixture_json("chat/plain.json"), "choices": []}, False),
    "no message": ({**fixture_json("chat/plain.json"), "choices": [{"index": 0, "finish_reason": "stop"}]}, False),
}


@pytest.mark.parametrize("case", OUTPUT_JSON_CASES)
@pytest.mark.parametrize("limit", [0, 5, 32_768])
@pytest.mark.parametrize("build", ["sdk", "validated", "dict"])
def test_output_json_is_the_messages_encoded(case: str, limit: int, build: str) -> None:
    """Written directly, the span's output messages are exactly the bounded JSON of ``output_messages``, for
    SDK models however built; anything else (a dict, an unusual answer, a text the limit cuts) is left to
    that path, and the usual answers are written."""
    from openai._models import construct_type

    from otel_openai._content import bounded_json

    body, usual = OUTPUT_JSON_CASES[case]
    if build == "validated":
        try:
            response: Any = ChatCompletion.model_validate(body)
        except ValueError:  # this SDK's models refuse the case: the SDK would not have built it either
            pytest.skip("not a valid ChatCompletion for this SDK")
    else:
        response = construct_type(type_=ChatCompletion, value=body) if build == "sdk" else body
    expected = bounded_json(chat.output_messages(response, False), limit)
    written = chat.output_json(response, limit)
    assert written is None or written == expected
    if build != "dict" and limit != 5:
        assert (written is not None) == usual, written


# --- input messages and tools -----------------------------------------------------------------------------------


def test_input_messages_every_role() -> None:
    """System, developer, user (with name), assistant tool calls, tool and legacy function results; tool
    arguments and results as JSON objects (plain text wrapped as ``{"value": ...}``)."""
    messages = [
        {"role": "system", "content": "sys"},
        {"role": "developer", "content": [{"type": "text", "text": "dev"}]},
        {"role": "user", "content": "hi", "name": "bob"},
        {"role": "assistant", "content": "calling", "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "not json"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "done"},
        {"role": "assistant", "content": None, "function_call": {"name": "g", "arguments": "{\"a\": 1}"}},
        {"role": "function", "name": "g", "content": "ok"},
    ]
    assert chat.input_messages({"messages": messages}, False) == [
        {"role": "system", "parts": [{"type": "text", "content": "sys"}]},
        {"role": "developer", "parts": [{"type": "text", "content": "dev"}]},
        {"role": "user", "parts": [{"type": "text", "content": "hi"}], "name": "bob"},
        {"role": "assistant", "parts": [{"type": "text", "content": "calling"},
                                        {"type": "tool_call", "id": "c1", "name": "f",
                                         "arguments": {"value": "not json"}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": {"value": "done"}}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "name": "g", "arguments": {"a": 1}}]},
        {"role": "function", "parts": [{"type": "tool_call_response", "id": "g", "response": {"value": "ok"}}]},
    ]


def test_input_message_sdk_object() -> None:
    """A ``ChatCompletionMessage`` passed back (refusal included) maps like its dict form."""
    message = ChatCompletionMessage.model_validate(
        {"role": "assistant", "content": None, "refusal": "no"})
    assert chat.input_messages({"messages": [message]}, False) == [
        {"role": "assistant", "parts": [{"type": "generic", "generic_type": "refusal", "content": "no"}]}]


def test_input_messages_not_a_list() -> None:
    """A missing or odd ``messages`` value yields no messages rather than an error."""
    assert chat.input_messages({}, False) == []
    assert chat.input_messages({"messages": "hi"}, False) == []


def test_tool_definitions() -> None:
    """Function tools keep name, description and parameters; custom tools keep their type and format."""
    tools = [
        {"type": "function", "function": {"name": "f", "description": "d", "parameters": {"type": "object"},
                                          "strict": True}},
        {"type": "function", "function": {"name": "bare"}},
        {"type": "custom", "custom": {"name": "grammar", "format": {"type": "text"}}},
    ]
    assert chat.tool_definitions({"tools": tools}) == [
        {"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}, "strict": True},
        {"type": "function", "name": "bare"},
        {"type": "custom", "name": "grammar", "format": {"type": "text"}},
    ]
    assert chat.tool_definitions({}) == []


def test_tool_definitions_always_named() -> None:
    """Every definition has a name (the tool's type when it has none); description and parameters only in the
    shapes the schema accepts (a string; a JSON Schema object or boolean)."""
    tools = [{"type": "function", "function": {"description": 3, "parameters": "x"}}, {"type": "weird"}, "junk"]
    assert chat.tool_definitions({"tools": tools}) == [
        {"type": "function", "name": "function"}, {"type": "weird", "name": "weird"},
        {"type": "function", "name": "function"}]


# --- streaming accumulator -----------------------------------------------------------------------------------------


def test_accumulator_attributes_without_content() -> None:
    """Without content capture the accumulator keeps attributes and no text."""
    acc = chat.ChatAccumulator(False)
    for chunk in chunks("chat/stream_usage.sse"):
        acc.add(chunk)
    assert acc.attributes() == {
        sc.RESPONSE_ID: "chatcmpl-BStreamUsage2kLq0dPz", sc.RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        sc.OPENAI_RESPONSE_SYSTEM_FINGERPRINT: "fp_06737a9306", sc.OPENAI_RESPONSE_SERVICE_TIER: "default",
        sc.RESPONSE_FINISH_REASONS: ["stop"], sc.USAGE_INPUT_TOKENS: 24, sc.USAGE_OUTPUT_TOKENS: 7,
        sc.USAGE_CACHE_READ_INPUT_TOKENS: 16, sc.USAGE_REASONING_OUTPUT_TOKENS: 0,
    }
    assert acc._text == {} and acc._tools == {}


def test_accumulator_reports_output_chunks() -> None:
    """Chunks with choices are output; the usage-only last chunk and Azure's empty prompt-filter chunk are not."""
    acc = chat.ChatAccumulator(False)
    flags = [acc.add(chunk) for chunk in chunks("chat/stream_usage.sse")]
    assert flags[:-1] == [True] * (len(flags) - 1)
    assert flags[-1] is False
    # The SDK builds chunks without validation; Azure's first one has an empty id and no choices.
    prompt_filter = ChatCompletionChunk.construct(id="", model="", object="", created=0, choices=[], usage=None)
    assert chat.ChatAccumulator(False).add(prompt_filter) is False


def test_accumulator_text() -> None:
    """Text deltas are joined per choice."""
    acc = chat.ChatAccumulator(True)
    for chunk in chunks("chat/stream_plain.sse"):
        acc.add(chunk)
    assert acc.output_messages(False) == [{"role": "assistant", "parts": [
        {"type": "text", "content": "The capital of France is Paris."}]}]


def test_accumulator_tool_calls_with_null_arguments() -> None:
    """``arguments: null`` fragments are skipped and parallel calls stay apart."""
    acc = chat.ChatAccumulator(True)
    for chunk in chunks("chat/stream_tool_calls.sse"):
        acc.add(chunk)
    (message,) = acc.output_messages(False)
    assert message["parts"] == [
        {"type": "tool_call", "id": "call_Paris0001", "name": "get_weather", "arguments": {"location": "Paris"}},
        {"type": "tool_call", "id": "call_Berlin002", "name": "get_weather", "arguments": {"location": "Berlin"}},
    ]


def test_accumulator_n2() -> None:
    """Interleaved choices are kept apart and reported in index order."""
    acc = chat.ChatAccumulator(True)
    for chunk in chunks("chat/stream_n2.sse"):
        acc.add(chunk)
    assert acc.attributes()[sc.RESPONSE_FINISH_REASONS] == ["stop", "length"]
    assert [m["parts"][0]["content"] for m in acc.output_messages(False)] == ["Salut!", "Bonjour"]


def test_accumulator_refusal() -> None:
    """Refusal deltas become one generic refusal part."""
    acc = chat.ChatAccumulator(True)
    for chunk in chunks("chat/stream_refusal.sse"):
        acc.add(chunk)
    assert acc.output_messages(False)[0]["parts"] == [
        {"type": "generic", "generic_type": "refusal", "content": "I'm sorry, I can't assist with that."}]


def test_accumulator_empty() -> None:
    """No chunks: the one expected generation ended without a reason (``error``); no messages."""
    acc = chat.ChatAccumulator(True)
    assert acc.attributes() == {sc.RESPONSE_FINISH_REASONS: ["error"]}
    assert acc.output_messages(False) == []


@pytest.mark.parametrize("body", [
    {"response_format": {"type": []}},
    {"response_format": {"type": {"nested": 1}}},
    {"response_format": "json_object"},
    {"modalities": "audio"},
])
def test_output_type_odd_payloads(body: dict[str, Any]) -> None:
    """Malformed ``response_format`` / ``modalities`` values give no output type instead of raising."""
    assert chat.output_type(body) is None
    assert chat.request_attributes(body) == {sc.OPENAI_API_TYPE: "chat_completions"}


@pytest.mark.parametrize(("finish", "choices", "expected"), [
    ({0: "stop", 1: "length"}, 2, ["stop", "length"]),
    ({0: "stop"}, 2, ["stop", "error"]),  # choice 1 was cut off before its reason
    ({1: "stop"}, 2, ["error", "stop"]),
    ({}, 1, ["error"]),
    ({}, 0, ["error"]),  # ended before the first choice: the one generation still owed a reason
])
def test_stream_finish_reasons(finish: dict[int, str], choices: int, expected: list[str]) -> None:
    """Every choice position seen gets a reason, `error` where none arrived."""
    assert chat.stream_finish_reasons(finish, choices) == expected


def test_null_finish_reason_is_error() -> None:
    """A choice whose finish_reason is null (a provider quirk, a cut generation) reports `error`."""
    assert chat.finish_reasons([{"index": 1, "finish_reason": "stop"}, {"index": 0, "finish_reason": None}]) == [
        "error", "stop"]
# --- tool-call ids (not content: read for the Agents SDK's tool spans) -------------------------------------


def test_tool_calls_of_a_completion() -> None:
    """Every tool call's (id, name), in order; none for a text answer."""
    assert chat.tool_calls(completion("chat/parallel_tool_calls.json")) == [
        ("call_Paris0001", "get_weather"), ("call_Berlin002", "get_weather")]
    assert chat.tool_calls(completion("chat/plain.json")) == []


@pytest.mark.parametrize("capture", [False, True])
def test_accumulator_tool_calls_with_or_without_content(capture: bool) -> None:
    """Once asked to track them, a stream's tool-call ids and names are kept whatever the capture setting."""
    acc = chat.ChatAccumulator(capture)
    acc.track_tool_calls()
    for chunk in chunks("chat/stream_tool_calls.sse"):
        acc.add(chunk)
    ids = [call_id for call_id, _ in chat.tool_calls(completion("chat/parallel_tool_calls.json"))]
    assert acc.tool_calls() == [(i, "get_weather") for i in ids]


def test_accumulator_keeps_no_tool_calls_unless_asked() -> None:
    """Without content capture and without track_tool_calls(), nothing per tool call is kept."""
    acc = chat.ChatAccumulator(False)
    for chunk in chunks("chat/stream_tool_calls.sse"):
        acc.add(chunk)
    assert acc.tool_calls() == []


# --- fold: the rest of a stream in the accumulator's own loop ---------------------------------------------------


def folded(capture: bool, stream: list[Any], track: bool = False) -> tuple[Any, list[Any]]:
    """An accumulator fed as the sync proxy feeds it: ``add`` up to the first output chunk, ``fold`` after."""
    acc = chat.ChatAccumulator(capture)
    if track:
        acc.track_tool_calls()
    source = iter(stream)
    seen = []
    for chunk in source:
        seen.append(chunk)
        if acc.add(chunk):
            break
    seen.extend(acc.fold(source))
    return acc, seen


def added(capture: bool, stream: list[Any], track: bool = False) -> Any:
    acc = chat.ChatAccumulator(capture)
    if track:
        acc.track_tool_calls()
    for chunk in stream:
        acc.add(chunk)
    return acc


@pytest.mark.parametrize("name", ["stream_usage", "stream_plain", "stream_tool_calls", "stream_n2",
                                  "stream_refusal", "stream_azure"])
@pytest.mark.parametrize(("capture", "track"), [(False, False), (False, True), (True, False)])
def test_fold_records_what_add_records(name: str, capture: bool, track: bool) -> None:
    """Folding the rest of a stream yields every chunk, the same objects in order, and ends with the same
    attributes, messages and tool calls as ``add`` on each chunk (usage-only, n=2, Azure filter, tool calls)."""
    stream = chunks(f"chat/{name}.sse")
    acc, seen = folded(capture, stream, track)
    assert len(seen) == len(stream) and all(a is b for a, b in zip(seen, stream))
    reference = added(capture, stream, track)
    assert acc.attributes() == reference.attributes()
    assert acc.output_messages(False) == reference.output_messages(False)
    assert acc.tool_calls() == reference.tool_calls()


def test_fold_before_any_id() -> None:
    """Chunks without an id so far (a provider that sends none): ``fold`` hands each chunk to ``add``, which
    keeps looking for the first one that has an id."""
    stream = chunks("chat/stream_plain.sse")
    anonymous = [chunk.model_copy(update={"id": ""}) for chunk in stream[:2]]
    acc, seen = folded(True, anonymous + stream[2:])
    assert len(seen) == len(stream)
    assert acc.attributes()[sc.RESPONSE_ID] == stream[2].id
    assert acc.output_messages(False) == added(True, stream).output_messages(False)


def test_fold_swallows_its_own_errors(caplog: Any) -> None:
    """A failure of ours while folding, on the usual chunk read inline as on the others, is logged at debug
    level; every chunk still comes through."""
    stream = chunks("chat/stream_plain.sse")

    def boom(*args: Any) -> None:
        raise RuntimeError("fold bug")

    acc = chat.ChatAccumulator(True)
    acc.add(stream[0])  # the first output chunk, as the proxy hands it over: ``fold`` takes the inline path
    acc._delta = boom
    caplog.set_level("DEBUG", logger=chat.__name__)
    assert list(acc.fold(iter(stream[1:]))) == stream[1:]
    assert [r.levelname for r in caplog.records] == ["DEBUG"] * (len(stream) - 1)


def test_fold_lets_the_source_errors_through() -> None:
    """An error of the stream itself leaves ``fold`` unchanged, after the chunks before it."""
    stream = chunks("chat/stream_plain.sse")
    failure = ConnectionError("peer went away")

    def source() -> Any:
        yield from stream[:3]
        raise failure

    acc = chat.ChatAccumulator(False)
    acc.add(stream[0])
    seen = []
    with pytest.raises(ConnectionError) as caught:
        for chunk in acc.fold(source()):
            seen.append(chunk)
    assert caught.value is failure and seen == stream[:3]
