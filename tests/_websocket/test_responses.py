"""Responses over WebSocket end to end: each response.create is a chat span like an HTTP Responses stream."""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from fake_realtime_server import GREETING
from opentelemetry.trace import SpanKind, StatusCode

from otel_openai import _semconv as sc
from tests._websocket.conftest import call, opened, read_until, recv_until
from tests.conftest import Telemetry

FINAL = ("response.completed", "response.incomplete", "response.failed", "error")


@pytest.fixture
def content(instrument: Any) -> Telemetry:
    return instrument(capture_content="SPAN_ONLY")  # type: ignore[no-any-return]


async def test_response_span_like_http(content: Telemetry, responses: Any) -> None:
    """One chat span per response.create with the HTTP Responses attributes, streamed, over a websocket."""
    async with opened(responses.connect()) as connection:
        await call(connection.response.create(model="gpt-4o-mini", input="Hi", instructions="Be brief.",
                                               max_output_tokens=50, temperature=0.2))
        events = await read_until(connection, *FINAL)
    span = content.only_span()
    assert span.name == "chat gpt-4o-mini"
    assert span.kind is SpanKind.CLIENT
    attrs = dict(span.attributes)
    assert attrs.pop(sc.RESPONSE_TIME_TO_FIRST_CHUNK) > 0
    assert attrs == {
        sc.OPERATION_NAME: "chat", sc.PROVIDER_NAME: "openai", sc.REQUEST_MODEL: "gpt-4o-mini",
        sc.SERVER_ADDRESS: "127.0.0.1", sc.SERVER_PORT: attrs[sc.SERVER_PORT],
        sc.NETWORK_PROTOCOL_NAME: "websocket", sc.OPENAI_API_TYPE: "responses", sc.REQUEST_STREAM: True,
        sc.REQUEST_MAX_TOKENS: 50, sc.REQUEST_TEMPERATURE: 0.2,
        sc.RESPONSE_ID: events[-1].response.id, sc.RESPONSE_MODEL: "gpt-4o-mini-2026-01-01",
        sc.RESPONSE_FINISH_REASONS: ("stop",), sc.USAGE_INPUT_TOKENS: 14, sc.USAGE_OUTPUT_TOKENS: 7,
        sc.USAGE_CACHE_READ_INPUT_TOKENS: 4, sc.USAGE_REASONING_OUTPUT_TOKENS: 0,
        sc.INPUT_MESSAGES: '[{"role":"user","parts":[{"type":"text","content":"Hi"}]}]',
        sc.SYSTEM_INSTRUCTIONS: '[{"type":"text","content":"Be brief."}]',
        sc.OUTPUT_MESSAGES: json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": GREETING}]}],
                                       separators=(",", ":")),
    }
    tokens = {p.attributes[sc.TOKEN_TYPE]: p.sum for p in content.metric_points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": 14, "output": 7}
    assert len(content.metric_points(sc.METRIC_TIME_TO_FIRST_CHUNK)) == 1


async def test_several_responses_in_order(content: Telemetry, responses: Any) -> None:
    """Requests sent back to back are matched with their responses in order; recv() reads them."""
    async with opened(responses.connect()) as connection:
        for model in ("gpt-4o-mini", "gpt-4.1"):
            await call(connection.response.create(model=model, input="Hi"))
        await recv_until(connection, "response.completed")
        await recv_until(connection, "response.completed")
    spans = sorted(content.finished_spans(), key=lambda s: s.start_time)
    assert [(s.name, s.attributes[sc.RESPONSE_MODEL]) for s in spans] == [
        ("chat gpt-4o-mini", "gpt-4o-mini-2026-01-01"), ("chat gpt-4.1", "gpt-4.1-2026-01-01")]


async def test_lanes(content: Telemetry, responses: Any) -> None:
    """Each stream_id lane is answered in order, and its events are matched to its own request."""
    async with opened(responses.connect()) as connection:
        for lane, model in (("a", "gpt-4o-mini"), ("b", "gpt-4.1")):
            await call(connection.send({"type": "response.create", "model": model, "input": "Hi",
                                        "stream_id": lane}))
        await read_until(connection, "response.completed")
        await read_until(connection, "response.completed")
    assert sorted(s.attributes[sc.RESPONSE_MODEL] for s in content.finished_spans()) == [
        "gpt-4.1-2026-01-01", "gpt-4o-mini-2026-01-01"]
    assert all(s.attributes[sc.RESPONSE_FINISH_REASONS] == ("stop",) for s in content.finished_spans())


async def test_tool_call(content: Telemetry, responses: Any) -> None:
    """A function call finishes with tool_calls, as over HTTP."""
    async with opened(responses.connect()) as connection:
        await call(connection.response.create(model="gpt-4o-mini", input="Weather in Paris?",
                                              metadata={"scenario": "tool"}))
        await read_until(connection, *FINAL)
    span = content.only_span()
    assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("tool_calls",)
    part = json.loads(span.attributes[sc.OUTPUT_MESSAGES])[0]["parts"][0]
    assert (part["type"], part["name"], part["arguments"]) == ("tool_call", "get_weather", {"city": "Paris"})


async def test_error_event(content: Telemetry, responses: Any) -> None:
    """An error event answering the request ends its span with the nested error code."""
    async with opened(responses.connect()) as connection:
        await call(connection.response.create(model="nope", input="Hi", metadata={"scenario": "error"}))
        await read_until(connection, *FINAL)
    span = content.only_span()
    assert span.attributes[sc.ERROR_TYPE] == "model_not_found"
    assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("error",)
    assert span.status.status_code is StatusCode.ERROR


async def test_close_with_a_response_open(content: Telemetry, responses: Any) -> None:
    """Closing mid-response ends the span once, cut short, with the text so far."""
    async with opened(responses.connect()) as connection:
        await call(connection.response.create(model="gpt-4o-mini", input="Hi", metadata={"scenario": "hang"}))
        await read_until(connection, "response.output_text.delta")
    span = content.only_span()
    assert span.attributes[sc.ERROR_TYPE] == sc.ERROR_TYPE_WEBSOCKET_CLOSED
    assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("error",)
    assert json.loads(span.attributes[sc.OUTPUT_MESSAGES])[0]["parts"] == [{"type": "text",
                                                                            "content": GREETING[:6]}]


async def test_sent_past_send(content: Telemetry, responses: Any) -> None:
    """A request queued on the manager before connecting never passes our send row: its span starts at
    response.created, with the model the response names."""
    manager = responses.connect()
    manager.send({"type": "response.create", "model": "gpt-4o-mini", "input": "Hi"})
    async with opened(manager) as connection:
        await read_until(connection, *FINAL)
    span = content.only_span()
    assert span.name == "chat gpt-4o-mini-2026-01-01"
    assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("stop",)


async def test_dispatch_events(content: Telemetry, responses: Any) -> None:
    """dispatch_events() with an on() handler that closes the connection gives the same span."""
    async with opened(responses.connect()) as connection:
        connection.on("response.completed", lambda event: connection.close())
        await call(connection.response.create(model="gpt-4o-mini", input="Hi"))
        await call(connection.dispatch_events())
    assert content.only_span().attributes[sc.RESPONSE_FINISH_REASONS] == ("stop",)


async def test_exact_types_kept(content: Telemetry, responses: Any) -> None:
    """The connection keeps its SDK class."""
    module = importlib.import_module(type(responses).__module__)
    async with opened(responses.connect()) as connection:
        expected = module.AsyncResponsesConnection if hasattr(connection, "__aiter__") else \
            module.ResponsesConnection
        assert type(connection) is expected


async def test_uninstrument_restores_the_classes(telemetry: Telemetry, responses: Any) -> None:
    """uninstrument() puts the Responses connection classes back exactly; nothing is traced afterwards."""
    from otel_openai import OpenAIInstrumentor

    module = importlib.import_module(type(responses).__module__)
    classes = [getattr(module, f"{prefix}ResponsesConnection{suffix}") for prefix in ("", "Async")
               for suffix in ("", "Manager")]
    before = [dict(vars(cls)) for cls in classes]
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    assert all(type(vars(cls)["send" if "Manager" not in cls.__name__ else "enter"]).__name__ == "FunctionWrapper"
               for cls in classes)
    instrumentor.uninstrument()
    assert [dict(vars(cls)) for cls in classes] == before
    async with opened(responses.connect()) as connection:
        await call(connection.response.create(model="gpt-4o-mini", input="Hi"))
        await read_until(connection, *FINAL)
    assert telemetry.finished_spans() == []
