"""Markdown tables from a benchmark result document (run.py's JSON); ``python report.py FILE`` re-renders."""

from __future__ import annotations

import json
import statistics
import sys
from typing import Any

from scenarios import BY_NAME, SCENARIOS

PEERS = ("openai-v2", "openllmetry", "openinference")
CALLS = [s.name for s in SCENARIOS if not s.stream]
STREAMS = ["chat_stream", "responses_stream"]
MODES = ("sync", "async")


def _fmt(stats: dict[str, float] | None, scale: float = 1.0, digits: int = 0) -> str:
    if stats is None:
        return "-"
    med, q1, q3 = (stats[k] / scale for k in ("median", "q1", "q3"))
    return f"{med:.{digits}f} ({q1:.{digits}f}…{q3:.{digits}f})"


def _cell(entry: dict[str, Any] | None, scale: float = 1.0, digits: int = 0) -> str:
    if entry is None:
        return "-"
    text = _fmt(entry["overhead_us"], scale, digits)
    spans = entry.get("spans_per_call", 1.0)
    if spans < 0.5:
        return text + " ⁿᵗ"  # no span: the scenario is not traced by this variant
    if spans > 1.5:
        text += f" x{spans:.0f}"
    if not entry.get("paired", True):
        text += " ᵘ"  # not switchable in-process: compared with a separate uninstrumented process
    return text


def _ratio(summary: dict[str, Any], key: str, content: str) -> float | None:
    row = summary.get(key, {})
    ours, floor = row.get(f"ours/{content}"), row.get(f"floor/{content}")
    if ours is None or floor is None or floor["overhead_us"]["median"] <= 0:
        return None
    return ours["overhead_us"]["median"] / floor["overhead_us"]["median"]  # type: ignore[no-any-return]


def per_call_table(summary: dict[str, Any], content: str, peers: list[str]) -> str:
    head = ["scenario", "call", "uninstrumented µs", "floor +µs", "ours +µs", "ours ÷ floor",
            *[f"{p} +µs" for p in peers]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in [*CALLS, *STREAMS, "chat_stream_short"]:
        for mode in MODES:
            key = f"{name}/{mode}"
            row = summary.get(key)
            if not row:
                continue
            ratio = _ratio(summary, key, content)
            cells = [name, mode, _fmt(row.get("none", {}).get("abs_us")), _cell(row.get(f"floor/{content}")),
                     _cell(row.get(f"ours/{content}")), f"{ratio:.2f}" if ratio is not None else "-",
                     *[_cell(row.get(f"{p}/{content}")) for p in peers]]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _per_chunk(entry: dict[str, Any] | None, chunks: int) -> dict[str, float] | None:
    if entry is None:
        return None
    return {k: v / chunks for k, v in entry["overhead_us"].items() if k != "n"}


def _marginal(summary: dict[str, Any], label: str, mode: str) -> dict[str, float] | None:
    """(200-chunk overhead - 20-chunk overhead) / 180, round by round: the cost of one more chunk."""
    long, short = summary.get(f"chat_stream/{mode}", {}).get(label), summary.get(
        f"chat_stream_short/{mode}", {}).get(label)
    if long is None or short is None:
        return None
    extra = BY_NAME["chat_stream"].chunks - BY_NAME["chat_stream_short"].chunks
    values = [(a - b) / extra for a, b in zip(long["overhead_rounds_us"], short["overhead_rounds_us"])]
    if not values:
        return None
    from run import spread

    return spread(values)


def stream_table(summary: dict[str, Any], peers: list[str]) -> str:
    head = ["stream", "call", "content", "chunks", "floor µs/chunk", "ours µs/chunk", "ours marginal µs/chunk",
            *[f"{p} µs/chunk" for p in peers]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in STREAMS:
        chunks = BY_NAME[name].chunks
        for content in ("off", "on"):
            for mode in MODES:
                row = summary.get(f"{name}/{mode}", {})
                marginal = _marginal(summary, f"ours/{content}", mode) if name == "chat_stream" else None
                cells = [name, mode, content, str(chunks),
                         _fmt(_per_chunk(row.get(f"floor/{content}"), chunks), digits=2),
                         _fmt(_per_chunk(row.get(f"ours/{content}"), chunks), digits=2),
                         _fmt(marginal, digits=2),
                         *[_fmt(_per_chunk(row.get(f"{p}/{content}"), chunks), digits=2) for p in peers]]
                lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _paired(a: dict[str, Any] | None, b: dict[str, Any] | None, per: int) -> dict[str, float] | None:
    """(a - b) / per, round by round: what a costs beyond b."""
    if not a or not b:
        return None
    values = [(x - y) / per for x, y in zip(a["overhead_rounds_us"], b["overhead_rounds_us"])]
    if not values:
        return None
    from run import spread

    return spread(values)


def chunk_metric_table(summary: dict[str, Any]) -> str:
    """The opt-in time_per_output_chunk histogram: ours-chunk against floor-chunk, and what it adds to each."""
    head = ["stream", "call", "content", "floor-chunk +µs", "ours-chunk +µs", "ours-chunk ÷ floor-chunk",
            "ours-chunk µs per extra chunk", "metric µs/chunk, ours (ours-chunk - ours)",
            "metric µs/chunk, floor (floor-chunk - floor)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in STREAMS:
        chunks = BY_NAME[name].chunks
        for content in ("off", "on"):
            for mode in MODES:
                row = summary.get(f"{name}/{mode}", {})
                floor_c, ours_c = row.get(f"floor-chunk/{content}"), row.get(f"ours-chunk/{content}")
                ratio = "-"
                if floor_c and ours_c and floor_c["overhead_us"]["median"] > 0:
                    ratio = f"{ours_c['overhead_us']['median'] / floor_c['overhead_us']['median']:.2f}"
                marginal = _marginal(summary, f"ours-chunk/{content}", mode) if name == "chat_stream" else None
                ours_cost = _paired(ours_c, row.get(f"ours/{content}"), chunks - 1)
                floor_cost = _paired(floor_c, row.get(f"floor/{content}"), chunks - 1)
                lines.append("| " + " | ".join([name, mode, content, _cell(floor_c), _cell(ours_c), ratio,
                                                  _fmt(marginal, digits=2), _fmt(ours_cost, digits=2),
                                                  _fmt(floor_cost, digits=2)]) + " |")
    return "\n".join(lines)


def memory_table(memory: dict[str, Any], peers: list[str]) -> str:
    if not memory:
        return "(memory not measured)"
    labels = ["floor", "ours", *[p for p in peers if p in memory]]
    head = ["scenario", "uninstrumented peak KiB", *[f"{lab} +KiB peak" for lab in labels],
            "calls", "uninstrumented retained B", *[f"{lab} retained B" for lab in labels]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in memory.get("none", {}).get("results", {}):
        def entry(label: str, name: str = name) -> dict[str, Any] | None:
            return memory.get(label, {}).get("results", {}).get(name)  # type: ignore[no-any-return]

        base = entry("none")
        peer_base = entry("none@peers") or base
        assert base is not None
        peaks, kept = [], []
        for lab in labels:
            mine, ref = entry(lab), (peer_base if lab in peers else base)
            peaks.append(f"{(mine['peak_bytes'] - ref['peak_bytes']) / 1024:+.1f}" if mine and ref else "-")
            kept.append(f"{mine['retained_bytes']:+,}" if mine else "-")
        lines.append("| " + " | ".join([name, f"{base['peak_bytes'] / 1024:.1f}", *peaks,
                                          f"{base['retained_calls']:,}", f"{base['retained_bytes']:+,}",
                                          *kept]) + " |")
    return "\n".join(lines)


def targets(summary: dict[str, Any], memory: dict[str, Any], peers: list[str]) -> str:
    out = []
    for name in ("chat", "tools", "responses", "embeddings_float", "embeddings_base64"):
        for mode in MODES:
            ratio = _ratio(summary, f"{name}/{mode}", "off")
            if ratio is not None:
                out.append(f"- {name}/{mode}, content off: ours ÷ floor = {ratio:.2f} "
                           f"({'met' if ratio <= 1.3 else 'NOT met'}, target ≤ 1.3)")
    for content, limit in (("off", 1.5), ("on", 2.5)):
        for mode in MODES:
            for name in STREAMS:
                entry = summary.get(f"{name}/{mode}", {}).get(f"ours/{content}")
                if entry is None:
                    continue
                per = entry["overhead_us"]["median"] / BY_NAME[name].chunks
                out.append(f"- {name}/{mode}, content {content}: {per:.2f} µs/chunk all-in "
                           f"({'met' if per <= limit else 'NOT met'}, target ≤ {limit})")
            for label, note in ((f"ours/{content}", ""),
                                (f"ours-chunk/{content}", " with the opt-in time_per_output_chunk")):
                marginal = _marginal(summary, label, mode)
                if marginal is not None:
                    out.append(f"- chat_stream/{mode}, content {content}{note}: {marginal['median']:.2f} µs per "
                               f"extra chunk ({'met' if marginal['median'] <= limit else 'NOT met'}, "
                               f"target ≤ {limit})")
    beaten, lost = 0, []
    for key, row in summary.items():
        for content in ("off", "on"):
            ours = row.get(f"ours/{content}")
            for p in peers:
                theirs = row.get(f"{p}/{content}")
                if ours is None or theirs is None or theirs.get("spans_per_call", 1) < 0.5:
                    continue
                if ours["overhead_us"]["median"] < theirs["overhead_us"]["median"]:
                    beaten += 1
                else:
                    lost.append(f"{key} {content} vs {p}")
    if peers:
        out.append(f"- below every peer: {beaten} comparisons won, {len(lost)} lost"
                   + (f" ({'; '.join(lost)})" if lost else ""))
    return "\n".join(out)


def render(doc: dict[str, Any]) -> str:
    summary, memory, meta = doc["summary"], doc.get("memory", {}), doc["meta"]
    peers = [p for p in PEERS if any(f"{p}/off" in row for row in summary.values()) or p in memory]
    loads = ", ".join(f"{x:.1f}" for x in meta.get("loadavg", []))
    parts = [
        f"openai {meta['openai']}, Python {meta['python']}, {meta['rounds']} rounds, {meta['cpus']} CPUs, "
        f"load average at the end {loads}. Thread CPU time per call; median (IQR) over rounds; "
        "+µs is the overhead: within each process, batches with the variant on alternate with batches of the "
        "plain call, and the paired difference is taken; ᵘ = the variant cannot be switched off in-process, so "
        "it is compared with a separate uninstrumented process (noisier). ⁿᵗ = no span recorded (not traced).",
        "", "### Per call, content capture off", "", per_call_table(summary, "off", peers),
        "", "### Per call, content capture on", "", per_call_table(summary, "on", peers),
        "", "### Streams, per chunk", "", stream_table(summary, peers),
        "", "### The time_per_output_chunk histogram on its own", "", chunk_metric_table(summary),
        "", "### Memory (content off; tracemalloc)", "", memory_table(memory, peers),
        "", "### Targets", "", targets(summary, memory, peers),
    ]
    return "\n".join(parts)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        print(render(json.load(f)))
