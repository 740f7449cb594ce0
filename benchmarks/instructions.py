"""Instruction counts per call under valgrind's callgrind: a comparison of ours and the floor that load cannot skew.

    python benchmarks/instructions.py [--scenarios chat,chat_stream,...] [--calls 40]

Each variant runs in its own process under ``valgrind --tool=callgrind --instr-atstart=no``; the process
warms up, then switches counting on around N calls with ``callgrind_control``. Instructions are not time
(cache misses and the cost of a cold instruction cache are not counted), but they are exact and repeatable,
so the ratio of ours to the floor can be read to two digits on a busy machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

VARIANTS = ("none", "floor", "ours", "ours-nochunk")


def child(variant: str, scenario_name: str, content: bool, calls: int, specs: str) -> None:
    import variants
    import worker
    from scenarios import BY_NAME, make_clients

    pipeline = variants.Pipeline()
    built = worker.build(variant, content, pipeline, worker.load_specs(specs, content))
    client, _ = make_clients()
    scenario = BY_NAME[scenario_name]
    for _ in range(20):
        built.sync(client, scenario)
    pid = str(os.getpid())
    subprocess.run(["callgrind_control", "-i", "on", pid], capture_output=True, check=False)
    for _ in range(calls):
        built.sync(client, scenario)
    subprocess.run(["callgrind_control", "-i", "off", pid], capture_output=True, check=False)
    pipeline.flush()


def count(variant: str, scenario: str, content: str, calls: int, specs: str) -> int | None:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        proc = subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
             sys.executable, __file__, "--child", variant, scenario, content, str(calls), specs],
            capture_output=True, text=True, cwd=HERE)
        found = re.search(r"Collected : (\d+)", proc.stderr)
        if not found:
            print(proc.stderr[-2000:], file=sys.stderr)
            return None
        return int(found.group(1))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _, _, variant, scenario, content, calls, specs = sys.argv
        child(variant, scenario, content == "on", int(calls), specs)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scenarios", default="chat,tools,responses,chat_stream,responses_stream")
    parser.add_argument("--calls", type=int, default=40, help="calls counted per plain call (streams: / 5)")
    parser.add_argument("--specs", help="calibration JSON from run.py (default: the newest in results/)")
    args = parser.parse_args()
    specs = args.specs or str(max((HERE / "results").glob("calibration-*.json"), key=os.path.getmtime))
    rows: list[dict[str, Any]] = []
    for scenario in args.scenarios.split(","):
        calls = args.calls if "stream" not in scenario else max(args.calls // 5, 4)
        plain = count("none", scenario, "off", calls, specs)
        for content in ("off", "on"):
            row: dict[str, Any] = {"scenario": scenario, "content": content, "calls": calls, "none": plain}
            for variant in VARIANTS[1:]:
                if variant == "ours-nochunk" and "stream" not in scenario:
                    continue
                row[variant] = count(variant, scenario, content, calls, specs)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
    print(render(rows))
    out = HERE / "results" / "instructions.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=1))


def render(rows: list[dict[str, Any]]) -> str:
    lines = ["| scenario | content | plain call, instructions | floor + | ours + | ours ÷ floor | "
             "ours without time_per_output_chunk + |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        calls, plain = row["calls"], row["none"]

        def extra(variant: str, row: dict[str, Any] = row, calls: int = calls, plain: Any = plain) -> Any:
            value = row.get(variant)
            return None if value is None or plain is None else (value - plain) / calls

        floor, ours, nochunk = extra("floor"), extra("ours"), extra("ours-nochunk")
        ratio = f"{ours / floor:.2f}" if floor and ours is not None else "-"
        lines.append(f"| {row['scenario']} | {row['content']} | {plain / calls:,.0f} | {_n(floor)} | {_n(ours)} | "
                     f"{ratio} | {_n(nochunk)} |")
    return "\n".join(lines)


def _n(value: Any) -> str:
    return "-" if value is None else f"{value:,.0f}"


if __name__ == "__main__":
    main()
