"""Shared fixtures: in-memory OpenTelemetry pipelines and real ``openai`` clients over a mock transport."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Callable

import openai
import pytest
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_openai import OpenAIInstrumentor
from tests._schemas import COLLECTOR, LogCollector, SpanCollector

try:  # opentelemetry-sdk moved the in-memory log exporter between releases
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
except ImportError:  # pragma: no cover
    from opentelemetry.sdk._logs.export import (  # type: ignore[attr-defined,no-redef]
        InMemoryLogExporter as InMemoryLogRecordExporter,
    )
    from opentelemetry.sdk._logs.export import (
        SimpleLogRecordProcessor,
    )

# openai 3.x sends through httpx2 by default, 1.x and 2.x through httpx; 2.x and 3.x accept either client.
# OTEL_OPENAI_TEST_HTTP=httpx|httpx2 runs the suite over the other one. The two share their API.
OPENAI_MAJOR = int(openai.__version__.split(".")[0])
HTTP_LIB = os.environ.get("OTEL_OPENAI_TEST_HTTP") or ("httpx2" if OPENAI_MAJOR >= 3 else "httpx")
http = importlib.import_module(HTTP_LIB)

FIXTURES = Path(__file__).parent / "fixtures"
# The loopback OpenAI-compatible server lives with the examples, which are scripts rather than a package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from fake_openai_server import FakeOpenAIServer  # noqa: E402

BASE_URL = "http://openai.test:8080/v1"
Handler = Callable[[Any], Any]


def fixture_json(name: str) -> Any:
    """A canned response body from tests/fixtures."""
    return json.loads((FIXTURES / name).read_text())


def event_value(value: Any) -> Any:
    """A structured event attribute as plain JSON data (the SDK stores sequences as tuples)."""
    if isinstance(value, (list, tuple)):
        return [event_value(v) for v in value]
    if isinstance(value, dict):
        return {k: event_value(v) for k, v in value.items()}
    return value


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    return http.Response(status, json=body, headers={"x-request-id": "req_123", **(headers or {})})


def sse_response(events: list[Any], done: bool = True) -> Any:
    """A Server-Sent Events body: one ``data:`` line per event (dicts are JSON-encoded)."""
    lines = [f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events]
    if done:
        lines.append("data: [DONE]\n\n")
    return http.Response(200, content="".join(lines).encode(), headers={"content-type": "text/event-stream"})


def make_client(handler: Handler, *, async_client: bool = False, **kwargs: Any) -> Any:
    """A real OpenAI client whose HTTP layer is a mock transport calling ``handler(request)``."""
    kwargs.setdefault("api_key", "sk-test-secret")
    kwargs.setdefault("base_url", BASE_URL)
    kwargs.setdefault("max_retries", 0)
    if async_client:
        async def ahandler(request: Any) -> Any:
            return handler(request)
        return openai.AsyncOpenAI(http_client=http.AsyncClient(transport=http.MockTransport(ahandler)), **kwargs)
    return openai.OpenAI(http_client=http.Client(transport=http.MockTransport(handler)), **kwargs)


class Telemetry:
    """In-memory trace, metric and log pipelines for one test."""

    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.metric_reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metric_reader])
        self.logs = InMemoryLogRecordExporter()
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(SimpleLogRecordProcessor(self.logs))
        # Every content value any test produces is checked against the official schemas (test_content_schemas).
        self.tracer_provider.add_span_processor(SpanCollector())
        self.logger_provider.add_log_record_processor(LogCollector())

    def finished_spans(self) -> list[Any]:
        return list(self.spans.get_finished_spans())

    def only_span(self) -> Any:
        spans = self.finished_spans()
        assert len(spans) == 1, [s.name for s in spans]
        return spans[0]

    def metric_points(self, name: str) -> list[Any]:
        """Histogram data points of one metric (empty when nothing was recorded)."""
        data = self.metric_reader.get_metrics_data()
        points: list[Any] = []
        for rm in data.resource_metrics if data else []:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    if metric.name == name:
                        points.extend(metric.data.data_points)
        return points

    def log_records(self) -> list[Any]:
        return [r.log_record for r in self.logs.get_finished_logs()]


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry()


@pytest.fixture
def instrument(telemetry: Telemetry) -> Iterator[Callable[..., Telemetry]]:
    """Call ``instrument(**settings)`` to instrument with the test's pipelines; undone after the test."""
    instrumentor = OpenAIInstrumentor()

    def _instrument(**kwargs: Any) -> Telemetry:
        instrumentor.instrument(tracer_provider=telemetry.tracer_provider,
                                meter_provider=telemetry.meter_provider,
                                logger_provider=telemetry.logger_provider, **kwargs)
        return telemetry

    yield _instrument
    instrumentor.uninstrument()


# --- chat fixtures and lazily produced streams (additive helpers) ------------------------------------


def fixture_text(name: str) -> str:
    """A canned fixture as text (SSE bodies are stored verbatim)."""
    return (FIXTURES / name).read_text()


def sse_fixture(name: str) -> Any:
    """A canned SSE body from tests/fixtures, served whole."""
    return http.Response(200, content=fixture_text(name).encode(), headers={"content-type": "text/event-stream"})


class LazyBody:
    """An SSE body produced one event at a time, so a test controls what happens between chunks.

    ``on_event(i)`` runs just before event ``i`` is handed to the SDK (e.g. to advance a fake clock);
    ``fail_after`` raises a transport error after that many events. ``pulled`` counts events served.
    """

    def __init__(self, text: str, on_event: Callable[[int], None] | None = None,
                 fail_after: int | None = None) -> None:
        self.events = [e + "\n\n" for e in text.split("\n\n") if e.strip()]
        self.on_event = on_event
        self.fail_after = fail_after
        self.pulled = 0

    def _next(self) -> bytes:
        if self.fail_after is not None and self.pulled >= self.fail_after:
            raise http.ReadError("connection reset mid-stream")
        if self.on_event is not None:
            self.on_event(self.pulled)
        event = self.events[self.pulled]
        self.pulled += 1
        return event.encode()

    def sync_iter(self) -> Iterator[bytes]:
        while self.pulled < len(self.events) or self.fail_after is not None:
            yield self._next()

    async def async_iter(self) -> Any:
        while self.pulled < len(self.events) or self.fail_after is not None:
            yield self._next()

    def response(self, async_client: bool = False) -> Any:
        content = self.async_iter() if async_client else self.sync_iter()
        return http.Response(200, content=content, headers={"content-type": "text/event-stream"})


def completions_parse(client: Any) -> Any:
    """``chat.completions.parse`` (openai >= 1.92 and 2.x/3.x) or ``beta.chat.completions.parse`` (older)."""
    parse = getattr(client.chat.completions, "parse", None)
    return parse if parse is not None else client.beta.chat.completions.parse


def completions_stream(client: Any) -> Any:
    """``chat.completions.stream`` or, on older SDKs, ``beta.chat.completions.stream``."""
    stream = getattr(client.chat.completions, "stream", None)
    return stream if stream is not None else client.beta.chat.completions.stream


# --- shared by the end-to-end test modules ------------------------------------------------------------


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def async_client(request: Any) -> bool:
    """Run the test once with a sync client and once with an async one."""
    return bool(request.param)


async def resolve(value: Any) -> Any:
    """The value of a sync call, or the awaited value of an async one."""
    return await value if inspect.isawaitable(value) else value


def serve(name: str, seen: list[Any] | None = None) -> Handler:
    """A handler serving a JSON or SSE fixture, remembering each request in ``seen`` when given."""
    def handler(request: Any) -> Any:
        if seen is not None:
            seen.append(request)
        if name.endswith(".sse"):
            return http.Response(200, content=fixture_text(name).encode(),
                                 headers={"content-type": "text/event-stream"})
        return json_response(fixture_json(name))
    return handler


async def drain(stream: Any) -> list[Any]:
    """Every chunk or event of a sync or async stream."""
    if hasattr(stream, "__aiter__"):
        return [e async for e in stream]
    return list(stream)


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    """The examples' OpenAI-compatible loopback server, started and stopped around the test."""
    with FakeOpenAIServer() as running:
        yield running


@pytest.fixture
def client(server: FakeOpenAIServer) -> Iterator[openai.OpenAI]:
    """A real sync client talking to the loopback server."""
    with openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0,
                       http_client=http.Client(trust_env=False)) as real:
        yield real


@pytest.fixture
async def aclient(server: FakeOpenAIServer) -> AsyncIterator[openai.AsyncOpenAI]:
    """A real async client talking to the loopback server."""
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0,
                                  http_client=http.AsyncClient(trust_env=False)) as real:
        yield real


# --- the session-wide content schema check (tests/_schemas.py) -----------------------------------------------


def pytest_collection_modifyitems(items: list[Any]) -> None:
    """Tests marked ``run_last`` (the schema check over every value the session produced) go to the end."""
    items.sort(key=lambda item: bool(getattr(getattr(item, "function", None), "run_last", False)))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The figure of the content schema check: values valid / values checked."""
    if COLLECTOR.report.total[1]:
        terminalreporter.write_line(COLLECTOR.report.summary())
