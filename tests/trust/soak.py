"""Soak: many calls of each kind, instrumented and not, measuring retained bytes and objects.

Run the full size with ``python -m tests.trust.soak --calls 50000`` (calls per kind); the test suite runs a
CI-sized version through ``attributable``. Spans go to an exporter that drops them, so what stays in memory
is what the instrumentation itself keeps.

Retention is measured over the second half of each loop: one-time costs (imports, caches filled by the first
calls, interned strings) land in the warm-up and the first half, while anything kept per call shows up in
both halves alike.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import sys
import tracemalloc
from collections.abc import Sequence
from typing import Any, Optional

from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from otel_openai import OpenAIInstrumentor
from tests.conftest import make_client
from tests.trust._calls import KINDS, call, chat_server

WARMUP = 100


class DroppingExporter(SpanExporter):
    """Counts spans and keeps none of them."""

    def __init__(self) -> None:
        self.exported = 0

    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        self.exported += len(spans)
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        pass


@dataclasses.dataclass
class Figures:
    """What the second half of a loop of ``calls`` calls of one kind left behind."""

    kind: str
    instrumented: bool
    calls: int
    retained_bytes: int
    retained_objects: int
    spans: int

    @property
    def bytes_per_1000(self) -> float:
        return self.retained_bytes * 1000 / (self.calls // 2)


def _settle() -> tuple[int, int]:
    """Collect garbage, then read traced bytes in use and the number of gc-tracked objects."""
    for _ in range(3):
        gc.collect()
    return tracemalloc.get_traced_memory()[0], len(gc.get_objects())


def measure(kind: str, calls: int, instrumented: bool) -> Figures:
    """Run ``calls`` calls of ``kind`` after a warm-up. Allocations are traced over the measured second half
    only (tracing slows every allocation several times, and what the first half allocates is not counted)."""
    exporter = DroppingExporter()
    instrumentor = OpenAIInstrumentor()
    if instrumented:
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
        logger_provider = LoggerProvider()  # no processor: events are built and dropped
        instrumentor.instrument(tracer_provider=tracer_provider, logger_provider=logger_provider,
                                meter_provider=MeterProvider(metric_readers=[InMemoryMetricReader()]))
    try:
        client = make_client(chat_server)
        for _ in range(WARMUP + calls // 2):
            call(client, kind)
        tracing = not tracemalloc.is_tracing()
        if tracing:
            tracemalloc.start()
        try:
            bytes_before, objects_before = _settle()
            for _ in range(calls // 2):
                call(client, kind)
            bytes_after, objects_after = _settle()
        finally:
            if tracing:
                tracemalloc.stop()
    finally:
        if instrumented:
            instrumentor.uninstrument()
    return Figures(kind, instrumented, calls, bytes_after - bytes_before, objects_after - objects_before,
                   max(exporter.exported - WARMUP, 0))  # spans exported during the measured calls


def attributable(kind: str, calls: int) -> tuple[Figures, Figures]:
    """The same loop uninstrumented, then instrumented: the difference is ours."""
    return measure(kind, calls, False), measure(kind, calls, True)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50_000, help="calls of each kind (default 50000)")
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated subset of " + ",".join(KINDS))
    parser.add_argument("--max-bytes-per-1000", type=float, default=4096.0,
                        help="fail when attributable retained bytes per 1,000 calls exceed this")
    args = parser.parse_args(argv)
    print("retained over the second half of each loop, per 1,000 calls; objects = gc-tracked object growth")
    print(f"{'kind':<10} {'calls':>8} {'spans':>8} {'bytes/1k off':>13} {'bytes/1k on':>12} "
          f"{'objs off':>9} {'objs on':>8} {'ours B/1k':>10}")
    worst = 0.0
    for kind in args.kinds.split(","):
        off, on = attributable(kind, args.calls)
        ours = on.bytes_per_1000 - off.bytes_per_1000
        worst = max(worst, ours)
        print(f"{kind:<10} {on.calls:>8} {on.spans:>8} {off.bytes_per_1000:>13.1f} {on.bytes_per_1000:>12.1f} "
              f"{off.retained_objects:>9} {on.retained_objects:>8} {ours:>10.1f}", flush=True)
    verdict = "OK" if worst <= args.max_bytes_per_1000 else "FAIL"
    print(f"{verdict}: worst attributable retention {worst:.1f} bytes per 1,000 calls "
          f"(limit {args.max_bytes_per_1000:.0f})")
    return 0 if verdict == "OK" else 1


if __name__ == "__main__":
    sys.exit(main())
