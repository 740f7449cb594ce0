"""What ``@trace_tool`` adds to one call of a small tool function, content capture off and on, in instructions.

    python benchmarks/trace_tool.py [--calls 200] [--seeds 3] [--out FILE]

Each variant runs in its own processes under ``valgrind --tool=callgrind --instr-atstart=no``, counting only
the ``--calls`` measured calls (after 200 warm-up calls), the median over ``--seeds`` hash seeds (one process
each, ``counted.count``): ``plain`` is the undecorated function, ``off`` and ``on`` the same function under
``@trace_tool`` with the instrumentor on (content capture off / on), into the same pipeline as the call
benchmarks (``variants.Pipeline``: a ``BatchSpanProcessor`` to a dropping exporter, an in-memory metric
reader). Rows come out in the ``instructions.py --out`` shape (``none`` is the plain call, ``ours`` the
decorated one), so ``compare.py`` compares them with a recorded baseline.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import counted  # noqa: E402

WARMUP = 200


def get_weather(city: str, unit: str = "celsius") -> dict[str, Any]:
    """A typical tool: two arguments in, a small dict out."""
    return {"city": city, "temperature": 21, "unit": unit}


def child(variant: str, calls: int) -> None:
    tool = get_weather
    if variant != "plain":
        import variants

        from otel_openai import OpenAIInstrumentor, trace_tool

        pipeline = variants.Pipeline()
        OpenAIInstrumentor().instrument(tracer_provider=pipeline.tracer_provider,
                                        meter_provider=pipeline.meter_provider,
                                        logger_provider=pipeline.logger_provider, capture_content=variant == "on")
        tool = trace_tool(get_weather)
    for _ in range(WARMUP):
        tool("Paris", unit="celsius")
    with counted.window():
        for _ in range(calls):
            tool("Paris", unit="celsius")


def count(variant: str, calls: int, seeds: int) -> int:
    return counted.count(__file__, variant, str(calls), cwd=HERE, seeds=seeds)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=3, help="processes per variant (hash seeds 0, 1, ...): "
                        "the median is reported")
    parser.add_argument("--out", type=Path, help="write the rows (instructions.py --out shape) here")
    args = parser.parse_args()
    counts = {variant: count(variant, args.calls, args.seeds) for variant in ("plain", "off", "on")}
    rows = [{"scenario": "trace_tool", "content": content, "calls": args.calls, "none": counts["plain"],
             "ours": counts[content]} for content in ("off", "on")]
    print(f"plain call: {counts['plain'] / args.calls:,.0f} instructions")
    for row in rows:
        print(f"trace_tool, content {row['content']}: +{(row['ours'] - row['none']) / args.calls:,.0f} "
              "instructions per call")
    if args.out:
        args.out.parent.mkdir(exist_ok=True)
        args.out.write_text(json.dumps({"rows": rows}, indent=1))


if __name__ == "__main__":
    main()
