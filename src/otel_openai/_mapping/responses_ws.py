"""Responses API over WebSocket (``responses.connect``, openai >= 2.x): the HTTP mapping plus the envelope.

Each ``response.create`` client event carries the same fields as ``POST /responses`` (plus, in 3.x, a
``stream_id`` lane: requests on one lane run in order and their events echo the lane), and the server answers
with the same stream events as an HTTP stream, except that its ``error`` event nests ``code`` in ``error``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from otel_openai import _semconv as sc
from otel_openai._mapping._common import Attributes, as_str, get
from otel_openai._mapping.responses import ResponsesAccumulator

# Keys of the envelope rather than of the request.
_ENVELOPE = frozenset({"type", "event_id", "stream_id"})


def request_body(event: Mapping[str, Any]) -> dict[str, Any]:
    """The ``response.create`` event as an HTTP request body: always a stream over a WebSocket."""
    body = {k: v for k, v in event.items() if k not in _ENVELOPE}
    body["stream"] = True
    return body


def lane(event: Any) -> Optional[str]:
    """The event's ``stream_id`` lane (openai 3.x); None is the default lane."""
    return as_str(get(event, "stream_id"))


def error_code(event: Any) -> str:
    """A WebSocket ``error`` event's code (nested in ``error``), else its type, else ``error``."""
    error = get(event, "error")
    return as_str(get(error, "code")) or as_str(get(event, "code")) or as_str(get(error, "type")) or "error"


class WebSocketResponsesAccumulator(ResponsesAccumulator):
    """The HTTP stream accumulator, reading the WebSocket error shape; a response that never finished
    (error event, closed or lost connection) reports the ``error`` finish reason."""

    __slots__ = ()

    def add(self, event: Any) -> bool:
        if getattr(event, "type", None) == "error":
            self._error = error_code(event)
            return False
        return super().add(event)

    def cut(self, error_type: str) -> None:
        """The response ends without a final event and without an exception (its WebSocket closed)."""
        self._error = error_type

    def attributes(self) -> Attributes:
        attrs = super().attributes()
        if self._final is None:
            attrs[sc.RESPONSE_FINISH_REASONS] = [sc.FINISH_REASON_ERROR]
        return attrs
