"""Audio (``POST /audio/speech|transcriptions|translations``): request, response and event mapping.

Audio never reaches a span: uploaded files stay in the SDK's multipart ``files`` we never read, and
generated speech is a binary body we never touch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_openai import _semconv as sc
from otel_openai._mapping import _parts as parts
from otel_openai._mapping._common import Attributes, as_float, as_str, get, put
from otel_openai._mapping._usage import usage_attributes


def speech_request_attributes(body: Mapping[str, Any]) -> Attributes:
    """Text-to-speech: the output is speech."""
    return {sc.OUTPUT_TYPE: sc.OUTPUT_TYPE_SPEECH}


def speech_response_attributes(response: Any) -> Attributes:
    """The body is audio bytes with no metadata to report."""
    return {}


def speech_input_messages(body: Mapping[str, Any], capture_media: bool) -> list[dict[str, Any]]:
    """The text to speak, as a user message."""
    text = body.get("input")
    return [{"role": "user", "parts": [parts.text(text)]}] if isinstance(text, str) else []


def speech_instructions(body: Mapping[str, Any], capture_media: bool) -> list[dict[str, Any]]:
    """``instructions=`` (voice and tone guidance of the newer TTS models)."""
    text = body.get("instructions")
    return [parts.text(text)] if isinstance(text, str) else []


def transcription_request_attributes(body: Mapping[str, Any]) -> Attributes:
    """Speech-to-text (transcriptions and translations): the output is text."""
    attrs: Attributes = {sc.OUTPUT_TYPE: sc.OUTPUT_TYPE_TEXT}
    put(attrs, sc.REQUEST_TEMPERATURE, as_float(body.get("temperature")))
    if body.get("stream") is True:
        attrs[sc.REQUEST_STREAM] = True
    return attrs


def transcription_response_attributes(response: Any) -> Attributes:
    """Token usage, when the model reports it in tokens (not in seconds)."""
    return _usage(get(response, "usage"))


def _usage(usage: Any) -> Attributes:
    if get(usage, "type") not in (None, "tokens"):
        return {}
    return usage_attributes(usage, "input_tokens", "output_tokens")


def transcription_input_messages(body: Mapping[str, Any], capture_media: bool) -> list[dict[str, Any]]:
    """The optional ``prompt`` (the audio itself is never read)."""
    prompt = body.get("prompt")
    return [{"role": "user", "parts": [parts.text(prompt)]}] if isinstance(prompt, str) else []


def transcription_output_messages(response: Any, capture_media: bool) -> list[dict[str, Any]]:
    """The transcript: a ``Transcription``'s text, or the plain string of text/srt/vtt formats."""
    text = response if isinstance(response, str) else as_str(get(response, "text"))
    return [_message(text)] if text is not None else []


def _message(text: str) -> dict[str, Any]:
    return {"role": "assistant", "parts": [parts.text(text)]}


class TranscriptionAccumulator:
    """Streamed transcription events (``stream=True``; not in openai 1.40): ``transcript.text.done`` holds
    the whole text and the usage; deltas are kept, when capturing, only for a stream cut short."""

    __slots__ = ("_capture", "_deltas", "_done")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._done: Any = None
        self._deltas: list[str] = []

    def add(self, event: Any) -> bool:
        kind = getattr(event, "type", None)
        if kind == "transcript.text.done":
            self._done = event
        elif kind == "transcript.text.delta" and self._capture:
            delta = getattr(event, "delta", None)
            if isinstance(delta, str):
                self._deltas.append(delta)
        return kind == "transcript.text.delta"

    def attributes(self) -> Attributes:
        return _usage(get(self._done, "usage")) if self._done is not None else {}

    def output_messages(self, capture_media: bool) -> list[dict[str, Any]]:
        if self._done is not None:
            return transcription_output_messages(self._done, capture_media)
        return [_message("".join(self._deltas))] if self._deltas else []
