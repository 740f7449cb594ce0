"""How realtime generations end: done, failed, cancelled, an error event, close, connection loss, reconnect,
collection; and what instrumenting leaves of the user's connections and classes."""

from __future__ import annotations

import asyncio
import gc
import importlib
import inspect
import json
import weakref
from typing import Any

import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import StatusCode

from otel_openai import OpenAIInstrumentor
from otel_openai import _semconv as sc
from otel_openai._websocket import _rows
from tests._websocket.conftest import call, opened, read_until, session_config, user_text
from tests.conftest import Telemetry


@pytest.fixture
def content(instrument: Any) -> Telemetry:
    return instrument(capture_content="SPAN_ONLY")  # type: ignore[no-any-return]


def only_realtime_span(telemetry: Telemetry) -> Any:
    spans = [s for s in telemetry.finished_spans() if s.name.startswith("realtime_inference")]
    assert len(spans) == 1, [s.name for s in spans]
    return spans[0]


async def ask(connection: Any, realtime: Any, scenario: str = "", **create: Any) -> None:
    await call(connection.session.update(session=session_config(realtime, modalities=["text"])))
    await call(connection.conversation.item.create(item=user_text("Hi")))
    if scenario:
        create.setdefault("response", {})["metadata"] = {"scenario": scenario}
    await call(connection.response.create(**create))


@pytest.mark.parametrize(("scenario", "reason", "error"), [
    ("cancelled", "turn_detected", None),
    ("incomplete", "length", None),
    ("failed", "error", "internal_error"),
])
async def test_unfinished_statuses(content: Telemetry, realtime: Any, scenario: str, reason: str,
                                   error: Any) -> None:
    """Cancelled keeps the provider's reason, incomplete max_output_tokens is length, failed is error with
    the server's error code; only failed is an error."""
    async with opened(realtime.connect(model="gpt-realtime")) as connection:
        await ask(connection, realtime, scenario)
        await read_until(connection, "response.done")
    span = only_realtime_span(content)
    assert span.attributes[sc.RESPONSE_FINISH_REASONS] == (reason,)
    assert span.attributes.get(sc.ERROR_TYPE) == error
    assert span.status.status_code is (StatusCode.ERROR if error else StatusCode.UNSET)


async def test_client_cancel(content: Telemetry, realtime: Any) -> None:
    """response.cancel ends the generation with the client_cancelled reason and its partial output."""
    async with opened(realtime.connect(model="gpt-realtime")) as connection:
        await ask(connection, realtime, "hang")
        await read_until(connection, "response.output_text.delta", "response.text.delta")
        await call(connection.response.cancel())
        await read_until(connection, "response.done")
    span = only_realtime_span(content)
    assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("client_cancelled",)
    assert sc.ERROR_TYPE not in span.attributes


async def test_error_event_answering_a_request(content: Telemetry, realtime: Any) -> None:
    """An error event naming the response.create's event_id ends that generation with the error's code; the
    session goes on."""
    async with opened(realtime.connect(model="gpt-realtime")) as connection:
        await ask(connection, realtime, "error", event_id="evt_bad")
        (error,) = [e for e in await read_until(connection, "error") if e.type == "error"]
        await call(connection.response.create())
        await read_until(connection, "response.done")
    failed, answered = sorted((s for s in content.finished_spans()), key=lambda s: s.start_time)
    assert error.error.event_id == "evt_bad"
    assert failed.attributes[sc.ERROR_TYPE] == "invalid_value"
    assert failed.attributes[sc.RESPONSE_FINISH_REASONS] == ("error",)
    assert failed.status.status_code is StatusCode.ERROR
    assert sc.RESPONSE_ID not in failed.attributes
    assert answered.attributes[sc.RESPONSE_FINISH_REASONS] == ("stop",)
    assert not [r for r in content.log_records() if r.event_name == sc.EVENT_OPERATION_EXCEPTION]


async def test_close_with_a_generation_open(content: Telemetry, realtime: Any) -> None:
    """Leaving the with block mid-generation ends it once, cut short: error.type websocket_closed, the error
    finish reason, the text received so far; the session ends."""
    async with opened(realtime.connect(model="gpt-realtime")) as connection:
        await ask(connection, realtime, "hang")
        await read_until(connection, "response.output_text.delta", "response.text.delta")
    span = only_realtime_span(content)
    assert span.attributes[sc.ERROR_TYPE] == sc.ERROR_TYPE_WEBSOCKET_CLOSED
    assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("error",)
    assert span.status.status_code is StatusCode.ERROR
    assert json.loads(span.attributes[sc.OUTPUT_MESSAGES])[0]["parts"] == [{"type": "text", "content": "Hello"}]
    assert [r.event_name for r in content.log_records()][-1] == sc.EVENT_REALTIME_SESSION_ENDED


async def test_connection_lost_mid_generation(content: Telemetry, realtime: Any) -> None:
    """The server drops the connection: the user gets the SDK's exception unchanged, the generation fails
    with it (exception event included) and the session-ended event carries its type."""
    websockets = pytest.importorskip("websockets")
    with pytest.raises(websockets.exceptions.ConnectionClosedError):
        async with opened(realtime.connect(model="gpt-realtime")) as connection:
            await ask(connection, realtime, "drop")
            await read_until(connection, "response.done")
    span = only_realtime_span(content)
    assert span.attributes[sc.ERROR_TYPE] == "websockets.exceptions.ConnectionClosedError"
    assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("error",)
    assert span.events[0].name == "exception"
    names = [r.event_name for r in content.log_records()]
    assert sc.EVENT_OPERATION_EXCEPTION in names
    ended = [r for r in content.log_records() if r.event_name == sc.EVENT_REALTIME_SESSION_ENDED]
    assert ended[0].attributes[sc.ERROR_TYPE] == "websockets.exceptions.ConnectionClosedError"


async def test_reconnect_starts_a_new_session(content: Telemetry, realtime: Any, ws_server: Any) -> None:
    """With the SDK's reconnection on, a drop fails the open generation; the new connection's session is a
    new session (events and id), and its generations are traced as before."""
    if "on_reconnecting" not in inspect.signature(realtime.connect).parameters:
        pytest.skip("this connect() does not reconnect (GA realtime from 2.x; never beta)")
    manager = realtime.connect(model="gpt-realtime", on_reconnecting=lambda event: None, initial_delay=0.01)
    async with opened(manager) as connection:
        await ask(connection, realtime, "drop")
        await read_until(connection, "response.created")
        await read_until(connection, "session.created")  # the reconnected session's first event
        await ask(connection, realtime)
        await read_until(connection, "response.done")
    lost, answered = sorted((s for s in content.finished_spans()), key=lambda s: s.start_time)
    assert lost.attributes[sc.ERROR_TYPE] == "websockets.exceptions.ConnectionClosedError"
    assert answered.attributes[sc.RESPONSE_FINISH_REASONS] == ("stop",)
    assert lost.attributes[sc.REALTIME_SESSION_ID] != answered.attributes[sc.REALTIME_SESSION_ID]
    assert ws_server.connections == 2
    started = [r.attributes[sc.REALTIME_SESSION_ID] for r in content.log_records()
               if r.event_name == sc.EVENT_REALTIME_SESSION_STARTED]
    assert started == [lost.attributes[sc.REALTIME_SESSION_ID], answered.attributes[sc.REALTIME_SESSION_ID]]


async def collect() -> None:
    """Garbage-collect, letting asyncio finalize the async iterators a ``break`` left open (they hold their
    connection until then)."""
    for _ in range(3):
        gc.collect()
        await asyncio.sleep(0)


async def test_collected_without_close(content: Telemetry, realtime: Any) -> None:
    """A connection dropped without close() ends its open generation when it is garbage-collected."""
    manager = realtime.connect(model="gpt-realtime")
    connection = await call(manager.enter())
    await ask(connection, realtime, "hang")
    await read_until(connection, "response.output_text.delta", "response.text.delta")
    socket = connection._connection
    del manager, connection
    try:
        await collect()
        span = only_realtime_span(content)
        assert span.attributes[sc.ERROR_TYPE] == sc.ERROR_TYPE_WEBSOCKET_CLOSED
    finally:
        await call(socket.close())


async def test_nothing_retained_after_close(content: Telemetry, realtime: Any) -> None:
    """After close() no state is left for the connection and nothing keeps it alive."""
    manager = realtime.connect(model="gpt-realtime")
    connection = await call(manager.enter())
    await ask(connection, realtime)
    await read_until(connection, "response.done")
    assert connection in _rows.sessions
    await call(connection.close())
    assert connection not in _rows.sessions
    gone = weakref.ref(connection)
    del manager, connection
    await collect()
    assert gone() is None
    assert len(_rows.sessions) == 0


async def test_exact_types_kept(content: Telemetry, realtime: Any) -> None:
    """The manager and the connection keep their SDK classes, with and without the context manager."""
    module = importlib.import_module(type(realtime).__module__)
    manager = realtime.connect(model="gpt-realtime")
    assert type(manager).__name__.endswith("RealtimeConnectionManager")
    async with opened(manager) as connection:
        expected = module.AsyncRealtimeConnection if hasattr(manager, "__aenter__") else module.RealtimeConnection
        assert type(connection) is expected
    connection = await call(realtime.connect(model="gpt-realtime").enter())
    assert type(connection) is expected
    await call(connection.close())


async def test_suppressed_at_connect(content: Telemetry, realtime: Any) -> None:
    """A connection opened under suppress_instrumentation() is not traced."""
    with suppress_instrumentation():
        manager = realtime.connect(model="gpt-realtime")
        connection = await call(manager.enter())
    await ask(connection, realtime)
    await read_until(connection, "response.done")
    await call(connection.close())
    assert content.finished_spans() == []
    assert content.log_records() == []


async def test_uninstrument_restores_the_classes(telemetry: Telemetry, realtime: Any) -> None:
    """uninstrument() puts back every connection and manager method exactly, inherited ones unshadowed."""
    module = importlib.import_module(type(realtime).__module__)
    classes = [getattr(module, name) for name in ("RealtimeConnection", "AsyncRealtimeConnection",
                                                  "RealtimeConnectionManager", "AsyncRealtimeConnectionManager")]
    before = [dict(vars(cls)) for cls in classes]
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    wrapped = {f"{cls.__name__}.{name}" for cls in classes for name, value in vars(cls).items()
               if type(value).__name__ == "FunctionWrapper"}
    expected = {f"{prefix}RealtimeConnection.{name}" for prefix in ("", "Async")
                for name in ("parse_event", "send", "close", "_reconnect") if name in vars(classes[0])}
    expected |= {"RealtimeConnectionManager.__enter__", "RealtimeConnectionManager.enter",
                 "AsyncRealtimeConnectionManager.__aenter__", "AsyncRealtimeConnectionManager.enter"}
    assert wrapped == expected
    instrumentor.uninstrument()
    assert [dict(vars(cls)) for cls in classes] == before
    async with opened(realtime.connect(model="gpt-realtime")) as connection:
        await ask(connection, realtime)
        await read_until(connection, "response.done")
    assert telemetry.finished_spans() == []


async def test_send_failure_ends_the_generation(content: Telemetry, realtime: Any) -> None:
    """A response.create that cannot be sent (the socket is closed underneath) fails its generation with the
    exception the user gets."""
    async with opened(realtime.connect(model="gpt-realtime")) as connection:
        await call(connection._connection.close())
        with pytest.raises(Exception) as raised:
            await call(connection.response.create())
    span = only_realtime_span(content)
    assert span.attributes[sc.ERROR_TYPE] == f"{type(raised.value).__module__}.{type(raised.value).__qualname__}"
