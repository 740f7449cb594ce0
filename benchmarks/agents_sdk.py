"""What tracing an OpenAI Agents SDK run costs: our processor's time per agent span and per tool span.

    python benchmarks/agents_sdk.py [--spans 20000] [--rounds 7]      # wall time, minimum over rounds
    python benchmarks/agents_sdk.py --instructions [--spans 2000]     # instruction counts under callgrind

The SDK's own tracing (span objects, contextvars, its processor list) runs in every variant; what differs
is the processors registered:

- ``sdk-none``: no processor at all, the floor of the SDK's tracing;
- ``sdk-default``: OpenAI's own ``BatchTraceProcessor`` with an exporter that drops everything (its
  uploader, minus the network): what every Agents SDK user pays today;
- ``ours``: our processor alone, into an OpenTelemetry ``TracerProvider`` whose ``SimpleSpanProcessor``
  hands each span to an exporter that drops it (so the span's whole life is timed, export aside);
- ``otel-floor``: no SDK span at all, only what any processor emitting an OpenTelemetry span must pay: one
  span with the same name and start attributes into the same pipeline, made current and detached again.

Each round times ``--spans`` agent spans (``agent_span`` entered and exited inside one trace), then as many
tool spans (``function_span`` inside one agent span), for each variant, in turn; the minimum over rounds is
reported, per span, with ours minus sdk-none as the processor's added cost. ``--instructions`` counts
instructions instead (each variant and span kind in its own process under ``valgrind --tool=callgrind
--instr-atstart=no``, counting switched on with ``callgrind_control`` around the spans only): slower, but
exact and unaffected by a busy machine. Needs ``openai-agents``.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

import agents
import counted  # run as a script: benchmarks/ is on sys.path
from agents.tracing import processors as sdk_processors
from opentelemetry import context, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult

from otel_openai import OpenAIInstrumentor


class _DropOtel(SpanExporter):
    def export(self, spans: Sequence[Any]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


class _DropSdk(sdk_processors.TracingExporter):  # type: ignore[misc]
    def export(self, items: list[Any]) -> None:
        return None


def agent_spans(count: int) -> None:
    with agents.trace("bench"):
        for _ in range(count):
            with agents.agent_span(name="weather_agent"):
                pass


def tool_spans(count: int) -> None:
    with agents.trace("bench"), agents.agent_span(name="weather_agent"):
        for _ in range(count):
            with agents.function_span(name="get_weather"):
                pass


_FLOOR_PROVIDER = TracerProvider()
_FLOOR_PROVIDER.add_span_processor(SimpleSpanProcessor(_DropOtel()))
_FLOOR_ATTRIBUTES = {
    "agent": ("invoke_agent weather_agent", {"gen_ai.operation.name": "invoke_agent",
                                             "gen_ai.agent.name": "weather_agent"}),
    "tool": ("execute_tool get_weather", {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "get_weather",
                                          "gen_ai.tool.type": "function", "gen_ai.agent.name": "weather_agent"}),
}


def floor_spans(kind: str, count: int) -> None:
    """The floor: the OpenTelemetry span alone, started, made current, detached and ended."""
    tracer = _FLOOR_PROVIDER.get_tracer("floor")
    name, attributes = _FLOOR_ATTRIBUTES[kind]
    for _ in range(count):
        span = tracer.start_span(name, kind=trace.SpanKind.INTERNAL, attributes=attributes)
        token = context.attach(trace.set_span_in_context(span))
        context.detach(token)
        span.end()


def _processors() -> tuple[Any, ...]:
    return tuple(agents.tracing.get_trace_provider()._multi_processor._processors)


def variants() -> dict[str, Callable[[], None]]:
    """Each variant's setup: it leaves exactly its processors registered."""
    instrumentor = OpenAIInstrumentor()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(_DropOtel()))
    batch = sdk_processors.BatchTraceProcessor(_DropSdk())

    def none() -> None:
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()
        agents.set_trace_processors([])

    def default() -> None:
        none()
        agents.set_trace_processors([batch])

    def ours() -> None:
        none()
        instrumentor.instrument(tracer_provider=provider)
        assert [type(p).__name__ for p in _processors()] == ["AgentsProcessor"]

    return {"sdk-none": none, "sdk-default": default, "ours": ours, "otel-floor": none}


RUNS = {"agent": agent_spans, "tool": tool_spans}


def _runner(variant: str, kind: str) -> Callable[[int], None]:
    return (lambda count: floor_spans(kind, count)) if variant == "otel-floor" else RUNS[kind]


def measure(spans: int, rounds: int) -> dict[str, dict[str, float]]:
    setups = variants()
    best: dict[str, dict[str, float]] = {name: {"agent": float("inf"), "tool": float("inf")} for name in setups}
    for _ in range(rounds):
        for name, setup in setups.items():
            setup()
            for kind in RUNS:
                run = _runner(name, kind)
                run(200)  # warm up
                start = time.perf_counter()
                run(spans)
                best[name][kind] = min(best[name][kind], (time.perf_counter() - start) / spans)
    setups["sdk-none"]()
    return best


# --- instruction counts ------------------------------------------------------------------------------------



def child(variant: str, kind: str, spans: int) -> None:
    """In a callgrind process: set the variant up, warm up, count instructions around ``spans`` spans only."""
    variants()[variant]()
    run = _runner(variant, kind)
    run(200)
    with counted.window():
        run(spans)


def count(variant: str, kind: str, spans: int) -> float:
    """Instructions per span of one variant and kind."""
    return counted.count(__file__, variant, kind, str(spans)) / spans


def instructions(spans: int, jobs: int) -> dict[str, dict[str, float]]:
    tasks = [(variant, kind) for variant in ("sdk-none", "sdk-default", "ours", "otel-floor") for kind in RUNS]
    with ThreadPoolExecutor(jobs) as pool:
        counts = list(pool.map(lambda task: count(*task, spans), tasks))
    table: dict[str, dict[str, float]] = {}
    for (variant, kind), value in zip(tasks, counts):
        table.setdefault(variant, {})[kind] = value
    return table


def report(table: dict[str, dict[str, float]], unit: str, scale: float, fmt: str) -> None:
    print(f"{'variant':<12} {'agent span':>11} {'tool span':>10}   ({unit} per span)")
    for name, row in table.items():
        print(f"{name:<12} {row['agent'] * scale:>11{fmt}} {row['tool'] * scale:>10{fmt}}")
    added = {kind: (table["ours"][kind] - table["sdk-none"][kind]) * scale for kind in RUNS}
    sdk = {kind: (table["sdk-default"][kind] - table["sdk-none"][kind]) * scale for kind in RUNS}
    print(f"ours added: {added['agent']:{fmt}} {unit} per agent span, {added['tool']:{fmt}} {unit} per tool span "
          f"(OpenAI's own processor: {sdk['agent']:{fmt}} / {sdk['tool']:{fmt}}; "
          f"the bare OpenTelemetry span: {table['otel-floor']['agent'] * scale:{fmt}} / "
          f"{table['otel-floor']['tool'] * scale:{fmt}})")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, help="spans per measurement (default 20000; 2000 counted)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--instructions", action="store_true", help="count instructions under callgrind")
    parser.add_argument("--jobs", type=int, default=2, help="callgrind processes at once")
    args = parser.parse_args()
    version = getattr(agents, "__version__", None) or _version()
    if args.instructions:
        spans = args.spans or 2000
        print(f"openai-agents {version}, instructions counted over {spans} spans:")
        report(instructions(spans, args.jobs), "instructions", 1, ",.0f")
        return
    spans = args.spans or 20_000
    print(f"openai-agents {version}, {spans} spans x {args.rounds} rounds, minimum per span:")
    report(measure(spans, args.rounds), "µs", 1e6, ".2f")


def _version() -> str:
    from importlib.metadata import version

    return version("openai-agents")


if __name__ == "__main__":
    main()
