"""Pure audio mapping: speech and transcription attributes, transcripts and the stream accumulator."""

from __future__ import annotations

import json
from typing import Any

from openai._models import BaseModel, construct_type
from openai.types.audio import Transcription

from otel_openai import _semconv as sc
from otel_openai._mapping import audio
from tests.conftest import fixture_json, fixture_text


def events(name: str) -> list[Any]:
    return [construct_type(type_=BaseModel, value=json.loads(line[6:]))
            for line in fixture_text(name).splitlines() if line.startswith("data: ")]


def test_speech() -> None:
    """Speech output is speech; the text and instructions are its content; the response has no attributes."""
    assert audio.speech_request_attributes({"voice": "alloy"}) == {sc.OUTPUT_TYPE: "speech"}
    assert audio.speech_response_attributes(b"bytes") == {}
    assert audio.speech_input_messages({"input": "hi"}, False)[0]["parts"] == [{"type": "text", "content": "hi"}]
    assert audio.speech_instructions({"instructions": "whisper"}, False) == [
        {"type": "text", "content": "whisper"}]


def test_transcription_attributes() -> None:
    """Text output, temperature, stream flag, and token usage when reported in tokens, with the audio split
    from ``input_token_details`` (a zero text split is left out)."""
    assert audio.transcription_request_attributes({"temperature": 0, "stream": True}) == {
        sc.OUTPUT_TYPE: "text", sc.REQUEST_TEMPERATURE: 0.0, sc.REQUEST_STREAM: True}
    response = Transcription.construct(**fixture_json("audio/transcription.json"))
    assert audio.transcription_response_attributes(response) == {
        sc.USAGE_INPUT_TOKENS: 14, sc.USAGE_OUTPUT_TOKENS: 3, sc.USAGE_AUDIO_INPUT_TOKENS: 14}


def test_duration_usage_is_not_tokens() -> None:
    """Whisper's duration-based usage yields no token attributes."""
    response = Transcription.construct(text="x", usage={"type": "duration", "seconds": 3.5})
    assert audio.transcription_response_attributes(response) == {}


def test_transcripts() -> None:
    """The transcript comes from a Transcription or a plain string (text/srt/vtt formats); no per-message
    finish_reason (deprecated)."""
    expected = [{"role": "assistant", "parts": [{"type": "text", "content": "hi"}]}]
    assert audio.transcription_output_messages(Transcription.construct(text="hi"), False) == expected
    assert audio.transcription_output_messages("hi", False) == expected


def test_accumulator() -> None:
    """The done event gives usage and text; a stream cut before it keeps the deltas when capturing."""
    acc = audio.TranscriptionAccumulator(True)
    all_events = events("audio/stream_transcription.sse")
    for event in all_events:
        acc.add(event)
    assert acc.attributes() == {sc.USAGE_INPUT_TOKENS: 14, sc.USAGE_OUTPUT_TOKENS: 3}
    assert acc.output_messages(False)[0]["parts"] == [{"type": "text", "content": "Hello world."}]
    cut = audio.TranscriptionAccumulator(True)
    cut.add(all_events[0])
    assert cut.attributes() == {}
    assert cut.output_messages(False)[0]["parts"] == [{"type": "text", "content": "Hello "}]
