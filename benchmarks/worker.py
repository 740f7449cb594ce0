"""One benchmark process: set up one variant, time (or weigh) every scenario, print one JSON line.

run.py starts a fresh process per round and variant, so no variant inherits another's warm caches,
patched classes or garbage. Usage: ``python worker.py MODE VARIANT CONTENT [options]`` (see ``main``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
import tracemalloc
from collections.abc import Sequence
from typing import Any, Callable

import openai
import variants
from scenarios import BY_NAME, SCENARIOS, Scenario, async_call, make_clients, sync_call
from variants import Pipeline, SpanSpec, Variant

Batch = Callable[[int], None]


def build(variant: str, content: bool, pipeline: Pipeline, specs: dict[str, SpanSpec] | None) -> Variant:
    if variant == "none":
        return variants.none()
    if variant in ("floor", "floor-chunk"):
        assert specs is not None, "the floor needs calibration specs"
        return variants.floor(pipeline, specs, variant)
    if variant in ("ours", "ours-chunk"):
        return variants.ours(pipeline, content, chunk_metric=variant == "ours-chunk")
    return variants.peer(variant, pipeline, content)


def batches_for(variant: Variant, scenario: Scenario, clients: tuple[Any, Any],
                loop: asyncio.AbstractEventLoop, on: bool = True) -> dict[str, Batch]:
    """A sync and an async ``batch(n)``: n calls back to back (async: inside one running loop).
    ``on=False`` gives the plain calls, for the uninstrumented half of a pair."""
    sync_client, async_client = clients
    sync_fn = variant.sync if on else sync_call
    async_fn = variant.async_ if on else async_call

    def sync_batch(n: int) -> None:
        for _ in range(n):
            sync_fn(sync_client, scenario)

    async def many(n: int) -> None:
        for _ in range(n):
            await async_fn(async_client, scenario)

    def async_batch(n: int) -> None:
        loop.run_until_complete(many(n))

    return {"sync": sync_batch, "async": async_batch}


# --- timing ---------------------------------------------------------------------------------------


def _timed(batch: Batch, n: int) -> tuple[float, float]:
    c0, w0 = time.thread_time_ns(), time.perf_counter_ns()
    batch(n)
    c1, w1 = time.thread_time_ns(), time.perf_counter_ns()
    return (c1 - c0) / n, (w1 - w0) / n


def measure(variant: Variant, plain: Batch, instrumented: Batch, budget: float, rounds: int) -> dict[str, Any]:
    """Per-call thread CPU time of the variant and of the plain call, in alternating batches (ABBA).

    Thread CPU time is the headline: another process taking the core does not inflate it. It leaves out
    the BatchSpanProcessor's export thread, which only hands spans to an exporter that drops them.
    Alternating batches in one process pair each variant batch with a plain batch run under the same
    load, so the overhead is a paired difference: far steadier than comparing two processes.
    """
    variant.disable()
    plain(3)
    began = time.perf_counter()
    plain(3)
    per_call = max((time.perf_counter() - began) / 3, 1e-6)
    n = max(1, round(budget / rounds / 2 / per_call))
    variant.enable()
    instrumented(n)  # warm: caches, lru tables, the metric aggregations of every attribute set
    gc.collect()
    # Without a working switch, the warm-up "plain" calls above were instrumented too.
    cpu, wall, base_cpu, base_wall, diffs, calls = [], [], [], [], [], n + (0 if variant.paired else 6)
    for i in range(rounds):
        measured: dict[bool, tuple[float, float]] = {}
        for on in ((True, False) if i % 2 else (False, True)):
            if variant.paired or on:
                (variant.enable if on else variant.disable)()
                batch = instrumented if on else plain
                batch(1)  # the first call after a switch pays for the switch
                measured[on] = _timed(batch, n)
                calls += (n + 1) if on else 0
        cpu.append(measured[True][0])
        wall.append(measured[True][1])
        if variant.paired:
            base_cpu.append(measured[False][0])
            base_wall.append(measured[False][1])
            diffs.append(measured[True][0] - measured[False][0])
    variant.enable()
    result: dict[str, Any] = {"cpu_ns": statistics.median(cpu), "wall_ns": statistics.median(wall),
                              "n": n, "batches": rounds, "variant_calls": calls, "paired": variant.paired}
    if variant.paired:
        result.update(base_cpu_ns=statistics.median(base_cpu), base_wall_ns=statistics.median(base_wall),
                      overhead_ns=statistics.median(diffs), overhead_batches_ns=diffs)
    return result


def run_time(variant: Variant, pipeline: Pipeline, scenarios: Sequence[Scenario], budget: float,
             rounds: int) -> dict[str, Any]:
    clients = make_clients()
    loop = asyncio.new_event_loop()
    out: dict[str, Any] = {}
    _restores(variant, pipeline, clients[0])
    for scenario in scenarios:
        plain = batches_for(variant, scenario, clients, loop, on=False)
        instrumented = batches_for(variant, scenario, clients, loop)
        for mode in ("sync", "async"):
            pipeline.flush()
            before = pipeline.spans.count
            result = measure(variant, plain[mode], instrumented[mode], budget, rounds)
            pipeline.flush()
            # 0 means the scenario is not traced by this variant; 2 means every call is traced twice.
            result["spans_per_call"] = (pipeline.spans.count - before) / max(result["variant_calls"], 1)
            out[f"{scenario.name}/{mode}"] = result
    loop.close()
    return out


def _restores(variant: Variant, pipeline: Pipeline, client: Any) -> bool:
    """Whether switching the variant off really stops it (one peer's uninstrument() does nothing)."""
    variant.disable()
    pipeline.flush()
    before = pipeline.spans.count
    sync_call(client, BY_NAME["chat"])
    pipeline.flush()
    if pipeline.spans.count != before:
        variant.keep_on()
        return False
    variant.enable()
    return True


# --- memory ---------------------------------------------------------------------------------------


def run_memory(variant: Variant, pipeline: Pipeline, scenarios: Sequence[Scenario],
               retained_calls: int) -> dict[str, Any]:
    """Peak bytes above the starting point during one call, and bytes still held after many calls."""
    clients = make_clients()
    loop = asyncio.new_event_loop()
    out: dict[str, Any] = {}
    tracemalloc.start()
    for scenario in scenarios:
        batch = batches_for(variant, scenario, clients, loop)["sync"]
        batch(10)
        peaks = []
        for _ in range(15):
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            batch(1)
            peaks.append(tracemalloc.get_traced_memory()[1] - base)
        # Heavy calls (a stream parses 200 chunks, a float embedding 24k numbers) cost 20-100x a plain call
        # under tracemalloc: fewer of them still show any per-call growth.
        calls = max(retained_calls // MEMORY_WEIGHT.get(scenario.name, 1), 10)
        pipeline.flush()
        gc.collect()
        start = tracemalloc.get_traced_memory()[0]
        batch(calls)
        pipeline.flush()
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - start
        out[scenario.name] = {"peak_bytes": statistics.median(peaks), "retained_bytes": retained,
                              "retained_calls": calls}
    tracemalloc.stop()
    loop.close()
    return out


MEMORY_WEIGHT = {"chat_stream": 20, "chat_stream_short": 5, "responses_stream": 20, "embeddings_base64": 20,
                 "embeddings_float": 100}


# --- calibration: what ours records, for the floor to replay --------------------------------------


def _points(reader: Any) -> dict[tuple[str, str], tuple[int, float, dict[str, Any]]]:
    data = reader.get_metrics_data()
    found = {}
    for rm in data.resource_metrics if data else []:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                for p in metric.data.data_points:
                    attrs = dict(p.attributes)
                    found[(metric.name, json.dumps(attrs, sort_keys=True))] = (p.count, p.sum, attrs)
    return found


def specs_key(content: bool, chunk_metric: bool) -> str:
    """The calibration entry for a content mode: "off"/"on" for ours by default, "chunk-off"/"chunk-on" for
    ours with the per-chunk histogram (what floor-chunk replays)."""
    return ("chunk-" if chunk_metric else "") + ("on" if content else "off")


def calibrate(content: bool, chunk_metric: bool = False) -> dict[str, Any]:
    """Run each scenario once under ours with in-memory exporters; record its span and metric points."""
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    pipeline = Pipeline()
    memory = InMemorySpanExporter()
    pipeline.tracer_provider.add_span_processor(SimpleSpanProcessor(memory))
    variant = variants.ours(pipeline, content, chunk_metric)
    sync_client, _ = make_clients()
    specs: dict[str, Any] = {}
    for scenario in SCENARIOS:
        memory.clear()
        before = _points(pipeline.metric_reader)
        variant.sync(sync_client, scenario)
        after = _points(pipeline.metric_reader)
        spans = memory.get_finished_spans()
        if not spans:
            spec = variants.stand_in_spec(scenario, chunk_metric)
        else:
            span = spans[-1]
            attrs = {k: list(v) if isinstance(v, tuple) else v for k, v in span.attributes.items()}
            points: dict[str, list[Any]] = {}
            for key, (count, total, p_attrs) in after.items():
                prev = before.get(key, (0, 0.0, p_attrs))
                if count > prev[0]:
                    value = round(total - prev[1]) if key[0] == "gen_ai.client.token.usage" else None
                    points.setdefault(key[0], []).append((p_attrs, value, count - prev[0]))
            spec = SpanSpec(span.name, {k: v for k, v in attrs.items() if k in variants.START_KEYS},
                            {k: v for k, v in attrs.items() if k not in variants.START_KEYS}, points)
        specs[scenario.name] = {**spec.__dict__, "spans": len(spans)}
    return specs


def load_specs(path: str, content: bool, chunk_metric: bool = False) -> dict[str, SpanSpec]:
    with open(path) as f:
        raw = json.load(f)["specs"][specs_key(content, chunk_metric)]
    return {name: SpanSpec(s["name"], s["start_attrs"], s["end_attrs"],
                           {k: [tuple(p) for p in v] for k, v in s["points"].items()}, s["traced_by_ours"])
            for name, s in raw.items()}


def main(argv: Sequence[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["time", "memory", "calibrate"])
    parser.add_argument("variant", nargs="?", default="ours")
    parser.add_argument("content", nargs="?", choices=["off", "on"], default="off")
    parser.add_argument("--scenarios", default=",".join(BY_NAME))
    parser.add_argument("--specs", help="calibration JSON (the floor needs it)")
    parser.add_argument("--budget", type=float, default=0.3, help="seconds of timed calls per scenario and mode")
    parser.add_argument("--rounds", type=int, default=15, help="timed batches per scenario and mode")
    parser.add_argument("--retained-calls", type=int, default=10_000)
    args = parser.parse_args(argv)
    content = args.content == "on"
    meta = {"openai": openai.__version__, "python": sys.version.split()[0], "variant": args.variant,
            "content": args.content, "mode": args.mode}
    chunk_metric = args.variant.endswith("-chunk")
    if args.mode == "calibrate":
        print(json.dumps({**meta, "specs": calibrate(content, chunk_metric)}))
        return
    scenarios = [BY_NAME[s] for s in args.scenarios.split(",") if s]
    pipeline = Pipeline()
    specs = load_specs(args.specs, content, chunk_metric) if args.specs else None
    variant = build(args.variant, content, pipeline, specs)
    if args.mode == "time":
        results = run_time(variant, pipeline, scenarios, args.budget, args.rounds)
    else:
        results = run_memory(variant, pipeline, scenarios, args.retained_calls)
    pipeline.flush()
    print(json.dumps({**meta, "results": results}))


if __name__ == "__main__":
    main(sys.argv[1:])
