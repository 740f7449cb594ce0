"""What each benchmark variant adds to a call: nothing, the hand-made floor, ours, or a peer instrumentor.

Every instrumented variant gets the same realistic SDK pipeline: a TracerProvider with a BatchSpanProcessor
to an exporter that drops spans, a MeterProvider with an InMemoryMetricReader (never collected while
timing), and a LoggerProvider with a BatchLogRecordProcessor to an exporter that drops records.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Callable

from opentelemetry import context, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind
from scenarios import Scenario, async_call, method, sync_call

try:
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor, LogRecordExporter, LogRecordExportResult
except ImportError:  # older SDKs named the exporter LogExporter
    from opentelemetry.sdk._logs.export import (  # type: ignore[no-redef,attr-defined]
        LogExporter as LogRecordExporter,
    )
    from opentelemetry.sdk._logs.export import (
        LogExportResult as LogRecordExportResult,
    )

PEERS = ("openai-v2", "openllmetry", "openinference")
DURATION_BUCKETS = [0.01 * 2**i for i in range(14)]
TOKEN_BUCKETS = [float(4**i) for i in range(14)]


class DroppingSpanExporter(SpanExporter):
    """Counts spans and drops them: what is left is the SDK's and the instrumentation's own cost."""

    def __init__(self) -> None:
        self.count = 0

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        self.count += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


class DroppingLogExporter(LogRecordExporter):  # type: ignore[misc]
    def export(self, batch: Sequence[Any]) -> Any:
        return LogRecordExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return True

    def shutdown(self) -> None:
        pass


@dataclass
class Pipeline:
    spans: DroppingSpanExporter = field(default_factory=DroppingSpanExporter)
    tracer_provider: TracerProvider = field(default_factory=TracerProvider)
    metric_reader: InMemoryMetricReader = field(default_factory=InMemoryMetricReader)
    meter_provider: Any = None
    logger_provider: Any = None

    def __post_init__(self) -> None:
        self.tracer_provider.add_span_processor(BatchSpanProcessor(self.spans))
        self.meter_provider = MeterProvider(metric_readers=[self.metric_reader])
        self.logger_provider = LoggerProvider()
        self.logger_provider.add_log_record_processor(BatchLogRecordProcessor(DroppingLogExporter()))

    def flush(self) -> None:
        self.tracer_provider.force_flush()
        self.logger_provider.force_flush()


# --- the variants ---------------------------------------------------------------------------------

Call = Callable[[Any, Scenario], Any]


def _nothing() -> None:
    pass


@dataclass
class Variant:
    """How to call, and how to switch the variant off and on again in the same process.

    ``sync``/``async_`` take (client, scenario) and are used while the variant is on; while it is off the
    plain calls run. ``paired`` is False when switching off does not really restore the SDK.
    """

    name: str
    sync: Call = sync_call
    async_: Any = async_call
    enable: Callable[[], None] = _nothing
    disable: Callable[[], None] = _nothing
    paired: bool = True
    keep_on: Callable[[], None] = _nothing


def none() -> Variant:
    return Variant("none")


def _instrumentor(name: str, instrumentor: Any, **kwargs: Any) -> Variant:
    instrumentor.instrument(**kwargs)
    on = [True]

    def enable() -> None:
        if not on[0]:
            instrumentor.instrument(skip_dep_check=True, **kwargs)
            on[0] = True

    def disable() -> None:
        if on[0]:
            instrumentor.uninstrument()
            on[0] = False

    def keep_on() -> None:
        # uninstrument() left the SDK patched: never instrument again, it would stack a second wrapper.
        on[0] = True
        variant.enable = variant.disable = _nothing
        variant.paired = False

    variant = Variant(name, enable=enable, disable=disable, keep_on=keep_on)
    return variant


def ours(pipeline: Pipeline, content: bool, chunk_metric: bool = False) -> Variant:
    """Ours in its default configuration ("ours"), or with the opt-in per-chunk histogram ("ours-chunk")."""
    from otel_openai import OpenAIInstrumentor

    # "ours" passes no time_per_chunk_metric at all, so it measures whatever the default is.
    extra: dict[str, Any] = {"time_per_chunk_metric": True} if chunk_metric else {}
    return _instrumentor(
        "ours-chunk" if chunk_metric else "ours", OpenAIInstrumentor(),
        tracer_provider=pipeline.tracer_provider, meter_provider=pipeline.meter_provider,
        logger_provider=pipeline.logger_provider, capture_content=content, **extra)


def peer(name: str, pipeline: Pipeline, content: bool) -> Variant:
    """A peer instrumentor, its content capture switched by its own documented setting."""
    flag = "true" if content else "false"
    hide = "false" if content else "true"
    if name == "openai-v2":
        os.environ["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = flag
        from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor as V2

        return _instrumentor(name, V2(), tracer_provider=pipeline.tracer_provider,
                             meter_provider=pipeline.meter_provider, logger_provider=pipeline.logger_provider)
    if name == "openllmetry":
        os.environ["TRACELOOP_TRACE_CONTENT"] = flag
        from opentelemetry.instrumentation.openai import OpenAIInstrumentor as Traceloop

        return _instrumentor(name, Traceloop(), tracer_provider=pipeline.tracer_provider,
                             meter_provider=pipeline.meter_provider)
    if name == "openinference":
        os.environ["OPENINFERENCE_HIDE_INPUTS"] = hide
        os.environ["OPENINFERENCE_HIDE_OUTPUTS"] = hide
        from openinference.instrumentation.openai import OpenAIInstrumentor as OpenInference

        return _instrumentor(name, OpenInference(), tracer_provider=pipeline.tracer_provider)
    raise ValueError(f"unknown peer {name!r}")


# --- the floor --------------------------------------------------------------------------------------


@dataclass
class SpanSpec:
    """One call's telemetry as ours produced it (or a stand-in where ours traces nothing yet)."""

    name: str
    start_attrs: dict[str, Any]
    end_attrs: dict[str, Any]
    # metric name -> list of (attributes, value or None for "measure it", points per call)
    points: dict[str, list[tuple[dict[str, Any], Any, int]]]
    traced_by_ours: bool = True


START_KEYS = frozenset({"gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model",
                        "server.address", "server.port"})


def floor(pipeline: Pipeline, specs: dict[str, SpanSpec], name: str = "floor") -> Variant:
    """One hand-made span with the same attributes and the same histogram records; nothing else.

    The span is made current during the request, as any instrumentation must for its HTTP children.
    Attribute values are precomputed: the floor pays what the OpenTelemetry SDK costs, not mapping.
    Which histogram points it records is whatever the calibration saw ours record: "floor" replays ours
    by default (no time_per_output_chunk), "floor-chunk" replays ours-chunk (one point per chunk).
    """
    tracer = pipeline.tracer_provider.get_tracer("bench.floor")
    meter = pipeline.meter_provider.get_meter("bench.floor")

    def hist(name: str, unit: str, buckets: list[float]) -> Any:
        return meter.create_histogram(name, unit=unit, explicit_bucket_boundaries_advisory=buckets)

    duration = hist("gen_ai.client.operation.duration", "s", DURATION_BUCKETS)
    tokens = hist("gen_ai.client.token.usage", "{token}", TOKEN_BUCKETS)
    ttfc = hist("gen_ai.client.operation.time_to_first_chunk", "s", DURATION_BUCKETS)
    tpoc = hist("gen_ai.client.operation.time_per_output_chunk", "s", DURATION_BUCKETS)

    def start(scenario: Scenario) -> tuple[SpanSpec, Any, Any, float]:
        spec = specs[scenario.name]
        span = tracer.start_span(spec.name, kind=SpanKind.CLIENT, attributes=spec.start_attrs)
        token = context.attach(trace.set_span_in_context(span))
        return spec, span, token, time.perf_counter()

    def finish(spec: SpanSpec, span: Any, began: float) -> None:
        span.set_attributes(spec.end_attrs)
        span.end()
        elapsed = time.perf_counter() - began
        for attrs, _value, _n in spec.points.get("gen_ai.client.operation.duration", ()):
            duration.record(elapsed, attrs)
        for attrs, value, _n in spec.points.get("gen_ai.client.token.usage", ()):
            tokens.record(value, attrs)

    def chunk_recorder(spec: SpanSpec, began: float) -> Callable[[], None]:
        first = spec.points.get("gen_ai.client.operation.time_to_first_chunk")
        per = spec.points.get("gen_ai.client.operation.time_per_output_chunk")
        first_attrs = first[0][0] if first else None
        per_attrs = per[0][0] if per else None
        # As many per-chunk points as ours recorded (it counts only output-bearing chunks, not the usage one).
        left = [per[0][2] if per else 0]
        last = [0.0]

        def on_chunk() -> None:
            now = time.perf_counter()
            if not last[0]:
                if first_attrs is not None:
                    ttfc.record(now - began, first_attrs)
            elif left[0] > 0:
                tpoc.record(now - last[0], per_attrs)
                left[0] -= 1
            last[0] = now

        return on_chunk

    def create(client: Any, scenario: Scenario) -> Any:
        return method(client, scenario)(**scenario.kwargs)

    def sync(client: Any, scenario: Scenario) -> Any:
        spec, span, token, began = start(scenario)
        try:
            result = create(client, scenario)
        finally:
            context.detach(token)
        if scenario.stream:
            on_chunk = chunk_recorder(spec, began)
            for _chunk in result:
                on_chunk()
        finish(spec, span, began)
        return result

    async def async_(client: Any, scenario: Scenario) -> Any:
        spec, span, token, began = start(scenario)
        try:
            result = await create(client, scenario)
        finally:
            context.detach(token)
        if scenario.stream:
            on_chunk = chunk_recorder(spec, began)
            async for _chunk in result:
                on_chunk()
        finish(spec, span, began)
        return result

    return Variant(name, sync, async_)


def stand_in_spec(scenario: Scenario, chunk_metric: bool = False) -> SpanSpec:
    """For a scenario ours does not trace (yet): the minimal span the conventions require."""
    start = {"gen_ai.operation.name": scenario.operation, "gen_ai.provider.name": "openai",
             "gen_ai.request.model": scenario.request_model, "server.address": "openai.test",
             "server.port": 8080}
    response_model = "text-embedding-3-small" if scenario.resource == "embeddings" else "gpt-4o-mini-2024-07-18"
    end: dict[str, Any] = {"gen_ai.response.model": response_model, "gen_ai.usage.input_tokens": 96}
    metric_attrs = {**start, "gen_ai.response.model": response_model}
    points: dict[str, list[tuple[dict[str, Any], Any, int]]] = {
        "gen_ai.client.operation.duration": [(metric_attrs, None, 1)],
        "gen_ai.client.token.usage": [({**metric_attrs, "gen_ai.token.type": "input"}, 96, 1)],
    }
    if scenario.resource != "embeddings":
        end.update({"gen_ai.response.id": "resp_bench", "gen_ai.usage.output_tokens": 200,
                    "gen_ai.response.finish_reasons": ["stop"]})
        points["gen_ai.client.token.usage"].append(({**metric_attrs, "gen_ai.token.type": "output"}, 200, 1))
    if scenario.stream:
        points["gen_ai.client.operation.time_to_first_chunk"] = [(metric_attrs, None, 1)]
        if chunk_metric:
            points["gen_ai.client.operation.time_per_output_chunk"] = [(metric_attrs, None, scenario.chunks - 1)]
    name = f"{scenario.operation} {scenario.request_model}"
    return SpanSpec(name, start, end, points, traced_by_ours=False)
