"""Every content value the suite captures, and every recorded real OpenAI call replayed, matches the official
GenAI JSON schemas (Draft 2020-12, as upstream's own schema tests validate)."""

from __future__ import annotations

from typing import Any

import pytest

from tests._schemas import CASSETTES, COLLECTOR, missing_reason


def _replay_cassettes(instrument: Any) -> int:
    """Replays every recorded call to a traced endpoint with content on spans and events; returns how many."""
    from tests._cassettes import Replayer, interactions, supported

    instrument(capture_content="SPAN_AND_EVENT")
    replayer = Replayer()
    replayed = 0
    try:
        for interaction in interactions():
            if supported(interaction):
                replayer.replay(interaction)
                replayed += 1
    finally:
        replayer.close()
    return replayed


def test_every_captured_value_matches_the_official_schemas(instrument: Any) -> None:
    """Runs last: the recorded calls are replayed, then every content value any test of the session put on a
    span or an event (counted by the collector in tests/conftest.py) must be valid; the figure is printed."""
    reason = missing_reason()
    if reason is not None:
        pytest.skip(reason)
    if CASSETTES.is_dir():
        pytest.importorskip("yaml")
        assert _replay_cassettes(instrument) > 0
    report = COLLECTOR.report
    valid, checked = report.total
    assert checked > 0
    assert report.failures == [], report.summary()
    assert valid == checked
    assert report.nested_failures == [], report.summary()


# tests/conftest.py moves this test to the end of the session, after every value it checks was produced.
test_every_captured_value_matches_the_official_schemas.run_last = True  # type: ignore[attr-defined]
