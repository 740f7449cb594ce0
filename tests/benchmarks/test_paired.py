"""benchmarks/paired.py: each round's variants compared with that round's plain count, then the median."""

from __future__ import annotations

from pathlib import Path

from tests.benchmarks._scripts import load

paired = load("paired")


def test_rounds_are_paired_with_their_own_plain_count() -> None:
    """A round whose plain count is high (a worse heap) raises every variant alike and cancels out."""
    labels = ["none", "floor", "ours", "floor", "ours", "none", "ours", "none", "floor"]
    counts = [100, 105, 130, 505, 520, 500, 310, 300, 305]  # rounds at plain 100, 500 and 300
    row = paired.summarize(labels, counts, calls=1)
    assert row["rounds"] == {"none": [100, 500, 300], "floor": [105, 505, 305], "ours": [130, 520, 310]}
    # Paired: ours adds 30, 20 and 10 -> 20 (the medians of the raw counts would say 310 - 300 = 10).
    assert row["floor_added"] == 5 and row["ours_added"] == 20 and row["ratio"] == 4


def test_added_is_per_call_and_the_median_of_the_rounds() -> None:
    """Counts are per window of ``calls`` calls; one outlying round does not move the median."""
    labels = ["none", "floor", "ours"] * 3
    counts = [1000, 1020, 1030, 1000, 1020, 1040, 1000, 1900, 1900]
    row = paired.summarize(labels, counts, calls=2)
    assert row["floor_added"] == 10 and row["ours_added"] == 20


def test_total_reads_the_dump_totals(tmp_path: Path) -> None:
    """A dump's ``totals:`` line is its count (its ``summary:`` line is not); a missing dump counts nothing."""
    dump = tmp_path / "callgrind.out.1"
    dump.write_text("events: Ir\nsummary: 0\ntotals: 14335890\n")
    assert paired._total(dump) == 14335890
    assert paired._total(tmp_path / "callgrind.out.2") is None


def test_layouts_combine_into_medians() -> None:
    """Several layouts of one measurement: each figure is the median over them, every layout kept."""
    runs = [{"scenario": "chat_stream", "content": "off", "calls": 2, "floor_added": floor, "ours_added": ours,
             "ratio": ours / floor, "rounds": {}} for floor, ours in ((100, 150), (120, 150), (90, 99))]
    row = paired.combine(runs)
    assert (row["scenario"], row["content"], row["calls"]) == ("chat_stream", "off", 2)
    assert row["floor_added"] == 100 and row["ours_added"] == 150 and row["ratio"] == 1.25
    assert [layout["floor_added"] for layout in row["layouts"]] == [100, 120, 90]
