"""Zero-code export of all three signals to a loopback OTLP/HTTP receiver: metrics, events, raw span kinds.

Phoenix and MLflow accept traces only and keep their own span types instead of the OTLP SpanKind, so
what a Collector would receive on the wire is asserted here, with the documented snippets for a
Collector, batching, sampling, Jaeger/Tempo and a hosted vendor.
"""

from __future__ import annotations

import importlib.metadata
import sys
from typing import Any

import pytest

from tests.e2e.expect import MODEL, OTLP_KINDS, SPAN_COUNT, check_workload
from tests.e2e.harness import APP, base_env, run_app, snippet_commands, snippet_env
from tests.e2e.otlp_receiver import OtlpReceiver, attributes
from tests.e2e.readback import receiver_span

DURATION = "gen_ai.client.operation.duration"
TOKEN_USAGE = "gen_ai.client.token.usage"
TIME_TO_FIRST_CHUNK = "gen_ai.client.operation.time_to_first_chunk"
TIME_PER_OUTPUT_CHUNK = "gen_ai.client.operation.time_per_output_chunk"
METRIC_ATTRIBUTES = {
    "gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.request.model", "gen_ai.response.model",
    "server.address", "server.port", "error.type", "gen_ai.token.type",
    "openai.response.service_tier", "openai.response.system_fingerprint",
}  # fmt: skip
# 9 chat calls (one fails; three are the Agents SDK run's, each counted once) and one embeddings call.
INFERENCE_CALLS = 10


def wire_env(fake_openai: Any, receiver: OtlpReceiver, *snippets: str, **variables: str) -> dict[str, str]:
    """The named snippets layered in order, every documented endpoint pointed at the receiver."""
    replace = {
        "http://localhost:4318": receiver.endpoint,
        "http://jaeger:4318": receiver.endpoint,
        "https://otlp.vendor.example": receiver.endpoint,
    }
    env = base_env(fake_openai)
    for name in snippets:
        env.update(snippet_env(name, replace, **variables))
    env["OTEL_INSTRUMENTATION_OPENAI_TIME_PER_CHUNK_METRIC"] = "true"  # opt in, so all four arrive
    return env


def _count(points: list[dict[str, Any]], **match: Any) -> int:
    return sum(int(p.get("count", 0)) for p in points if attributes(p["attributes"]).items() >= match.items())


def check_metrics(receiver: OtlpReceiver, server_port: int, per_chunk: bool = False) -> None:
    """The histograms, one point per call, with allow-listed attributes only; the opt-in per-chunk one
    only when ``per_chunk`` (OTEL_INSTRUMENTATION_OPENAI_TIME_PER_CHUNK_METRIC=true)."""
    metrics = receiver.metrics()
    expected = {DURATION, TOKEN_USAGE, TIME_TO_FIRST_CHUNK} | ({TIME_PER_OUTPUT_CHUNK} if per_chunk else set())
    assert expected <= set(metrics)
    assert per_chunk or TIME_PER_OUTPUT_CHUNK not in metrics
    for name in expected:
        for point in metrics[name]:
            assert point["kind"] == "histogram", name
            keys = set(attributes(point["attributes"]))
            assert keys <= METRIC_ATTRIBUTES, (name, keys - METRIC_ATTRIBUTES)
            assert attributes(point["attributes"])["server.port"] == server_port
    assert {p["unit"] for p in metrics[DURATION]} == {"s"}
    assert {p["unit"] for p in metrics[TOKEN_USAGE]} == {"{token}"}
    duration = metrics[DURATION]
    assert _count(duration) == INFERENCE_CALLS
    assert _count(duration, **{"error.type": "openai.RateLimitError", "gen_ai.request.model": "error-429"}) == 1
    assert _count(duration, **{"gen_ai.operation.name": "embeddings"}) == 1
    usage = metrics[TOKEN_USAGE]
    assert _count(usage, **{"gen_ai.token.type": "input"}) == INFERENCE_CALLS - 1  # never on failure
    assert _count(usage, **{"gen_ai.token.type": "output"}) == INFERENCE_CALLS - 2  # embeddings: input only
    assert _count(metrics[TIME_TO_FIRST_CHUNK], **{"gen_ai.request.model": MODEL}) == 1
    if per_chunk:
        assert _count(metrics[TIME_PER_OUTPUT_CHUNK]) >= 1


def check_exception_event(receiver: OtlpReceiver) -> None:
    """The failed call's exception event arrived as a log record in the failed span's trace."""
    records = [r for r in receiver.log_records()
               if r.get("eventName") == "gen_ai.client.operation.exception"
               or attributes(r.get("attributes", [])).get("event.name") == "gen_ai.client.operation.exception"]
    assert len(records) == 1, receiver.log_records()
    failed = next(s for s in map(receiver_span, receiver.spans()) if s.name == "chat error-429")
    assert receiver_span({"name": "", "traceId": records[0]["traceId"], "spanId": records[0]["spanId"]}).span_id \
        == failed.span_id
    assert attributes(records[0]["attributes"])["exception.type"] == "openai.RateLimitError"
    assert "Traceback (most recent call last)" in attributes(records[0]["attributes"])["exception.stacktrace"]


def test_zero_code_snippet_installs_what_the_session_has() -> None:
    """The packages the zero-code snippet installs are the ones this e2e run uses, and it runs `app.py`."""
    commands = snippet_commands("zero-code")
    (pip,) = [c for c in commands if c[:2] == ["pip", "install"]]
    for package in pip[2:]:
        importlib.metadata.distribution(package)  # raises if the documented package is not installed
    assert ["opentelemetry-instrument", "python", "app.py"] in commands


def test_zero_code_exports_traces_metrics_and_events(fake_openai: Any, receiver: OtlpReceiver) -> None:
    """Under the zero-code and batching snippets, the wire carries every span with its OTLP kind, the four
    histograms and the exception event, gzip-compressed."""
    run_app(wire_env(fake_openai, receiver, "zero-code", "batching"))
    spans = [receiver_span(item) for item in receiver.spans()]
    check_workload(spans, capture=True, server_port=fake_openai.port, kinds=OTLP_KINDS)
    assert {item["scope"] for item in receiver.spans()} == {"otel_openai"}
    check_metrics(receiver, fake_openai.port, per_chunk=True)
    check_exception_event(receiver)
    assert {h.get("content-encoding") for h in receiver.headers("/v1/traces")} == {"gzip"}


def test_sampled_out_traces_still_count_in_metrics(fake_openai: Any, receiver: OtlpReceiver) -> None:
    """With the sampling snippet at ratio 0 no span is exported, yet every call is in the metrics."""
    env = wire_env(fake_openai, receiver, "zero-code", "sampling")
    env["OTEL_TRACES_SAMPLER_ARG"] = "0"  # the documented 0.1 would make the span count random
    run_app(env)
    assert receiver.spans() == []
    check_metrics(receiver, fake_openai.port, per_chunk=True)


@pytest.mark.parametrize("snippet", ["jaeger-tempo", "vendor"])
def test_documented_backend_settings_deliver_every_span(
    snippet: str, fake_openai: Any, receiver: OtlpReceiver
) -> None:
    """The Jaeger/Tempo and vendor snippets deliver the whole workload; the vendor's key travels as a header."""
    env = wire_env(fake_openai, receiver, "zero-code", snippet, VENDOR_API_KEY="e2e-secret")
    run_app(env, argv=[sys.executable, str(APP)])
    spans = [receiver_span(item) for item in receiver.spans()]
    check_workload(spans, capture=True, server_port=fake_openai.port, kinds=OTLP_KINDS)
    assert len(spans) == SPAN_COUNT
    if snippet == "vendor":
        assert {h.get("api-key") for h in receiver.headers("/v1/traces")} == {"e2e-secret"}
        assert {h.get("content-encoding") for h in receiver.headers("/v1/metrics")} == {"gzip"}
    else:
        assert receiver.metrics() == {}  # the snippet turns metrics off
