"""Injected faults: broken exporters, providers and samplers, lifecycle races, and other instrumentations."""

from __future__ import annotations

import dataclasses
import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import wrapt
from opentelemetry import trace
from opentelemetry._logs import NoOpLogger, NoOpLoggerProvider
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.metrics import NoOpHistogram, NoOpMeter, NoOpMeterProvider
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind

from otel_openai import OpenAIInstrumentor
from otel_openai import _semconv as sc
from otel_openai._mapping import ROUTES
from tests.conftest import Telemetry, make_client
from tests.trust._calls import KINDS, MODEL, call, chat_server, chunks, sse_bytes

EXPECTED = {"plain": "Hello there", "stream": "Hello there", "abandoned": "Hel", "raw": "Hello there",
            "error": "RateLimitError"}


@pytest.fixture
def instrumentor() -> Iterator[OpenAIInstrumentor]:
    instrumentor = OpenAIInstrumentor()
    yield instrumentor
    instrumentor.uninstrument()


def _each_kind(client: Any) -> None:
    """Every kind of call still returns exactly what the server sent."""
    for kind in KINDS:
        assert call(client, kind) == EXPECTED[kind], kind
    gc.collect()  # end the abandoned stream's span


# --- exporters ---------------------------------------------------------------------------------------


class RaisingExporter(SpanExporter):
    def __init__(self) -> None:
        self.calls = 0

    def export(self, spans: Any) -> SpanExportResult:
        self.calls += 1
        raise ConnectionRefusedError("collector down")

    def shutdown(self) -> None:
        pass


class HangingExporter(SpanExporter):
    """An exporter stuck on a dead collector until the test releases it."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered = threading.Event()

    def export(self, spans: Any) -> SpanExportResult:
        self.entered.set()
        self.release.wait()
        return SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self.release.set()


@pytest.mark.parametrize("processor", [SimpleSpanProcessor, BatchSpanProcessor])
def test_exporter_raising(instrumentor: OpenAIInstrumentor, processor: Any) -> None:
    """An exporter that raises on every export (collector down) changes nothing for the caller."""
    exporter = RaisingExporter()
    provider = TracerProvider()
    provider.add_span_processor(processor(exporter))
    instrumentor.instrument(tracer_provider=provider)
    _each_kind(make_client(chat_server))
    provider.force_flush()
    assert exporter.calls >= 1
    provider.shutdown()


def _live_spans() -> int:
    gc.collect()
    # type(), not isinstance(): the SDK has lazy module proxies whose __class__ raises.
    return sum(1 for o in gc.get_objects() if issubclass(type(o), ReadableSpan))


def test_exporter_hanging_keeps_calls_going_and_memory_bounded(instrumentor: OpenAIInstrumentor) -> None:
    """With a hung exporter the calls all complete and the spans held stay within the batch queue's bound."""
    exporter = HangingExporter()
    queue = 64
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(exporter, max_queue_size=queue, max_export_batch_size=16,
                                                   schedule_delay_millis=1))
    instrumentor.instrument(tracer_provider=provider)
    client = make_client(chat_server)
    before = _live_spans()
    calls = 600
    done = threading.Event()

    def run() -> None:
        for i in range(calls):
            call(client, KINDS[i % len(KINDS)])
        done.set()

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    # A liveness bound, not a timing assertion: if a call blocked on the exporter, this would never finish.
    worker.join(120)
    finished = done.is_set()
    held = _live_spans() - before
    exporter.release.set()
    provider.shutdown()
    assert finished, "calls blocked behind a hung exporter"
    assert exporter.entered.is_set()
    # The queue plus the batch in the stuck export; everything else was dropped by the SDK, not kept by us.
    assert held <= queue + 16 + 2, held


# --- metrics, logs and traces that raise -----------------------------------------------------------


class RaisingHistogram(NoOpHistogram):
    def record(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("meter broken")


class RaisingMeter(NoOpMeter):
    def create_histogram(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return RaisingHistogram(name)


class RaisingMeterProvider(NoOpMeterProvider):
    def get_meter(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return RaisingMeter(name)


class RaisingLogger(NoOpLogger):
    def emit(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("logger broken")


class RaisingLoggerProvider(NoOpLoggerProvider):
    def get_logger(self, name: str, *args: Any, **kwargs: Any) -> Any:
        return RaisingLogger(name)


class RaisingProcessor(SimpleSpanProcessor):
    """A span processor whose hooks raise (the SDK does not guard on_end)."""

    def __init__(self, where: str, exporter: Any) -> None:
        super().__init__(exporter)
        self.where = where

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        if self.where == "start":
            raise RuntimeError("on_start broken")

    def on_end(self, span: Any) -> None:
        if self.where == "end":
            raise RuntimeError("on_end broken")
        super().on_end(span)


def test_meter_and_logger_providers_raising(instrumentor: OpenAIInstrumentor, telemetry: Telemetry) -> None:
    """Instruments and event loggers that raise on every use leave calls and spans intact."""
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=RaisingMeterProvider(),
                            logger_provider=RaisingLoggerProvider(), capture_content="SPAN_AND_EVENT",
                            stream_chunk_events=2)
    _each_kind(make_client(chat_server))
    assert len(telemetry.finished_spans()) == len(KINDS)


@pytest.mark.parametrize("where", ["start", "end"])
def test_span_processor_raising(instrumentor: OpenAIInstrumentor, telemetry: Telemetry, where: str) -> None:
    """A span processor raising in on_start or on_end never reaches the caller."""
    provider = TracerProvider()
    provider.add_span_processor(RaisingProcessor(where, telemetry.spans))
    instrumentor.instrument(tracer_provider=provider, meter_provider=telemetry.meter_provider)
    _each_kind(make_client(chat_server))
    # A span that cannot start means the call passes through untraced; one that cannot end still counts.
    points = telemetry.metric_points(sc.METRIC_OPERATION_DURATION)
    assert sum(p.count for p in points) == (0 if where == "start" else len(KINDS))


# --- sampling ------------------------------------------------------------------------------------


@dataclasses.dataclass
class Spy:
    calls: dict[str, int] = dataclasses.field(default_factory=dict)

    def wrap(self, name: str, fn: Any) -> Any:
        def spy(*args: Any) -> Any:
            self.calls[name] = self.calls.get(name, 0) + 1
            return fn(*args)
        return spy


@pytest.fixture
def spied_chat() -> Iterator[Spy]:
    """Chat's mapping with every request/content function counted."""
    key = ("post", "/chat/completions")
    original = ROUTES[key]
    spy = Spy()
    names = ("request_attributes", "input_messages", "system_instructions", "tool_definitions", "output_messages")
    ROUTES[key] = dataclasses.replace(original, **{n: spy.wrap(n, getattr(original, n)) for n in names})
    yield spy
    ROUTES[key] = original


def test_sampled_out_calls_do_no_request_work(instrumentor: OpenAIInstrumentor, telemetry: Telemetry,
                                              spied_chat: Spy) -> None:
    """Under a sampler that drops everything, request attributes and input content are never computed."""
    instrumentor.instrument(tracer_provider=TracerProvider(sampler=ALWAYS_OFF),
                            meter_provider=telemetry.meter_provider, capture_content="SPAN_ONLY")
    _each_kind(make_client(chat_server))
    assert {k: v for k, v in spied_chat.calls.items() if k != "output_messages"} == {}
    # Metrics still count every call: sampling is for traces.
    assert len(telemetry.metric_points(sc.METRIC_OPERATION_DURATION)) >= 1


def test_sampled_out_calls_do_no_output_content_work(instrumentor: OpenAIInstrumentor, telemetry: Telemetry,
                                                     spied_chat: Spy) -> None:
    """With span-only capture and a sampler that drops everything, output messages are never built."""
    instrumentor.instrument(tracer_provider=TracerProvider(sampler=ALWAYS_OFF),
                            meter_provider=telemetry.meter_provider, capture_content="SPAN_ONLY")
    _each_kind(make_client(chat_server))
    assert spied_chat.calls.get("output_messages", 0) == 0


# --- lifecycle -------------------------------------------------------------------------------------


def test_clients_created_before_instrumenting_are_traced(instrumentor: OpenAIInstrumentor,
                                                         telemetry: Telemetry) -> None:
    """A client built before ``instrument()`` is traced like any other."""
    client = make_client(chat_server)
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    _each_kind(client)
    assert len(telemetry.finished_spans()) == len(KINDS)


@pytest.mark.parametrize("how", ["exhaust", "close", "with"])
def test_uninstrument_while_a_stream_is_open(instrumentor: OpenAIInstrumentor, telemetry: Telemetry,
                                            how: str) -> None:
    """A stream opened while instrumented keeps working after ``uninstrument()``; its span ends once."""
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    client = make_client(lambda request: _sse(chunks(("a", "b", "c"))))
    stream = client.chat.completions.create(model=MODEL, messages=[], stream=True)
    first = next(stream)
    instrumentor.uninstrument()
    if how == "exhaust":
        rest = list(stream)
    elif how == "close":
        rest = [next(stream)]
        stream.close()
    else:
        with stream:
            rest = [next(stream)]
    assert first.choices[0].delta.content == "a"
    assert rest[0].choices[0].delta.content == "b"
    assert len(telemetry.finished_spans()) == 1
    # A later call is not traced at all.
    call(make_client(chat_server), "plain")
    gc.collect()
    assert len(telemetry.finished_spans()) == 1


def _sse(events: list[Any]) -> Any:
    from tests.conftest import http

    return http.Response(200, content=sse_bytes(events), headers={"content-type": "text/event-stream"})


def test_instrument_twice_and_reinstrument(instrumentor: OpenAIInstrumentor, telemetry: Telemetry) -> None:
    """A second ``instrument()`` adds nothing; uninstrument then instrument again gives one span per call."""
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    _each_kind(make_client(chat_server))
    assert len(telemetry.finished_spans()) == len(KINDS)
    instrumentor.uninstrument()
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    _each_kind(make_client(chat_server))
    assert len(telemetry.finished_spans()) == 2 * len(KINDS)


def test_suppress_instrumentation(instrumentor: OpenAIInstrumentor, telemetry: Telemetry) -> None:
    """Calls under ``suppress_instrumentation()`` record no span and no metric point."""
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider, meter_provider=telemetry.meter_provider)
    with suppress_instrumentation():
        _each_kind(make_client(chat_server))
    assert telemetry.finished_spans() == []
    assert telemetry.metric_points(sc.METRIC_OPERATION_DURATION) == []


# --- another OpenAI instrumentation at the same time ------------------------------------------------


@pytest.fixture
def other_instrumentation(telemetry: Telemetry) -> Iterator[list[str]]:
    """A peer-style instrumentor wrapping ``chat.completions.create`` with its own CLIENT span."""
    from openai.resources.chat.completions import Completions

    tracer = trace.get_tracer("peer", tracer_provider=telemetry.tracer_provider)
    models: list[str] = []

    def peer(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        model = kwargs.get("model")
        models.append(model)
        with tracer.start_as_current_span(f"chat {model}", kind=SpanKind.CLIENT, attributes={
                sc.OPERATION_NAME: sc.OP_CHAT, sc.REQUEST_MODEL: model}):
            return wrapped(*args, **kwargs)

    wrapt.wrap_function_wrapper(Completions, "create", peer)
    yield models
    Completions.create = Completions.create.__wrapped__  # type: ignore[method-assign]


def test_two_openai_instrumentations_do_not_duplicate(instrumentor: OpenAIInstrumentor, telemetry: Telemetry,
                                                      other_instrumentation: list[str]) -> None:
    """When another instrumentation's span for the same chat call is current, ours records no second span."""
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    client = make_client(chat_server)
    for kind in ("plain", "stream", "raw", "error"):
        call(client, kind)
    spans = telemetry.finished_spans()
    assert [s.instrumentation_scope.name for s in spans] == ["peer"] * 4
    assert len(other_instrumentation) == 4


def test_framework_span_for_another_model_does_not_hide_ours(instrumentor: OpenAIInstrumentor,
                                                             telemetry: Telemetry) -> None:
    """A current CLIENT chat span for a different model is not this call: ours is still recorded."""
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    tracer = trace.get_tracer("framework", tracer_provider=telemetry.tracer_provider)
    with tracer.start_as_current_span("chat other", kind=SpanKind.CLIENT,
                                      attributes={sc.OPERATION_NAME: sc.OP_CHAT, sc.REQUEST_MODEL: "other"}):
        call(make_client(chat_server), "plain")
    names = sorted(s.instrumentation_scope.name for s in telemetry.finished_spans())
    assert names == ["framework", "otel_openai"]


async def test_uninstrument_while_an_async_stream_is_open(instrumentor: OpenAIInstrumentor,
                                                          telemetry: Telemetry) -> None:
    """An async stream opened while instrumented keeps working after ``uninstrument()``; its span ends once."""
    instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
    client = make_client(lambda request: _sse(chunks(("a", "b", "c"))), async_client=True)
    stream = await client.chat.completions.create(model=MODEL, messages=[], stream=True)
    first = await stream.__anext__()
    instrumentor.uninstrument()
    rest = [chunk async for chunk in stream]
    assert [first.choices[0].delta.content, rest[0].choices[0].delta.content] == ["a", "b"]
    assert len(telemetry.finished_spans()) == 1


async def test_two_openai_instrumentations_async(instrumentor: OpenAIInstrumentor, telemetry: Telemetry) -> None:
    """The no-duplicate rule holds for async clients too."""
    from openai.resources.chat.completions import AsyncCompletions

    tracer = trace.get_tracer("peer", tracer_provider=telemetry.tracer_provider)

    async def peer(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        with tracer.start_as_current_span("chat", kind=SpanKind.CLIENT, attributes={
                sc.OPERATION_NAME: sc.OP_CHAT, sc.REQUEST_MODEL: kwargs.get("model")}):
            return await wrapped(*args, **kwargs)

    wrapt.wrap_function_wrapper(AsyncCompletions, "create", peer)
    try:
        instrumentor.instrument(tracer_provider=telemetry.tracer_provider)
        client = make_client(chat_server, async_client=True)
        await client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "hi"}])
    finally:
        AsyncCompletions.create = AsyncCompletions.create.__wrapped__  # type: ignore[method-assign]
    assert [s.instrumentation_scope.name for s in telemetry.finished_spans()] == ["peer"]
