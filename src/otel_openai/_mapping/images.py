"""Images (``POST /images/generations|edits|variations``): request, response and event mapping.

Returned images are base64 or links: with content capture on they appear as ``uri`` parts or as
``blob`` parts holding only their size unless media capture is on. Uploaded images are never read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from otel_openai import _semconv as sc
from otel_openai._mapping import _parts as parts
from otel_openai._mapping._common import Attributes, as_int, as_str, get
from otel_openai._mapping._usage import usage_attributes

_COMPLETED_EVENTS = frozenset({"image_generation.completed", "image_edit.completed"})


def request_attributes(body: Mapping[str, Any]) -> Attributes:
    """Output type ``image``, the image count when not 1, and the stream flag."""
    attrs: Attributes = {sc.OUTPUT_TYPE: sc.OUTPUT_TYPE_IMAGE}
    n = as_int(body.get("n"))
    if n is not None and n != 1:
        attrs[sc.REQUEST_CHOICE_COUNT] = n
    if body.get("stream") is True:
        attrs[sc.REQUEST_STREAM] = True
    return attrs


def response_attributes(response: Any) -> Attributes:
    """Token usage, reported by the GPT image models only."""
    return usage_attributes(get(response, "usage"), "input_tokens", "output_tokens")


def input_messages(body: Mapping[str, Any], capture_media: bool) -> list[dict[str, Any]]:
    """The prompt as a user message (variations have none)."""
    prompt = body.get("prompt")
    return [{"role": "user", "parts": [parts.text(prompt)]}] if isinstance(prompt, str) else []


def output_messages(response: Any, capture_media: bool) -> list[dict[str, Any]]:
    """Every returned image as one part of one assistant message."""
    data = get(response, "data")
    if not isinstance(data, (list, tuple)):
        return []
    mime = _mime(get(response, "output_format"))
    return [_message([image_part(i, mime, capture_media) for i in data])]


def image_part(image: Any, mime: Optional[str], capture_media: bool) -> parts.Part:
    url = as_str(get(image, "url"))
    if url is not None:
        part = parts.uri("image", url, mime)
    else:
        data = get(image, "b64_json")
        part = parts.blob("image", data if isinstance(data, str) else "", mime, capture_media)
    revised = as_str(get(image, "revised_prompt"))
    if revised is not None:
        part["revised_prompt"] = revised
    return part


def _mime(fmt: Any) -> Optional[str]:
    return f"image/{fmt}" if isinstance(fmt, str) and fmt else None


def _message(msg_parts: list[parts.Part]) -> dict[str, Any]:
    return {"role": "assistant", "parts": msg_parts}


class ImagesAccumulator:
    """Streamed image events (``stream=True``; not in openai 1.40): the ``*.completed`` event holds the
    final image and the usage; partial images are neither kept nor recorded."""

    __slots__ = ("_capture", "_completed")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._completed: list[Any] = []

    def add(self, event: Any) -> bool:
        # Partial and final images alike are output.
        if getattr(event, "type", None) in _COMPLETED_EVENTS:
            # Without capture only the last event's usage matters; never hold more than needed.
            if self._capture:
                self._completed.append(event)
            else:
                self._completed[:] = [event]
        return True

    def attributes(self) -> Attributes:
        attrs: Attributes = {}
        for event in self._completed:
            attrs.update(usage_attributes(get(event, "usage"), "input_tokens", "output_tokens"))
        return attrs

    def output_messages(self, capture_media: bool) -> list[dict[str, Any]]:
        if not self._completed:
            return []
        return [_message([image_part(e, _mime(get(e, "output_format")), capture_media)
                          for e in self._completed])]
