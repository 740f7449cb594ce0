"""Zero-code export of the e2e app into a real Arize Phoenix, over gRPC and HTTP, read back by its REST API."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_backends import is_loopback

from tests.e2e.expect import PHOENIX_KINDS, SPAN_COUNT, check_workload
from tests.e2e.harness import base_env, run_app, snippet_env
from tests.e2e.readback import phoenix_spans, wait_for_phoenix


def phoenix_replacements(phoenix: Any, project: str) -> dict[str, str]:
    """The documented Phoenix endpoints and project name -> the ones this session's Phoenix uses."""
    return {
        "http://localhost:4317": phoenix.urls["otlp_grpc"],
        "http://localhost:6006": phoenix.urls["otlp_http"],
        "weather-agent": project,
    }


def phoenix_env(fake_openai: Any, phoenix: Any, snippet: str, project: str, capture: str) -> dict[str, str]:
    """The zero-code snippet layered with a Phoenix snippet, as a reader would export them."""
    replace = phoenix_replacements(phoenix, project)
    env = {**base_env(fake_openai), **snippet_env("zero-code", replace), **snippet_env(snippet, replace)}
    env["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = capture
    return env


def read_settled(phoenix: Any, project: str) -> list[Any]:
    """Wait for the expected spans, then read once more so a late duplicate would be seen too."""
    wait_for_phoenix(phoenix, project, SPAN_COUNT)
    return phoenix_spans(phoenix, project)


@pytest.mark.parametrize("snippet", ["phoenix-grpc", "phoenix-http"])
def test_zero_code_app_lands_whole_in_phoenix(snippet: str, phoenix: Any, fake_openai: Any) -> None:
    """Every span of the unchanged app arrives once in Phoenix, well formed and with its messages."""
    project = f"e2e-{snippet}"
    run_app(phoenix_env(fake_openai, phoenix, snippet, project, capture="SPAN_ONLY"))
    spans = read_settled(phoenix, project)
    check_workload(spans, capture=True, server_port=fake_openai.port, kinds=PHOENIX_KINDS)


def test_phoenix_receives_no_content_when_capture_is_off(phoenix: Any, fake_openai: Any) -> None:
    """With capture off, Phoenix gets the same spans and not one word of the conversation."""
    project = "e2e-phoenix-no-content"
    run_app(phoenix_env(fake_openai, phoenix, "phoenix-http", project, capture="NO_CONTENT"))
    spans = read_settled(phoenix, project)
    check_workload(spans, capture=False, server_port=fake_openai.port, kinds=PHOENIX_KINDS)


def test_phoenix_listens_on_loopback_only(phoenix: Any) -> None:
    """Phoenix's HTTP and gRPC receivers are bound to loopback and nothing else of it listens."""
    sockets = phoenix.listening()
    ports = {port for _, port in sockets}
    assert ports == {int(phoenix.urls[key].rsplit(":", 1)[1]) for key in ("otlp_http", "otlp_grpc")}
    assert all(is_loopback(address) for address, _ in sockets), sockets
