"""Fixtures for the agent-span tests: instrumented telemetry with and without content, a loopback server."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Telemetry

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))

WEATHER_TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]


@pytest.fixture
def content(instrument: Any) -> Telemetry:
    """Instrumented with content on spans."""
    return instrument(capture_content="SPAN_ONLY")  # type: ignore[no-any-return]


@pytest.fixture
def no_content(instrument: Any) -> Telemetry:
    """Instrumented with the default: no content."""
    return instrument()  # type: ignore[no-any-return]


def by_name(telemetry: Telemetry) -> dict[str, Any]:
    """The finished spans by span name."""
    return {span.name: span for span in telemetry.finished_spans()}
