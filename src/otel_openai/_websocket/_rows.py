"""The wrap-table rows on the SDK's WebSocket connection classes, and the wrappers that feed sessions.

Every way of reading (``for event in connection``, ``recv()``, ``dispatch_events()`` with ``on()``
handlers, ``recv_bytes()`` + ``parse_event()``, the SDK's own session helpers) parses each message with
``parse_event``: that is the read row, and the only one on the per-frame path. A lost connection is seen
where the SDK handles it (``_reconnect``, openai >= 2.x) or where the application closes the connection
while the loss propagates (``with`` exit, ``close()`` in an ``except``). The managers' ``__enter__`` /
``__aenter__`` / ``enter`` open the session: model, client and the parent context are learned there. State
lives in a ``WeakKeyDictionary`` beside the connection; the user's objects keep their classes, and nothing
is retained once a connection is closed or collected.
"""

from __future__ import annotations

import logging
import sys
import weakref
from typing import Any, Callable, Optional

from opentelemetry import context
from opentelemetry.instrumentation.utils import is_instrumentation_enabled

from otel_openai import _active
from otel_openai._mapping._common import as_str
from otel_openai._websocket._realtime import RealtimeSession
from otel_openai._websocket._responses import ResponsesSession
from otel_openai._websocket._session import Generation, Session, guard

_logger = logging.getLogger(__name__)

Wrapper = Callable[..., Any]

# Open connections -> their session. Weak keys: nothing is written onto the SDK's objects.
sessions: weakref.WeakKeyDictionary[Any, Session] = weakref.WeakKeyDictionary()


def _session_of(connection: Any) -> Optional[Session]:
    """The connection's session while the instrumentor that opened it is the active one."""
    session = sessions.get(connection)
    return session if session is not None and session.t is _active.telemetry else None


# --- connect ----------------------------------------------------------------------------------------------


def _open(manager: Any, connection: Any, kind: type[Session]) -> None:
    t = _active.telemetry
    if t is None or not is_instrumentation_enabled() or connection in sessions:
        return
    values = vars(manager)  # the managers keep their arguments in name-mangled private fields
    client = _private(values, "__client")
    if client is None:
        return
    session = kind(t, client, as_str(_private(values, "__model")), context.get_current())
    # Collected without close(): whatever is still open ends then.
    session.finalizer = weakref.finalize(connection, session.close)
    session.finalizer.atexit = False
    sessions[connection] = session


def _private(values: dict[str, Any], name: str) -> Any:
    return next((v for k, v in values.items() if k.endswith(name)), None)


def _entering(kind: type[Session]) -> tuple[Wrapper, Wrapper]:
    """``__enter__``/``enter`` and ``__aenter__``/``enter`` of a connection manager."""

    def sync_enter(wrapped: Wrapper, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        connection = wrapped(*args, **kwargs)
        guard(_open, instance, connection, kind)
        return connection

    async def async_enter(wrapped: Wrapper, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        connection = await wrapped(*args, **kwargs)
        guard(_open, instance, connection, kind)
        return connection

    return sync_enter, async_enter


# --- read ---------------------------------------------------------------------------------------------------


def _reading(kind: type[Session]) -> Wrapper:
    """``parse_event`` of one protocol's connections: the frames its sessions ignore without content
    capture (realtime audio and text deltas, the bulk of a session) stop at one type read."""
    skipped = kind.skipped_without_content

    def parse_event(wrapped: Wrapper, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        event = wrapped(*args, **kwargs)
        t = _active.telemetry
        if t is None or (getattr(event, "type", None) in skipped and not t.settings.capture_content):
            return event
        session = sessions.get(instance)
        if session is not None and session.t is t:
            try:
                session.on_event(event)
            except Exception:
                _logger.debug("otel-openai: WebSocket event not recorded", exc_info=True)
        return event

    return parse_event


def _loss(exc: Optional[BaseException]) -> bool:
    """Whether ``exc`` is websockets' connection-closed family, other than a normal close (code 1000)."""
    if exc is None or not any(cls.__name__ == "ConnectionClosed" for cls in type(exc).__mro__):
        return False
    return getattr(getattr(exc, "rcvd", None), "code", None) != 1000


def reconnecting(wrapped: Wrapper, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    """``_reconnect(exc)`` (sync or async: it returns the SDK's own result untouched): the SDK saw the
    connection fail; open generations fail with that exception before any event of a new connection."""
    exc = args[0] if args else kwargs.get("exc")
    if _loss(exc):
        session = _session_of(instance)
        if session is not None:
            guard(session.lost, exc)
    return wrapped(*args, **kwargs)


# --- send ---------------------------------------------------------------------------------------------------


def _sending(connection: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Optional[tuple[Session, Generation]]:
    """A ``response.create`` starts a generation; every other event (audio appends first) costs one type
    read."""
    event = args[0] if args else kwargs.get("event")
    kind = event.get("type") if isinstance(event, dict) else getattr(event, "type", None)
    if kind != "response.create":
        return None
    session = _session_of(connection)
    if session is None:
        return None
    generation = guard(session.on_create, event)
    return (session, generation) if generation is not None else None


def sync_send(wrapped: Wrapper, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    started = _sending(instance, args, kwargs)
    if started is None:
        return wrapped(*args, **kwargs)
    try:
        return wrapped(*args, **kwargs)
    except BaseException as exc:
        guard(started[0].send_failed, started[1], exc)
        raise


async def async_send(wrapped: Wrapper, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    started = _sending(instance, args, kwargs)
    if started is None:
        return await wrapped(*args, **kwargs)
    try:
        return await wrapped(*args, **kwargs)
    except BaseException as exc:
        guard(started[0].send_failed, started[1], exc)
        raise


# --- close --------------------------------------------------------------------------------------------------


def _closed(connection: Any) -> None:
    session = sessions.pop(connection, None)
    if session is not None:
        session.finalizer.detach()
        # Closing while a lost connection's exception propagates (a ``with`` exit, an ``except``): a loss.
        exc = sys.exc_info()[1]
        if _loss(exc):
            guard(session.lost, exc)
        else:
            guard(session.close)


def sync_close(wrapped: Wrapper, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        return wrapped(*args, **kwargs)
    finally:
        _closed(instance)


async def async_close(wrapped: Wrapper, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    try:
        return await wrapped(*args, **kwargs)
    finally:
        _closed(instance)


# --- the rows -----------------------------------------------------------------------------------------------


def _rows(module: str, prefix: str, kind: type[Session]) -> tuple[tuple[str, str, Wrapper, bool], ...]:
    """The rows of one WebSocket API: ``{prefix}Connection`` and ``Async{prefix}Connection``, and their
    managers. A row whose method the class only inherits is skipped (openai 3.x defines ``close`` and
    ``_reconnect`` on shared base classes, wrapped by their own rows)."""
    sync_enter, async_enter = _entering(kind)
    parse_event = _reading(kind)
    sync_cls, async_cls = f"{prefix}Connection", f"Async{prefix}Connection"
    return (
        (module, f"{sync_cls}.parse_event", parse_event, False),
        (module, f"{async_cls}.parse_event", parse_event, False),  # sync in both
        (module, f"{sync_cls}.send", sync_send, False),
        (module, f"{async_cls}.send", async_send, False),
        (module, f"{sync_cls}.close", sync_close, False),
        (module, f"{async_cls}.close", async_close, False),
        (module, f"{sync_cls}._reconnect", reconnecting, False),  # openai 2.x
        (module, f"{async_cls}._reconnect", reconnecting, False),
        (module, f"{sync_cls}Manager.__enter__", sync_enter, False),
        (module, f"{sync_cls}Manager.enter", sync_enter, False),
        (module, f"{async_cls}Manager.__aenter__", async_enter, False),
        (module, f"{async_cls}Manager.enter", async_enter, False),
    )


WRAPS: tuple[tuple[str, str, Wrapper, bool], ...] = (
    # client.beta.realtime.connect(): later 1.x (absent in 1.40; read in 1.109), 2.x, 3.x.
    *_rows("openai.resources.beta.realtime.realtime", "Realtime", RealtimeSession),
    # client.realtime.connect() (GA): late 1.x (read in 1.109), 2.x, 3.x.
    *_rows("openai.resources.realtime.realtime", "Realtime", RealtimeSession),
    # client.responses.connect(): 2.x (read in 2.54) and 3.x; absent in 1.x.
    *_rows("openai.resources.responses.responses", "Responses", ResponsesSession),
    # openai 3.x: every connection class inherits close() and _reconnect() from these bases.
    ("openai._websocket_connection", "WebSocketConnectionBase.close", sync_close, False),
    ("openai._websocket_connection", "AsyncWebSocketConnectionBase.close", async_close, False),
    ("openai._websocket_connection", "WebSocketConnectionBase._reconnect", reconnecting, False),
    ("openai._websocket_connection", "AsyncWebSocketConnectionBase._reconnect", reconnecting, False),
)
