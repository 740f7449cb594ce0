"""Run the overhead benchmark and print markdown tables; raw and summarized numbers go to results/*.json.

    python benchmarks/run.py [--quick] [--peers] [--rounds N] [--no-memory]

Each round starts one fresh process per variant (uninstrumented, floor, ours in its default configuration,
and for streams floor-chunk and ours-chunk, which add the opt-in time_per_output_chunk histogram; with
--peers each peer in its own virtualenv), in a shuffled order; a variant's overhead in a
round is its time minus the uninstrumented time of the same round. Tables show the median over rounds and
the interquartile range. The interpreter running this script is the one measured for ours and the floor.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import openai  # noqa: E402
import peers  # noqa: E402
import report  # noqa: E402
from scenarios import SCENARIOS  # noqa: E402

RESULTS = HERE / "results"
STREAMS = [s.name for s in SCENARIOS if s.stream]
ALL = [s.name for s in SCENARIOS]
MEMORY_SCENARIOS = ["chat", "chat_stream", "embeddings_float", "responses",
                    "responses_stream"]


@dataclass(frozen=True)
class Job:
    label: str  # unique per round: variant, plus the content mode where it matters
    python: str
    variant: str
    content: str
    scenarios: tuple[str, ...]
    baseline: str  # the label whose time is subtracted


def _env() -> dict[str, str]:
    # The user's own OTel settings must not leak into the measured processes.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "TRACELOOP_", "OPENINFERENCE_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run_worker(python: str, args: list[str]) -> dict[str, Any] | None:
    proc = subprocess.run([python, str(HERE / "worker.py"), *args], capture_output=True, text=True, cwd=HERE,
                          env=_env())
    if proc.returncode != 0:
        print(f"worker failed: {' '.join(args[:3])}\n{proc.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def calibrate(python: str) -> tuple[Path, dict[str, Any]]:
    """What ours records for each scenario, so the floor replays the same span and metric points.

    Calibrated twice per content mode: ours by default (the floor's points) and ours-chunk (floor-chunk's).
    """
    specs: dict[str, Any] = {}
    meta: dict[str, Any] = {}
    for variant in ("ours", "ours-chunk"):
        for content in ("off", "on"):
            out = run_worker(python, ["calibrate", variant, content])
            if out is None:
                raise SystemExit("calibration failed: is otel-openai installed in this interpreter?")
            specs[("chunk-" if variant == "ours-chunk" else "") + content] = out.pop("specs")
            meta = out
    path = RESULTS / f"calibration-openai{meta['openai']}.json"
    # Written aside and renamed: a concurrent instructions.py run may be reading the same file.
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({**meta, "specs": specs}, indent=1))
    os.replace(tmp, path)
    return path, specs


def plan(python: str, with_peers: bool) -> list[Job]:
    jobs = [Job("none", python, "none", "off", tuple(ALL), "none")]
    for content in ("off", "on"):
        jobs += [Job(f"floor/{content}", python, "floor", content, tuple(ALL), "none"),
                 Job(f"ours/{content}", python, "ours", content, tuple(ALL), "none"),
                 # The opt-in per-chunk histogram, each against a floor that records the same points.
                 Job(f"floor-chunk/{content}", python, "floor-chunk", content, tuple(STREAMS), "none"),
                 Job(f"ours-chunk/{content}", python, "ours-chunk", content, tuple(STREAMS), "none")]
    if with_peers:
        peers.setup(list(peers.PACKAGES))
        first = str(peers.python(peers.PEER_NAMES[0]))
        jobs.append(Job("none@peers", first, "none", "off", tuple(ALL), "none@peers"))
        for name in peers.PEER_NAMES:
            for content in ("off", "on"):
                jobs.append(Job(f"{name}/{content}", str(peers.python(name)), name, content, tuple(ALL),
                                "none@peers"))
    return jobs


def run_rounds(jobs: list[Job], rounds: int, budget: float, batches: int, specs_path: Path,
               checkpoint: Path) -> list[dict[str, Any]]:
    done: list[dict[str, Any]] = []
    rng = random.Random(2026)
    for r in range(rounds):
        order = jobs[:]
        rng.shuffle(order)
        this: dict[str, Any] = {}
        for job in order:
            args = ["time", job.variant, job.content, "--scenarios", ",".join(job.scenarios),
                    "--budget", str(budget), "--rounds", str(batches)]
            if job.variant.startswith("floor"):
                args += ["--specs", str(specs_path)]
            out = run_worker(job.python, args)
            if out is not None:
                this[job.label] = out
            print(f"round {r + 1}/{rounds}: {job.label} done", file=sys.stderr)
        done.append(this)
        checkpoint.write_text(json.dumps(done))  # an interrupted run keeps its finished rounds
    return done


def run_memory(python: str, with_peers: bool, retained_calls: int, specs_path: Path) -> dict[str, Any]:
    """One process per variant, content off: tracemalloc peaks per call and bytes retained."""
    targets = [("none", python, "none"), ("floor", python, "floor"), ("ours", python, "ours")]
    if with_peers:
        targets += [("none@peers", str(peers.python(peers.PEER_NAMES[0])), "none")]
        targets += [(name, str(peers.python(name)), name) for name in peers.PEER_NAMES]
    found: dict[str, Any] = {}
    for label, interpreter, variant in targets:
        # Peers and their baseline get a fifth of the calls: enough to show growth, and 5x faster.
        calls = retained_calls if interpreter == python else retained_calls // 5
        args = ["memory", variant, "off", "--scenarios", ",".join(MEMORY_SCENARIOS),
                "--retained-calls", str(calls), "--specs", str(specs_path)]
        out = run_worker(interpreter, args)
        if out is not None:
            found[label] = out
        print(f"memory: {label} done", file=sys.stderr)
    return found


# --- summaries --------------------------------------------------------------------------------------


def spread(values: list[float]) -> dict[str, float]:
    """Median and interquartile range; with fewer than 4 values the range is min..max."""
    values = sorted(values)
    if len(values) >= 4:
        q1, _, q3 = statistics.quantiles(values, n=4, method="inclusive")
    else:
        q1, q3 = values[0], values[-1]
    return {"median": statistics.median(values), "q1": q1, "q3": q3, "n": len(values)}


def summarize(rounds: list[dict[str, Any]], jobs: list[Job]) -> dict[str, Any]:
    """Per scenario/mode and variant: absolute time, overhead, spans per call, over rounds.

    A round's overhead is the in-process paired difference when the variant can be switched off, else
    its time minus the same round's uninstrumented process (noisier; marked unpaired).
    """
    summary: dict[str, Any] = {}
    for job in jobs:
        for key in _keys(job):
            absolute, overhead, spans, paired = [], [], [], True
            for rnd in rounds:
                mine = rnd.get(job.label, {}).get("results", {}).get(key)
                base = rnd.get(job.baseline, {}).get("results", {}).get(key)
                if mine is None:
                    continue
                absolute.append(mine["cpu_ns"] / 1000)
                spans.append(mine.get("spans_per_call", 0.0))
                if mine.get("paired"):
                    overhead.append(mine["overhead_ns"] / 1000)
                elif base is not None:
                    overhead.append((mine["cpu_ns"] - base["cpu_ns"]) / 1000)
                    paired = False
            if absolute and overhead:
                summary.setdefault(key, {})[job.label] = {
                    "abs_us": spread(absolute), "overhead_us": spread(overhead), "paired": paired,
                    "spans_per_call": statistics.median(spans), "overhead_rounds_us": overhead}
    return summary


def _git_state() -> str:
    """The commit measured, and whether src/ had uncommitted changes (they are measured too)."""
    def git(*args: str) -> str:
        proc = subprocess.run(["git", *args], capture_output=True, text=True, cwd=HERE.parent, check=False)
        return proc.stdout.strip()

    dirty = git("status", "--porcelain", "--", "src")
    return git("rev-parse", "--short", "HEAD") + (" + uncommitted src changes" if dirty else "")


def _keys(job: Job) -> list[str]:
    return [f"{name}/{mode}" for name in job.scenarios for mode in ("sync", "async")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 short rounds, 1,000 calls for memory")
    parser.add_argument("--peers", action="store_true", help="also the peers, each in benchmarks/.venvs/")
    parser.add_argument("--rounds", type=int, help="rounds (default 5, --quick 2)")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--rounds-file", type=Path,
                        help="reuse the finished rounds of an interrupted run (results/rounds-*.json)")
    parser.add_argument("--memory-only", action="store_true", help="skip timing; memory measurements only")
    args = parser.parse_args()
    rounds = args.rounds or (2 if args.quick else 5)
    budget, batches = (0.08, 6) if args.quick else (0.4, 16)
    retained = 1_000 if args.quick else 10_000
    RESULTS.mkdir(exist_ok=True)

    python = sys.executable
    specs_path, specs = calibrate(python)
    jobs = plan(python, args.peers)
    started = datetime.datetime.now(datetime.timezone.utc)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    if args.rounds_file:
        raw = json.loads(args.rounds_file.read_text())
    elif args.memory_only:
        raw = []
    else:
        raw = run_rounds(jobs, rounds, budget, batches, specs_path, RESULTS / f"rounds-{stamp}.json")
    memory = {} if args.no_memory else run_memory(python, args.peers, retained, specs_path)
    summary = summarize(raw, jobs)
    meta = {"started": started.isoformat(timespec="seconds"), "python": sys.version.split()[0],
            "openai": openai.__version__, "rounds": len(raw), "budget_s": budget, "batches": batches,
            "peers": args.peers,
            "quick": args.quick, "argv": sys.argv[1:], "cpus": os.cpu_count(),
            "loadavg": os.getloadavg(), "git": _git_state()}
    doc = {"meta": meta, "specs": specs, "summary": summary, "memory": memory, "raw": raw}
    out = RESULTS / f"bench-{stamp}-openai{meta['openai']}.json"
    out.write_text(json.dumps(doc, indent=1))
    print(report.render(doc))
    print(f"\nJSON: {out.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
