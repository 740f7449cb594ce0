"""Fixtures for the agent-span tests: instrumented telemetry with and without content, a loopback server."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.conftest import Telemetry, http

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from fake_openai_server import FakeOpenAIServer

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


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    """The example's OpenAI-compatible loopback server, started and stopped around the test."""
    with FakeOpenAIServer() as running:
        yield running


@pytest.fixture
def client(server: FakeOpenAIServer) -> Iterator[openai.OpenAI]:
    """A real sync client talking to the loopback server."""
    with openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0,
                       http_client=http.Client(trust_env=False)) as real:
        yield real


@pytest.fixture
async def aclient(server: FakeOpenAIServer) -> AsyncIterator[openai.AsyncOpenAI]:
    """A real async client talking to the loopback server."""
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0,
                                  http_client=http.AsyncClient(trust_env=False)) as real:
        yield real


def by_name(telemetry: Telemetry) -> dict[str, Any]:
    """The finished spans by span name."""
    return {span.name: span for span in telemetry.finished_spans()}
