"""Responses over WebSocket: each ``response.create`` is a ``chat {model}`` span like an HTTP Responses
stream, plus ``network.protocol.name=websocket``.

Requests on one lane (``stream_id``, openai 3.x; one default lane before) are answered in order, so a
lane's oldest pending request is the one the server's next ``response.created`` on that lane answers;
events carry no response id but echo the lane.
"""

from __future__ import annotations

import collections
import dataclasses
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, Optional

from otel_openai import _semconv as sc
from otel_openai._mapping import RESPONSES
from otel_openai._mapping import responses_ws as mapping
from otel_openai._mapping._common import Attributes, as_str, get
from otel_openai._websocket._session import Generation, Session

RESPONSES_WS = dataclasses.replace(RESPONSES, accumulator=mapping.WebSocketResponsesAccumulator)

_STARTS = frozenset({"response.created", "response.queued"})
_FINAL = frozenset({"response.completed", "response.incomplete", "response.failed"})


class ResponsesSession(Session):
    """``client.responses.connect()`` connections (openai 2.x and 3.x)."""

    api = RESPONSES_WS
    extra: ClassVar[Attributes] = {sc.NETWORK_PROTOCOL_NAME: sc.NETWORK_PROTOCOL_WEBSOCKET}

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.pending: dict[Optional[str], collections.deque[Generation]] = {}
        self.active: dict[Optional[str], Generation] = {}

    def on_create(self, event: Any) -> Optional[Generation]:
        params = _as_mapping(event)
        lane = mapping.lane(params)
        generation = self.start(mapping.request_body(params), {}, lane=lane)
        self.pending.setdefault(lane, collections.deque()).append(generation)
        return generation

    def on_event(self, event: Any) -> None:
        kind = getattr(event, "type", None)
        lane = mapping.lane(event)
        generation = self.active.get(lane)
        if generation is None and (kind in _STARTS or kind == "error"):
            generation = self._answered(lane, event) if kind != "error" else self._take(lane)
        if generation is None:
            return
        generation.feed(event)
        if kind in _FINAL or kind == "error":
            self.active.pop(lane, None)
            generation.end()

    def _answered(self, lane: Optional[str], event: Any) -> Generation:
        """The lane's oldest pending request, or one the client sent past ``send`` (queued before the
        connection opened, ``send_raw``, the SDK's session helper): started now, from the response."""
        generation = self._take(lane)
        if generation is None:
            body = {"model": as_str(get(get(event, "response"), "model")), "stream": True}
            generation = self.start(body, {}, lane=lane)
        self.active[lane] = generation
        return generation

    def _take(self, lane: Optional[str]) -> Optional[Generation]:
        queue = self.pending.get(lane)
        return queue.popleft() if queue else None

    def forget(self, generation: Generation) -> None:
        queue = self.pending.get(generation.lane)
        if queue and generation in queue:
            queue.remove(generation)

    def open_generations(self) -> Iterable[Generation]:
        active, pending = self.active, self.pending
        self.active, self.pending = {}, {}
        return [*active.values(), *(g for queue in pending.values() for g in queue)]


def _as_mapping(event: Any) -> Mapping[str, Any]:
    """The client event as sent: a dict, or an SDK model under its API names."""
    if isinstance(event, Mapping):
        return event
    dump = getattr(event, "model_dump", None)
    return dump(by_alias=True, exclude_unset=True, warnings=False) if dump is not None else {}
