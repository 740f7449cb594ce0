"""A CI-sized soak: calls of every kind retain nothing per call beyond what the uninstrumented SDK retains."""

from __future__ import annotations

import pytest

from tests.trust import soak
from tests.trust._calls import KINDS

CALLS = 400  # per kind, so 2,000 instrumented calls in all (the nox ``soak`` session runs 50,000 per kind)
# Generous, count-based bounds over the 200 measured calls of each kind: keeping even one object, or
# 320 bytes, per call would exceed them.
MAX_EXTRA_OBJECTS = 50
MAX_EXTRA_BYTES = 64 * 1024


@pytest.mark.parametrize("kind", KINDS)
def test_no_retention_attributable_to_the_instrumentation(kind: str) -> None:
    """Plain, streamed, abandoned, raw and failing calls leave no per-call objects or bytes behind."""
    off, on = soak.attributable(kind, CALLS)
    assert on.spans == CALLS, "every measured call was traced and exported"
    assert on.retained_objects - off.retained_objects <= MAX_EXTRA_OBJECTS, (off, on)
    assert on.retained_bytes - off.retained_bytes <= MAX_EXTRA_BYTES, (off, on)


def test_script_reports_figures(capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m tests.trust.soak`` prints a row per kind and a verdict, and exits 0 when within bounds."""
    assert soak.main(["--calls", "10", "--kinds", "plain,stream", "--max-bytes-per-1000", "1e12"]) == 0
    out = capsys.readouterr().out
    assert "plain" in out and "stream" in out and out.strip().splitlines()[-1].startswith("OK")
