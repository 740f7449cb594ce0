"""Zero-code export of the e2e app into a real MLflow tracking server over OTLP/HTTP, read back by its REST API."""

from __future__ import annotations

from typing import Any

import pytest
from e2e_backends import is_loopback

from tests.e2e.expect import MLFLOW_KINDS, SPAN_COUNT, check_workload
from tests.e2e.harness import base_env, run_app, snippet_env
from tests.e2e.readback import mlflow_experiment, mlflow_spans, wait_for_mlflow


def mlflow_env(fake_openai: Any, mlflow: Any, experiment_id: str, capture: str) -> dict[str, str]:
    """The zero-code snippet layered with the MLflow snippet, pointed at this session's server."""
    replace = {"http://localhost:5000": mlflow.urls["otlp_http"]}
    env = {
        **base_env(fake_openai),
        **snippet_env("zero-code", replace),
        **snippet_env("mlflow", replace, MLFLOW_EXPERIMENT_ID=experiment_id),
    }
    env["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = capture
    return env


@pytest.mark.parametrize("capture", ["SPAN_ONLY", "NO_CONTENT"])
def test_zero_code_app_lands_whole_in_mlflow(capture: str, mlflow: Any, fake_openai: Any) -> None:
    """Every span of the unchanged app arrives once in the experiment; messages only when capture is on."""
    experiment_id = mlflow_experiment(mlflow, f"e2e-{capture.lower()}")
    run_app(mlflow_env(fake_openai, mlflow, experiment_id, capture))
    wait_for_mlflow(mlflow, experiment_id, SPAN_COUNT)
    spans = mlflow_spans(mlflow, experiment_id)  # once more: a late duplicate would show up here
    check_workload(spans, capture=capture == "SPAN_ONLY", server_port=fake_openai.port, kinds=MLFLOW_KINDS)


def test_mlflow_shows_token_usage_per_trace(mlflow: Any, fake_openai: Any) -> None:
    """MLflow derives each trace's token usage from our gen_ai.usage.* attributes, as its own autolog would."""
    experiment_id = mlflow_experiment(mlflow, "e2e-usage")
    run_app(mlflow_env(fake_openai, mlflow, experiment_id, "NO_CONTENT"))
    spans = wait_for_mlflow(mlflow, experiment_id, SPAN_COUNT)
    agent = next(s for s in spans if s.name.startswith("invoke_agent"))
    chats = [s for s in spans if s.trace_id == agent.trace_id and s.name.startswith("chat")]
    usage = [s.attributes["mlflow.chat.tokenUsage"] for s in chats]
    assert [u["input_tokens"] for u in usage] == [s.attributes["gen_ai.usage.input_tokens"] for s in chats]
    assert [u["output_tokens"] for u in usage] == [s.attributes["gen_ai.usage.output_tokens"] for s in chats]


def test_mlflow_listens_on_loopback_only(mlflow: Any) -> None:
    """The tracking server (and any worker it forks) listens on its one loopback port only."""
    sockets = mlflow.listening()
    assert {port for _, port in sockets} == {int(mlflow.urls["base"].rsplit(":", 1)[1])}
    assert all(is_loopback(address) for address, _ in sockets), sockets
