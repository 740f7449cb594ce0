"""Legacy Completions (``POST /completions``): request, response and chunk mapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_openai import _semconv as sc
from otel_openai._mapping import _parts as parts
from otel_openai._mapping import chat
from otel_openai._mapping._common import Attributes, as_int, get
from otel_openai._mapping._usage import usage_attributes


def request_attributes(body: Mapping[str, Any]) -> Attributes:
    """The chat sampling parameters apply unchanged; there is no API type for the legacy endpoint."""
    attrs = chat.request_attributes(body)
    attrs.pop(sc.OPENAI_API_TYPE, None)
    return attrs


def response_attributes(response: Any) -> Attributes:
    """Id, model, fingerprint, finish reasons and usage of a ``Completion``."""
    return chat.response_attributes(response)


def input_messages(body: Mapping[str, Any], capture_media: bool) -> list[dict[str, Any]]:
    """``prompt`` as one user message: one part per prompt of a list; the ``suffix`` last."""
    prompt = body.get("prompt")
    if prompt is None:
        return []
    if isinstance(prompt, (list, tuple)) and prompt and not _is_tokens(prompt):
        msg_parts = [_prompt_part(p) for p in prompt]
    else:
        msg_parts = [_prompt_part(prompt)]
    suffix = body.get("suffix")
    if isinstance(suffix, str):
        msg_parts.append(parts.generic("suffix", {"content": suffix}))
    return [{"role": "user", "parts": msg_parts}]


def _is_tokens(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(isinstance(t, int) and not isinstance(t, bool) for t in value)


def _prompt_part(prompt: Any) -> parts.Part:
    """A text prompt, or a prompt given as token ids (never a text part: ids are not text)."""
    if _is_tokens(prompt):
        return parts.generic("tokens", {"content": list(prompt)})
    return parts.text(prompt)


def output_messages(response: Any, capture_media: bool) -> list[dict[str, Any]]:
    """One assistant message per choice, in index order."""
    choices = get(response, "choices")
    if not isinstance(choices, (list, tuple)):
        return []
    ordered = sorted(choices, key=lambda c: as_int(get(c, "index")) or 0)
    return [_message(get(c, "text")) for c in ordered]


def _message(text: Any) -> dict[str, Any]:
    return {"role": "assistant", "parts": [parts.text(text)] if text is not None else []}


class CompletionsAccumulator:
    """Folds streamed ``Completion`` chunks; text is only kept when content capture is on."""

    __slots__ = ("_capture", "_choices", "_finish", "_first", "_text", "_usage")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._first: Any = None
        self._usage: Any = None
        self._choices = 0  # choices seen (highest index + 1), each owing a finish reason
        self._finish: dict[int, Any] = {}
        self._text: dict[int, list[str]] = {}

    def add(self, chunk: Any) -> bool:
        if self._first is None:
            self._first = chunk
        usage = getattr(chunk, "usage", None)
        if usage is not None:
            self._usage = usage
        choices = getattr(chunk, "choices", None) or ()
        for choice in choices:
            index = choice.index or 0
            if index >= self._choices:
                self._choices = index + 1
            if choice.finish_reason is not None:
                self._finish[index] = choice.finish_reason
            if self._capture and choice.text:
                self._text.setdefault(index, []).append(choice.text)
            elif self._capture:
                self._text.setdefault(index, [])
        return bool(choices)

    def attributes(self) -> Attributes:
        attrs = chat.common_response_attributes(self._first) if self._first is not None else {}
        attrs[sc.RESPONSE_FINISH_REASONS] = chat.stream_finish_reasons(self._finish, self._choices)
        attrs.update(usage_attributes(self._usage, "prompt_tokens", "completion_tokens"))
        return attrs

    def output_messages(self, capture_media: bool) -> list[dict[str, Any]]:
        indexes = sorted(set(self._finish) | set(self._text))
        return [_message("".join(self._text[i]) if i in self._text else None) for i in indexes]
