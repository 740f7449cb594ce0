"""What every generation of one WebSocket connection shares: client, parent context, server, ending."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any, Callable, ClassVar, Optional
from urllib.parse import urlsplit

from opentelemetry import context
from opentelemetry._logs import LogRecord, SeverityNumber

from otel_openai import _semconv as sc
from otel_openai._invocation import Invocation, Telemetry, error_type
from otel_openai._mapping import Api
from otel_openai._mapping._common import Attributes

_logger = logging.getLogger(__name__)

_WS_PORTS = {"wss": 443, "https": 443, "ws": 80, "http": 80}


def guard(fn: Callable[..., Any], *args: Any) -> Any:
    """Run one telemetry step; a failure is logged at debug level and never reaches the user."""
    try:
        return fn(*args)
    except Exception:
        _logger.debug("otel-openai: WebSocket telemetry step %r failed", fn, exc_info=True)
        return None


def websocket_server(client: Any) -> Attributes:
    """``server.address``/``port`` of ``websocket_base_url`` when the client sets one (the SDK connects there
    instead of its ``base_url``); empty otherwise, leaving the base URL's."""
    url = getattr(client, "websocket_base_url", None)
    if url is None:
        return {}
    parts = urlsplit(str(url))
    attrs: Attributes = {}
    if parts.hostname:
        attrs[sc.SERVER_ADDRESS] = parts.hostname
    port = parts.port or _WS_PORTS.get(parts.scheme)
    if port:
        attrs[sc.SERVER_PORT] = port
    return attrs


class Generation:
    """One traced generation: its invocation, accumulator and what identifies it on the wire."""

    __slots__ = ("acc", "body", "event_id", "invocation", "item_ids", "lane")

    def __init__(self, invocation: Invocation, body: dict[str, Any], event_id: Optional[str] = None,
                 lane: Optional[str] = None) -> None:
        self.invocation = invocation
        self.body = body
        self.acc: Any = invocation.begin_stream()
        self.event_id = event_id
        self.lane = lane
        self.item_ids: frozenset[Any] = frozenset()

    def feed(self, event: Any) -> None:
        self.invocation.on_chunk(event)

    def end(self) -> None:
        self.invocation.end_stream()

    def cut(self, error: str) -> None:
        """Ended without its final event and without an exception."""
        guard(self.acc.cut, error)
        self.invocation.end_stream()

    def fail(self, exc: BaseException) -> None:
        self.invocation.end_stream(exc)


class Session:
    """The state of one connection, kept beside it (never on it) until it closes or is collected.

    Subclasses map the protocol's events to generations; this base starts them with the connection's
    parent context and server, and ends whatever is still open when the connection goes away.
    """

    api: ClassVar[Api]
    # Start attributes every generation of this protocol carries.
    extra: ClassVar[Attributes] = {}
    # Event types this protocol's sessions ignore unless content is captured: the read row drops them first.
    skipped_without_content: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, t: Telemetry, client: Any, model: Optional[str], parent: context.Context) -> None:
        self.t = t
        self.client = client
        self.model = model
        self.parent = parent
        self.server = websocket_server(client)
        self.finalizer: Any = None

    # --- the protocol's part -----------------------------------------------------------------------------

    def on_event(self, event: Any) -> None:
        """One parsed server event (every way of reading goes through ``parse_event``)."""

    def on_create(self, event: Any) -> Optional[Generation]:
        """The client sends ``response.create``; the generation it starts, if any."""
        return None

    def open_generations(self) -> Iterable[Generation]:
        """Every generation still open; the caller ends them."""
        return ()

    def on_gone(self, exc: Optional[BaseException]) -> None:
        """The connection closed (``exc`` None) or was lost; the open generations are already ended."""

    # --- shared mechanics -----------------------------------------------------------------------------------

    def start(self, body: dict[str, Any], extra: Attributes, event_id: Optional[str] = None,
              lane: Optional[str] = None) -> Generation:
        invocation = Invocation(self.t, self.api, self.client, body, parent=self.parent,
                                extra={**self.extra, **self.server, **extra})
        return Generation(invocation, body, event_id, lane)

    def send_failed(self, generation: Generation, exc: BaseException) -> None:
        """``send`` raised: the generation never reached the server."""
        self.forget(generation)
        generation.fail(exc)

    def forget(self, generation: Generation) -> None:
        """Drop a generation from the protocol's bookkeeping."""

    def lost(self, exc: BaseException) -> None:
        """The connection was lost (a reconnect may follow): open generations fail with its exception."""
        for generation in list(self.open_generations()):
            guard(generation.fail, exc)
        self.on_gone(exc)

    def close(self) -> None:
        """Closed by the application, or collected unclosed: open generations are cut short."""
        for generation in list(self.open_generations()):
            guard(generation.cut, sc.ERROR_TYPE_WEBSOCKET_CLOSED)
        self.on_gone(None)

    def emit(self, name: str, attrs: Attributes) -> None:
        """A session event (log record), correlated with the connection's parent context."""
        self.t.events.emit(LogRecord(event_name=name, context=self.parent, severity_number=SeverityNumber.INFO,
                                     attributes=attrs))


def gone_attributes(exc: Optional[BaseException]) -> Attributes:
    return {sc.ERROR_TYPE: error_type(exc)} if exc is not None else {}
