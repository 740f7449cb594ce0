"""Instruction counts of the plain call, the floor and ours in one process, round after round: a stream's
overhead without the heap-layout noise that separate processes add.

    python benchmarks/paired.py [--scenarios chat_stream,...] [--content off,on] [--calls 2] [--rounds 3] \
        [--layouts 1] [--jobs 1]

``instructions.py`` counts each variant in its own process. For a 200-chunk stream that is ~170M instructions
of the SDK's own work, and where its buffers land in a fresh process moves that by up to ~0.5M per stream,
more than ours adds; ``--repeat`` takes a median but cannot pair. Here one process under callgrind runs the
three variants in turn (the order rotates each round), zeroing the counters before and dumping them after
each window of ``--calls`` calls, so every round compares the variants in the same heap. Ours is switched
with ``uninstrument()``/``instrument()`` outside the windows, and each window starts after one uncounted call.
Reported per stream: the median over rounds of (variant - plain), and the floor's and ours' ratio.

Pairing cancels what a layout does to the plain count, not what it does to the work of each variant: in two
processes with different code the floor itself moved by up to ~0.15M per Responses stream. ``--layouts N``
runs N processes, each with its heap shifted by a different padding allocation (as ``instructions.py
--repeat``), and reports the median over them of each figure, with the range.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

VARIANTS = ("none", "floor", "ours")


def child(scenario_name: str, content: bool, calls: int, rounds: int, specs: str) -> None:
    # --layouts: a different heap layout per process; kept alive for the whole run.
    layout = bytearray(int(os.environ.get("BENCH_LAYOUT", "0")))  # noqa: F841
    import variants
    import worker
    from scenarios import BY_NAME, make_clients, sync_call

    pipeline = variants.Pipeline()
    floor = variants.floor(pipeline, worker.load_specs(specs, content, False))
    ours = variants.ours(pipeline, content)
    client, _ = make_clients()
    scenario = BY_NAME[scenario_name]
    run = {"none": lambda: sync_call(client, scenario), "floor": lambda: floor.sync(client, scenario),
           "ours": lambda: ours.sync(client, scenario)}

    def switch(name: str) -> None:
        (ours.enable if name == "ours" else ours.disable)()

    for name in VARIANTS:  # warm-up, as instructions.py does
        switch(name)
        for _ in range(20):
            run[name]()
    pid = str(os.getpid())

    def control(*flags: str) -> None:
        subprocess.run(["callgrind_control", *flags, pid], capture_output=True, check=False)

    gc.collect()
    gc.disable()  # the collector runs at allocation thresholds: not per call
    for r in range(rounds):
        for name in VARIANTS[r % 3:] + VARIANTS[:r % 3]:
            switch(name)
            # Not counted: the first call after ``instrument()`` also fills what a new instrumentation builds
            # once (its metric instruments' first points: ~30-50k instructions), which is no per-call cost.
            run[name]()
            control("-z")
            control("-i", "on")
            for _ in range(calls):
                run[name]()
            control("-i", "off")
            control("-d")
            print(name, flush=True)  # the label of the dump just written
    gc.enable()
    pipeline.flush()


def measure(scenario: str, content: str, calls: int, rounds: int, specs: str, layout: int = 0) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TRACELOOP_", "OPENINFERENCE_"))}
    env.update(PYTHONHASHSEED="0", OTEL_BSP_SCHEDULE_DELAY="3600000", OTEL_BLRP_SCHEDULE_DELAY="3600000",
               BENCH_LAYOUT=str(layout * 40_000))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        # No address-space randomisation (setarch -R, as ``instructions.py --steady``): a rerun of the same
        # code sees the same layout.
        prefix = ["setarch", platform.machine(), "-R"] if shutil.which("setarch") else []
        proc = subprocess.run(
            [*prefix, "valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
             sys.executable, __file__, "--child", scenario, content, str(calls), str(rounds), specs],
            capture_output=True, text=True, cwd=HERE, env=env)
        labels = proc.stdout.split()
        # Dump k goes to out.k (k from 1); the final dump at exit is the last part and is ignored.
        counts = [_total(Path(f"{out}.{k}")) for k in range(1, len(labels) + 1)]
    if proc.returncode != 0 or None in counts or len(labels) != 3 * rounds:
        print(proc.stderr[-2000:], file=sys.stderr)
        raise SystemExit(f"{scenario} {content}: the paired run failed")
    return {"scenario": scenario, "content": content, **summarize(labels, counts, calls)}  # type: ignore[arg-type]


def summarize(labels: list[str], counts: list[int], calls: int) -> dict[str, Any]:
    """Per variant its counts in round order; the floor's and ours' added instructions per call (the median
    over rounds of the difference to the same round's plain count) and their ratio."""
    by: dict[str, list[int]] = {name: [] for name in VARIANTS}
    for label, value in zip(labels, counts):
        by[label].append(value)
    row: dict[str, Any] = {"calls": calls, "rounds": by}
    for name in ("floor", "ours"):
        row[f"{name}_added"] = statistics.median((v - p) / calls for v, p in zip(by[name], by["none"]))
    row["ratio"] = row["ours_added"] / row["floor_added"]
    return row


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One row from the same measurement in several layouts: the median of each figure over the layouts (the
    ratio is the median of the per-layout ratios), and every layout's figures under ``layouts``."""
    row = {key: runs[0][key] for key in ("scenario", "content", "calls")}
    for key in ("floor_added", "ours_added", "ratio"):
        row[key] = statistics.median(run[key] for run in runs)
    row["layouts"] = [{key: run[key] for key in ("floor_added", "ours_added", "ratio", "rounds")} for run in runs]
    return row


def _total(path: Path) -> int | None:
    if not path.exists():
        return None
    found = re.search(r"^totals: (\d+)", path.read_text(errors="replace"), re.M)
    return int(found.group(1)) if found else None


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, scenario, content, calls, rounds, specs = sys.argv
        child(scenario, content == "on", int(calls), int(rounds), specs)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", default="chat_stream,responses_stream,chat_stream_short")
    parser.add_argument("--content", default="off,on")
    parser.add_argument("--calls", type=int, default=2, help="calls (streams) per window")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--layouts", type=int, default=1, help="processes, each in another heap layout")
    parser.add_argument("--jobs", type=int, default=1, help="processes at once")
    parser.add_argument("--specs", help="calibration JSON from run.py (default: calibrate now)")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "paired.json")
    args = parser.parse_args()
    import instructions

    specs = instructions._specs(args.specs)
    jobs = [(scenario, content) for scenario in args.scenarios.split(",") for content in args.content.split(",")]
    with ThreadPoolExecutor(max(1, args.jobs)) as pool:
        runs = [[pool.submit(measure, scenario, content, args.calls, args.rounds, specs, layout)
                 for layout in range(args.layouts)] for scenario, content in jobs]
        rows = []
        for (scenario, content), futures in zip(jobs, runs):
            row = combine([future.result() for future in futures])
            rows.append(row)
            spread = ""
            if args.layouts > 1:
                ratios = [run["ratio"] for run in row["layouts"]]
                spread = f" (layouts {min(ratios):.2f}-{max(ratios):.2f})"
            print(f"{scenario} {content}: floor +{row['floor_added']:,.0f}, ours +{row['ours_added']:,.0f} "
                  f"per call, ours ÷ floor {row['ratio']:.2f}{spread}", flush=True)
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps({"meta": instructions.meta(), "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
