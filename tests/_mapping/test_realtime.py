"""Pure realtime mapping: request settings, response statuses and usage, items as parts, the accumulator."""

from __future__ import annotations

from typing import Any

import pytest

from otel_openai import _semconv as sc
from otel_openai._mapping import realtime

types = pytest.importorskip("openai.types.realtime", reason="the GA realtime types arrived in late openai 1.x")
from openai._models import construct_type  # noqa: E402  (after the skip: the helper exists in every SDK)


def event(**value: Any) -> Any:
    """A server event built the way the SDK builds it (no validation)."""
    return construct_type(type_=types.RealtimeServerEvent, value=value)


USAGE = {"input_tokens": 130, "output_tokens": 60, "total_tokens": 190,
         "input_token_details": {"text_tokens": 20, "audio_tokens": 100, "image_tokens": 10, "cached_tokens": 70,
                                 "cached_tokens_details": {"text_tokens": 6, "audio_tokens": 64,
                                                           "image_tokens": 0}},
         "output_token_details": {"text_tokens": 12, "audio_tokens": 48}}


def response(status: str = "completed", **fields: Any) -> dict[str, Any]:
    return {"id": "resp_1", "object": "realtime.response", "status": status, "output": [], **fields}


def test_request_attributes_prefer_the_response_create_parameters() -> None:
    """response.create parameters override the session's; "inf" tokens are no limit."""
    session = {"output_modalities": ["audio"], "max_output_tokens": "inf", "reasoning": {"effort": "low"}}
    assert realtime.request_attributes({"session": session, "response": {}}) == {
        sc.OUTPUT_TYPE: "speech", sc.REQUEST_REASONING_LEVEL: "low"}
    attrs = realtime.request_attributes({"session": session, "response": {
        "output_modalities": ["text"], "max_output_tokens": 200, "reasoning": {"effort": "high"}}})
    assert attrs == {sc.OUTPUT_TYPE: "text", sc.REQUEST_MAX_TOKENS: 200, sc.REQUEST_REASONING_LEVEL: "high"}


def test_request_attributes_beta_session() -> None:
    """Beta sessions say modalities, max_response_output_tokens and temperature."""
    session = {"modalities": ["text", "audio"], "max_response_output_tokens": 300, "temperature": 0.7}
    assert realtime.request_attributes({"session": session, "response": {}}) == {
        sc.OUTPUT_TYPE: "speech", sc.REQUEST_MAX_TOKENS: 300, sc.REQUEST_TEMPERATURE: 0.7}


@pytest.mark.parametrize(("status", "details", "output", "reason"), [
    ("completed", None, [], "stop"),
    ("completed", None, [{"type": "function_call", "name": "f", "arguments": "{}"}], "tool_call"),
    ("incomplete", {"reason": "max_output_tokens"}, [], "length"),
    ("incomplete", {"reason": "content_filter"}, [], "content_filter"),
    ("incomplete", None, [], "error"),
    ("cancelled", {"reason": "turn_detected"}, [], "turn_detected"),
    ("cancelled", {"reason": "client_cancelled"}, [], "client_cancelled"),
    ("cancelled", None, [], "error"),
    ("failed", {"error": {"code": "x"}}, [], "error"),
    ("in_progress", None, [], None),
])
def test_finish_reason(status: str, details: Any, output: list[Any], reason: Any) -> None:
    """Each status maps to a finish reason; a running generation has none."""
    assert realtime.finish_reason(response(status, status_details=details, output=output)) == reason


def test_response_attributes_with_usage_splits() -> None:
    """Id, conversation, output type, and usage with text/audio/image splits and cached ones."""
    attrs = realtime.response_attributes(response(conversation_id="conv_1", output_modalities=["audio"],
                                                  usage=USAGE))
    assert attrs == {
        sc.RESPONSE_ID: "resp_1", sc.CONVERSATION_ID: "conv_1", sc.OUTPUT_TYPE: "speech",
        sc.RESPONSE_FINISH_REASONS: ["stop"],
        sc.USAGE_INPUT_TOKENS: 130, sc.USAGE_OUTPUT_TOKENS: 60, sc.USAGE_CACHE_READ_INPUT_TOKENS: 70,
        sc.USAGE_TEXT_INPUT_TOKENS: 20, sc.USAGE_AUDIO_INPUT_TOKENS: 100, sc.USAGE_IMAGE_INPUT_TOKENS: 10,
        sc.USAGE_TEXT_CACHE_READ_INPUT_TOKENS: 6, sc.USAGE_AUDIO_CACHE_READ_INPUT_TOKENS: 64,
        sc.USAGE_TEXT_OUTPUT_TOKENS: 12,  # image cache reads (0) left out: a zero split says nothing
        sc.USAGE_AUDIO_OUTPUT_TOKENS: 48,
    }


def test_failed_response_error_type() -> None:
    """A failed generation reports the server's error code, else its type, else failed."""
    failed = response("failed", status_details={"type": "failed", "error": {"type": "server_error",
                                                                            "code": "rate_limit_exceeded"}})
    assert realtime.response_attributes(failed)[sc.ERROR_TYPE] == "rate_limit_exceeded"
    assert realtime.response_attributes(response("failed"))[sc.ERROR_TYPE] == "failed"


def test_missing_and_malformed_fields_stay_absent() -> None:
    """Odd payloads give absent attributes, never errors."""
    assert realtime.response_attributes({"status": ["x"], "usage": {"input_tokens": "7"}}) == {}
    assert realtime.usage_attributes(None) == {}
    assert realtime.request_attributes({}) == {}


def test_tool_definitions_never_carry_credentials() -> None:
    """Function tools keep name, description and parameters; MCP servers their label and URL only."""
    body = {"session": {"tools": [
        {"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}},
        {"type": "mcp", "server_label": "docs", "server_url": "https://mcp.example",
         "authorization": "secret-token", "headers": {"Authorization": "Bearer secret"}}]}}
    assert realtime.tool_definitions(body) == [
        {"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}},
        {"type": "mcp", "name": "docs", "server_url": "https://mcp.example"}]
    assert realtime.tool_definitions({"session": {"tools": [{"type": "function", "name": "f"}]},
                                      "response": {"tools": []}}) == []


def test_system_instructions_response_overrides_session() -> None:
    """response.create instructions replace the session's for that generation."""
    body = {"session": {"instructions": "Session."}, "response": {"instructions": "Response."}}
    assert realtime.system_instructions(body, False) == [{"type": "text", "content": "Response."}]
    assert realtime.system_instructions({"session": {"instructions": ""}}, False) == []


def test_input_messages_from_items() -> None:
    """Items in order: user text and audio (with a later transcript), system text, tool outputs, client-made
    function calls, out-of-band input and references; the audio itself is never echoed, so it is withheld
    as not received."""
    items = [
        {"id": "i1", "type": "message", "role": "system", "content": [{"type": "input_text", "text": "Rules."}]},
        {"id": "i2", "type": "message", "role": "user", "content": [{"type": "input_audio", "transcript": None}]},
        {"id": "i3", "type": "function_call", "call_id": "c1", "name": "f", "arguments": '{"a": 1}'},
        {"id": "i4", "type": "function_call_output", "call_id": "c1", "output": "done"},
    ]
    body = {"session": {"audio": {"input": {"format": {"type": "audio/pcmu"}}}}, "items": items,
            "transcripts": {("i2", 0): "Hello there"},
            "response": {"input": [{"type": "item_reference", "id": "i1"}]}}
    assert realtime.input_messages(body, False) == [
        {"role": "system", "parts": [{"type": "text", "content": "Rules."}]},
        {"role": "user", "parts": [{"type": "generic", "generic_type": "blob", "modality": "audio",
                                    "mime_type": "audio/pcmu", "stripped_reason": "not_received",
                                    "transcript": "Hello there"}]},
        {"role": "assistant", "parts": [{"type": "tool_call", "id": "c1", "name": "f", "arguments": {"a": 1}}]},
        {"role": "tool", "parts": [{"type": "tool_call_response", "id": "c1", "response": {"value": "done"}}]},
        {"role": "assistant", "parts": [{"type": "generic", "generic_type": "item_reference", "id": "i1"}]},
    ]


def test_audio_mime_ga_and_beta() -> None:
    """GA names the MIME type; beta names the format."""
    assert realtime.audio_mime({"audio": {"output": {"format": {"type": "audio/pcm"}}}}, "output") == "audio/pcm"
    assert realtime.audio_mime({"output_audio_format": "g711_alaw"}, "output") == "audio/pcma"
    assert realtime.audio_mime(None, "input") is None


def test_audio_part_sizes_and_media() -> None:
    """Withheld with its decoded size when only the size was kept; the data with media capture; withheld
    as never received when the session never saw it (whatever the media setting)."""
    assert realtime.audio_part(4800, "audio/pcm", "Hi", False) == {
        "type": "generic", "generic_type": "blob", "modality": "audio", "mime_type": "audio/pcm",
        "byte_size": 4800, "stripped_reason": "media_capture_off", "transcript": "Hi"}
    assert realtime.audio_part("AAAA", None, None, True) == {"type": "blob", "modality": "audio",
                                                             "content": "AAAA"}
    for capture_media in (False, True):
        assert realtime.audio_part(None, None, None, capture_media) == {
            "type": "generic", "generic_type": "blob", "modality": "audio", "stripped_reason": "not_received"}


GA_SESSION = {"id": "sess_1", "model": "gpt-realtime", "audio": {"output": {"format": {"type": "audio/pcm"}}}}


def feed(accumulator: realtime.RealtimeAccumulator, *events: dict[str, Any]) -> None:
    for value in events:
        assert accumulator.add(event(**value)) is False  # never an output chunk: no time-to-first-chunk


def deltas(kind: str, pieces: list[str], item: str = "item_1") -> list[dict[str, Any]]:
    return [{"type": kind, "event_id": "e", "response_id": "resp_1", "item_id": item, "output_index": 0,
             "content_index": 0, "delta": p} for p in pieces]


def test_accumulator_finished_generation() -> None:
    """response.done gives everything; output audio is a size counted from the deltas, with the transcript."""
    acc = realtime.RealtimeAccumulator(capture=True)
    acc.bind(GA_SESSION, keep_audio=False)
    item = {"id": "item_1", "type": "message", "role": "assistant",
            "content": [{"type": "output_audio", "transcript": "Hi there"}]}
    feed(acc, {"type": "response.created", "event_id": "e", "response": response("in_progress")},
         *deltas("response.output_audio.delta", ["AAAA", "AAA="]),
         {"type": "response.done", "event_id": "e", "response": response(output=[item], usage=USAGE)})
    attrs = acc.attributes()
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ["stop"]
    assert (attrs[sc.REALTIME_SESSION_ID], attrs[sc.RESPONSE_MODEL]) == ("sess_1", "gpt-realtime")
    assert acc.output_messages(False) == [{"role": "assistant", "parts": [
        {"type": "generic", "generic_type": "blob", "modality": "audio", "mime_type": "audio/pcm", "byte_size": 5,
         "stripped_reason": "media_capture_off", "transcript": "Hi there"}]}]


def test_accumulator_keeps_audio_with_media_capture() -> None:
    """keep_audio joins the base64 pieces."""
    acc = realtime.RealtimeAccumulator(capture=True)
    acc.bind(GA_SESSION, keep_audio=True)
    item = {"id": "item_1", "type": "message", "role": "assistant", "content": [{"type": "output_audio"}]}
    feed(acc, *deltas("response.output_audio.delta", ["AAAA", "BBBB"]),
         {"type": "response.done", "event_id": "e", "response": response(output=[item])})
    assert acc.output_messages(True)[0]["parts"][0]["content"] == "AAAABBBB"


def test_accumulator_cut_short() -> None:
    """Without response.done: the error finish reason, the cut's error.type, and the text and transcript
    received so far."""
    acc = realtime.RealtimeAccumulator(capture=True)
    acc.bind(GA_SESSION, keep_audio=False)
    feed(acc, {"type": "response.created", "event_id": "e", "response": response("in_progress")},
         *deltas("response.output_text.delta", ["Hel", "lo"]),
         *deltas("response.output_audio_transcript.delta", ["Spo", "ken"], item="item_2"))
    acc.cut("websocket_closed")
    attrs = acc.attributes()
    assert (attrs[sc.RESPONSE_FINISH_REASONS], attrs[sc.ERROR_TYPE]) == (["error"], "websocket_closed")
    assert acc.output_messages(False) == [{"role": "assistant", "parts": [
        {"type": "text", "content": "Hello"},
        {"type": "generic", "generic_type": "blob", "modality": "audio", "mime_type": "audio/pcm",
         "stripped_reason": "not_received", "transcript": "Spoken"}]}]


def test_accumulator_without_capture_keeps_nothing() -> None:
    """Content is not kept when not capturing, even if deltas reach it."""
    acc = realtime.RealtimeAccumulator(capture=False)
    feed(acc, *deltas("response.output_text.delta", ["Hello"]))
    assert acc.output_messages(False) == []
    assert acc.attributes() == {sc.RESPONSE_FINISH_REASONS: ["error"]}
