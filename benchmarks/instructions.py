"""Instruction counts per call under valgrind's callgrind: a comparison of ours and the floor that load cannot skew.

    python benchmarks/instructions.py [--scenarios chat,...] [--calls 40] [--jobs 2] [--no-chunk] [--out FILE]

Each variant runs in its own process under ``valgrind --tool=callgrind --instr-atstart=no``; the process
warms up, then switches counting on around N calls with ``callgrind_control``. Instructions are not time
(cache misses and the cost of a cold instruction cache are not counted), but they are exact and repeatable,
so the ratio of ours to the floor can be read to two digits on a busy machine. Variants: the plain call,
floor and ours (the default configuration), and for streams floor-chunk and ours-chunk (the opt-in
time_per_output_chunk histogram, each recording one point per chunk). Without --specs the floor's span
and metric points come from a fresh calibration of the code being measured.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

VARIANTS = ("none", "floor", "ours", "floor-chunk", "ours-chunk")
CHUNK_VARIANTS = ("floor-chunk", "ours-chunk")
# 20 warm-up calls before counting: with only 3 warm-up streams, a 200-chunk stream still counted ~1M more
# instructions per stream, for ours and the floor alike. Float embeddings (the slowest call) get 2.
WARMUP = {"embeddings_float": 2}
STEADY = False  # --steady
REPEAT = 1  # --repeat


def child(variant: str, scenario_name: str, content: bool, calls: int, specs: str) -> None:
    # --repeat: a different heap layout per run (see count()); kept alive for the whole run.
    layout = bytearray(int(os.environ.get("BENCH_LAYOUT", "0")))  # noqa: F841
    import variants
    import worker
    from scenarios import BY_NAME, make_clients

    pipeline = variants.Pipeline()
    chunk = variant.endswith("-chunk")
    built = worker.build(variant, content, pipeline, worker.load_specs(specs, content, chunk))
    client, _ = make_clients()
    scenario = BY_NAME[scenario_name]
    for _ in range(WARMUP.get(scenario_name, 20)):
        built.sync(client, scenario)
    pid = str(os.getpid())
    steady = os.environ.get("BENCH_STEADY") == "1"
    if steady:  # the cyclic collector runs at allocation thresholds: noise across processes, not per call
        gc.collect()
        gc.disable()
    subprocess.run(["callgrind_control", "-i", "on", pid], capture_output=True, check=False)
    for _ in range(calls):
        built.sync(client, scenario)
    subprocess.run(["callgrind_control", "-i", "off", pid], capture_output=True, check=False)
    gc.enable()
    pipeline.flush()


def count(variant: str, scenario: str, content: str, calls: int, specs: str) -> int | None:
    """The median of ``REPEAT`` counts, each in a differently laid-out heap (``BENCH_LAYOUT``): where the
    interpreter's buffers land moves a 200-chunk stream's plain count by up to ~0.5M instructions (realloc in
    place or not), the same for every variant, and more than ours adds per stream."""
    found = sorted(c for c in (_count(variant, scenario, content, calls, specs, layout)
                               for layout in range(REPEAT)) if c is not None)
    return found[len(found) // 2] if found else None


def _count(variant: str, scenario: str, content: str, calls: int, specs: str, layout: int) -> int | None:
    # The user's own OTel settings (e.g. OTEL_INSTRUMENTATION_OPENAI_*) must not change what "ours" means.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TRACELOOP_", "OPENINFERENCE_"))}
    if STEADY:
        # One hash seed for every process, no timed export (the BatchSpanProcessor's thread would otherwise
        # wake every 5 s of a slow valgrind run and be counted), the collector paused while counting: two
        # runs of a 200-chunk stream then agree to a few thousand instructions instead of ~1-2M.
        env.update(PYTHONHASHSEED="0", OTEL_BSP_SCHEDULE_DELAY="3600000", OTEL_BLRP_SCHEDULE_DELAY="3600000",
                   BENCH_STEADY="1")
    env["BENCH_LAYOUT"] = str(layout * 40_000)
    # --steady: no address-space randomisation either (setarch -R), so a layout is the same in every run.
    prefix = ["setarch", platform.machine(), "-R"] if STEADY and shutil.which("setarch") else []
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        proc = subprocess.run(
            [*prefix, "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
             sys.executable, __file__, "--child", variant, scenario, content, str(calls), specs],
            capture_output=True, text=True, cwd=HERE, env=env)
        found = re.search(r"Collected : (\d+)", proc.stderr)
        if not found or proc.returncode != 0:  # a child that failed counted nothing worth keeping
            print(proc.stderr[-2000:], file=sys.stderr)
            return None
        print(f"{variant} {scenario} {content} x{calls} layout {layout}: {found.group(1)}", file=sys.stderr,
              flush=True)
        return int(found.group(1))


def _specs(path: str | None) -> str:
    if path:
        return str(Path(path).resolve())  # the children run in benchmarks/
    import run

    run.RESULTS.mkdir(exist_ok=True)
    return str(run.calibrate(sys.executable)[0])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, variant, scenario, content, calls, specs = sys.argv
        child(variant, scenario, content == "on", int(calls), specs)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", default="chat,tools,responses,chat_stream,chat_stream_short,responses_stream")
    parser.add_argument("--calls", type=int, default=40, help="calls counted per plain call (streams: / 5)")
    parser.add_argument("--stream-calls", type=int, help="streams counted per process (default: calls / 5, >= 2)")
    parser.add_argument("--specs", help="calibration JSON from run.py (default: calibrate now)")
    parser.add_argument("--jobs", type=int, default=1, help="valgrind processes at once (counts are unaffected)")
    parser.add_argument("--no-chunk", action="store_true", help="leave out floor-chunk and ours-chunk")
    parser.add_argument("--steady", action="store_true",
                        help="fixed hash seed, no timed span export, GC paused while counting (see count())")
    parser.add_argument("--repeat", type=int, default=1,
                        help="count each variant in N heap layouts and keep the median (streams: use 3)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "instructions.json")
    parser.add_argument("--render", type=Path, nargs="+", help="only re-render (and merge) earlier --out files")
    args = parser.parse_args()
    if args.render:
        merged = [row for path in args.render for row in load(path)["rows"]]
        print(render(merged) + "\n\n" + render_per_chunk(merged))
        return
    global STEADY, REPEAT
    STEADY = args.steady
    REPEAT = max(args.repeat, 1)
    specs = _specs(args.specs)
    tasks: list[tuple[str, str, str, int]] = []

    def calls_for(scenario: str) -> int:
        if "stream" not in scenario:
            return args.calls
        return args.stream_calls or max(args.calls // 5, 2)

    for scenario in args.scenarios.split(","):
        calls = calls_for(scenario)
        tasks.append(("none", scenario, "off", calls))
        for content in ("off", "on"):
            tasks += [(v, scenario, content, calls) for v in VARIANTS[1:]
                      if ("stream" in scenario and not args.no_chunk) or v not in CHUNK_VARIANTS]
    with ThreadPoolExecutor(max(args.jobs, 1)) as pool:
        counts = dict(zip(tasks, pool.map(lambda t: count(t[0], t[1], t[2], t[3], specs), tasks)))
    rows: list[dict[str, Any]] = []
    for scenario in args.scenarios.split(","):
        calls = calls_for(scenario)
        for content in ("off", "on"):
            row: dict[str, Any] = {"scenario": scenario, "content": content, "calls": calls,
                                   "none": counts[("none", scenario, "off", calls)]}
            for variant in VARIANTS[1:]:
                if (variant, scenario, content, calls) in counts:
                    row[variant] = counts[(variant, scenario, content, calls)]
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    print(render(rows))
    print()
    print(render_per_chunk(rows))
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta(), "rows": rows}, indent=1))


def meta() -> dict[str, Any]:
    """What a run measured: the versions that move the counts and the commit of the source."""
    from importlib.metadata import version

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], capture_output=True, text=True, cwd=HERE).stdout.strip()

    found = {name: version(name) for name in ("openai", "opentelemetry-sdk", "wrapt")}
    return {**found, "python": sys.version.split()[0], "steady": STEADY, "repeat": REPEAT,
            "commit": git("rev-parse", "--short", "HEAD"),
            "dirty": bool(git("status", "--porcelain", "--", "../src"))}


def load(path: Path) -> dict[str, Any]:
    """An --out file; the older files are a bare list of rows."""
    data = json.loads(path.read_text())
    return {"meta": {}, "rows": data} if isinstance(data, list) else data


def _extra(row: dict[str, Any], variant: str) -> float | None:
    """Instructions per call over the plain call."""
    value, plain = row.get(variant), row.get("none")
    return None if value is None or plain is None else (value - plain) / row["calls"]


def render(rows: list[dict[str, Any]]) -> str:
    lines = ["| scenario | content | plain call, instructions | floor + | ours + | ours ÷ floor | "
             "floor-chunk + | ours-chunk + | ours-chunk ÷ floor-chunk |", "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        floor, ours = _extra(row, "floor"), _extra(row, "ours")
        floor_c, ours_c = _extra(row, "floor-chunk"), _extra(row, "ours-chunk")
        plain = row["none"] / row["calls"] if row.get("none") is not None else None
        lines.append(f"| {row['scenario']} | {row['content']} | {_n(plain)} | {_n(floor)} | {_n(ours)} | "
                     f"{_ratio(ours, floor)} | {_n(floor_c)} | {_n(ours_c)} | {_ratio(ours_c, floor_c)} |")
    return "\n".join(lines)


def render_per_chunk(rows: list[dict[str, Any]]) -> str:
    """chat_stream minus chat_stream_short, per extra chunk: the cost of one more chunk, call overhead cancelled."""
    from scenarios import BY_NAME

    by = {(r["scenario"], r["content"]): r for r in rows}
    extra_chunks = BY_NAME["chat_stream"].chunks - BY_NAME["chat_stream_short"].chunks
    lines = ["| content | variant | instructions per extra chunk, over the plain call |", "|---|---|---|"]
    for content in ("off", "on"):
        long, short = by.get(("chat_stream", content)), by.get(("chat_stream_short", content))
        if long is None or short is None:
            continue
        for variant in VARIANTS[1:]:
            a, b = _extra(long, variant), _extra(short, variant)
            if a is not None and b is not None:
                lines.append(f"| {content} | {variant} | {_n((a - b) / extra_chunks)} |")
    return "\n".join(lines)


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}" if a is not None and b else "-"


def _n(value: Any) -> str:
    return "-" if value is None else f"{value:,.0f}"


if __name__ == "__main__":
    main()
