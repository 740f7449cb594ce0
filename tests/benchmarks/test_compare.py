"""benchmarks/compare.py: before/after per scenario, and a failure only beyond the tolerance and the noise."""

from __future__ import annotations

from typing import Any

from tests.benchmarks._scripts import load

compare = load("compare")


def _row(scenario: str, ours: float, floor: float = 500_000, content: str = "off", calls: int = 10,
         plain: int = 7_000_000) -> dict[str, Any]:
    """A row of raw counts whose ours and floor add ``ours`` and ``floor`` per call over the plain call."""
    return {"scenario": scenario, "content": content, "calls": calls, "none": plain * calls,
            "floor": int((plain + floor) * calls), "ours": int((plain + ours) * calls)}


def test_added_is_per_call_over_the_plain_call() -> None:
    """What a variant adds is its count minus the plain call's, divided by the calls counted."""
    assert compare.added(_row("chat", 600_000), "ours") == 600_000
    assert compare.added({"scenario": "chat", "content": "off", "calls": 2, "none": 10}, "ours") is None


def test_within_two_percent_is_not_a_regression() -> None:
    """Ours adding 1.9 % more than the recorded figure passes; 2.1 % more fails."""
    before = [_row("chat", 1_000_000)]
    _, regressions = compare.compare(before, [_row("chat", 1_019_000)])
    assert regressions == []
    _, regressions = compare.compare(before, [_row("chat", 1_021_000)])
    assert regressions == ["chat (content off): ours +1,000,000 -> +1,021,000"]


def test_small_figures_are_judged_against_the_noise() -> None:
    """On a cheap row, a difference under the absolute noise floor is not a regression even above 2 %."""
    before = [_row("trace_tool", 50_000)]
    assert compare.compare(before, [_row("trace_tool", 54_000)])[1] == []
    assert len(compare.compare(before, [_row("trace_tool", 56_000)])[1]) == 1


def test_streams_have_a_larger_noise_floor() -> None:
    """A stream may move by 20k instructions (under its noise floor and under 2 % of 2M) without failing."""
    before = [_row("chat_stream", 2_000_000)]
    assert compare.compare(before, [_row("chat_stream", 2_020_000)])[1] == []
    assert compare.compare(before, [_row("chat_stream", 2_050_000)])[1] != []


def test_faster_and_content_modes_are_reported_separately() -> None:
    """Every scenario and content mode in both runs gets a line; getting cheaper never fails."""
    before = [_row("chat", 800_000), _row("chat", 1_100_000, content="on")]
    after = [_row("chat", 700_000, floor=600_000), _row("chat", 1_200_000, content="on")]
    lines, regressions = compare.compare(before, after)
    assert regressions == ["chat (content on): ours +1,100,000 -> +1,200,000"]
    body = lines[2:]
    assert len(body) == 2
    assert body[0].startswith("| chat | off | 600,000 | 800,000 | 700,000 | -12.5% | 1.17 | 1.15 |")
    assert body[1].endswith("**slower** |")


def test_scenarios_missing_from_either_run_are_skipped() -> None:
    """A scenario new in this run (no recorded figure) or only in the baseline is neither compared nor failed."""
    lines, regressions = compare.compare([_row("chat", 1)], [_row("tools", 10**9)])
    assert regressions == [] and len(lines) == 2


def test_rows_without_a_floor_compare_ours_alone() -> None:
    """Rows of the new paths (SDK alone vs ours, no floor) are compared on ours and show no ratio."""
    row = _row("agents_sdk", 30_000)
    del row["floor"]
    lines, regressions = compare.compare([row], [row])
    assert regressions == [] and "| - | - |" in lines[2]
