"""The documented in-code setup (explicit TracerProvider/MeterProvider + instrument()) exporting to real backends."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from tests.e2e.expect import MLFLOW_KINDS, PHOENIX_KINDS, SPAN_COUNT, check_workload
from tests.e2e.harness import APP, base_env, run_app, snippets
from tests.e2e.otlp_receiver import OtlpReceiver
from tests.e2e.readback import mlflow_experiment, mlflow_spans, wait_for_mlflow
from tests.e2e.test_otlp_wire import check_metrics
from tests.e2e.test_phoenix import phoenix_replacements, read_settled

# The snippet's placeholder for "your application": here, the e2e app's main().
RUN_APP = f"""
import sys
sys.path.insert(0, {str(APP.parent)!r})
from app import main as run_the_application
"""


def programmatic_script(tmp_path: Path, replace: dict[str, str], exporter: str = "") -> Path:
    """docs/production.md's Python snippet with loopback endpoints, runnable as a file; `exporter` swaps
    its two span-exporter lines for another snippet, as the MLflow section tells the reader to."""
    language, body = snippets()["programmatic"]
    assert language == "python"
    if exporter:
        lines = body.splitlines()
        (grpc_import,) = [line for line in lines if "import OTLPSpanExporter" in line]
        (assignment,) = [line for line in lines if line.startswith("span_exporter = ")]
        body = body.replace(grpc_import + "\n", "").replace(assignment, snippets()[exporter][1].strip())
    for documented, actual in replace.items():
        body = body.replace(documented, actual)
    script = tmp_path / "programmatic_app.py"
    script.write_text(RUN_APP + body)
    return script


def test_programmatic_setup_exports_spans_to_phoenix_and_metrics_over_http(
    tmp_path: Path, phoenix: Any, fake_openai: Any, receiver: OtlpReceiver
) -> None:
    """With no OTEL_* variable at all, the explicit providers send every span to Phoenix over gRPC, with
    content, and the four histograms over HTTP."""
    project = "e2e-programmatic"
    replace = {**phoenix_replacements(phoenix, project), "http://localhost:4318": receiver.endpoint}
    env = base_env(fake_openai)
    del env["OTEL_METRICS_EXPORTER"], env["OTEL_LOGS_EXPORTER"]  # nothing OTEL_* reaches this app
    run_app(env, argv=[sys.executable, str(programmatic_script(tmp_path, replace))], zero_code=False)
    spans = read_settled(phoenix, project)
    check_workload(spans, capture=True, server_port=fake_openai.port, kinds=PHOENIX_KINDS)
    check_metrics(receiver, fake_openai.port)
    assert receiver.spans() == []  # traces went to Phoenix only


def test_programmatic_setup_exports_spans_to_mlflow_over_http(
    tmp_path: Path, mlflow: Any, fake_openai: Any, receiver: OtlpReceiver
) -> None:
    """With the MLflow exporter lines swapped in, every span lands in the experiment named by the header."""
    experiment_id = mlflow_experiment(mlflow, "e2e-programmatic")
    replace = {
        "http://localhost:5000": mlflow.urls["otlp_http"],
        "http://localhost:4318": receiver.endpoint,
        "MLFLOW_EXPERIMENT_ID": repr(experiment_id),
    }
    script = programmatic_script(tmp_path, replace, exporter="programmatic-mlflow")
    env = base_env(fake_openai)
    del env["OTEL_METRICS_EXPORTER"], env["OTEL_LOGS_EXPORTER"]
    run_app(env, argv=[sys.executable, str(script)], zero_code=False)
    wait_for_mlflow(mlflow, experiment_id, SPAN_COUNT)
    spans = mlflow_spans(mlflow, experiment_id)
    check_workload(spans, capture=True, server_port=fake_openai.port, kinds=MLFLOW_KINDS)
    check_metrics(receiver, fake_openai.port)
