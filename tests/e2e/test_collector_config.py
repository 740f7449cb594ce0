"""docs/collector.yaml checked as far as possible without the Collector binary, and its redaction emulated.

The structure follows the Collector's configuration rules (component ids are ``type[/name]``, pipelines
``signal[/name]`` reference defined components, extensions are enabled in ``service``); each component's
settings are checked against the fields its README documents. The redaction processors are then applied,
by a small emulator of just the actions the file uses, to what the instrumentation really exports with
capture on: no message text may survive.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.expect import CONTENT_SENTINELS
from tests.e2e.harness import base_env, run_app
from tests.e2e.otlp_receiver import OtlpReceiver, attributes
from tests.e2e.test_otlp_wire import wire_env

CONFIG = Path(__file__).resolve().parents[2] / "docs" / "collector.yaml"
# Component types of otelcol-contrib this check knows; `otlp`/`otlphttp` are the pre-0.144 exporter names.
KNOWN = {
    "receivers": {"otlp", "prometheus", "hostmetrics", "filelog", "jaeger", "zipkin", "kafka"},
    "processors": {"batch", "memory_limiter", "attributes", "transform", "filter", "resource", "redaction",
                   "resourcedetection", "tail_sampling", "probabilistic_sampler", "k8sattributes", "span"},
    "exporters": {"otlp_grpc", "otlp_http", "otlp", "otlphttp", "debug", "prometheus", "prometheusremotewrite",
                  "file", "kafka", "loadbalancing"},
    "extensions": {"health_check", "pprof", "zpages", "basicauth", "bearertokenauth", "file_storage"},
    "connectors": {"spanmetrics", "forward", "routing", "count"},
}
SIGNALS = {"traces", "metrics", "logs"}
CONTENT_KEYS = {"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
                "gen_ai.tool.call.arguments", "gen_ai.tool.call.result"}
ATTRIBUTE_ACTIONS = {"insert", "update", "upsert", "delete", "hash", "extract", "convert"}
OTTL_FUNCTIONS = {"set", "delete_key", "delete_matching_keys", "keep_keys", "keep_matching_keys", "limit",
                  "merge_maps", "replace_pattern", "replace_all_patterns", "replace_match", "truncate_all"}
OTTL_PATHS = {"trace_statements": ("span.", "spanevent.", "resource.", "scope."),
              "log_statements": ("log.", "resource.", "scope."),
              "metric_statements": ("metric.", "datapoint.", "resource.", "scope.")}
_STATEMENT = re.compile(r"^(?P<function>\w+)\((?P<args>.*)\)(?: where (?P<condition>.+))?$")
_HOST_PORT = re.compile(r"^[\w.-]+:\d{1,5}$")
_DURATION = re.compile(r"^\d+(ms|s|m|h)$")
_ENV_REF = re.compile(r"\$\{(?!env:[A-Z_][A-Z0-9_]*\})")


def load() -> dict[str, Any]:
    return yaml.safe_load(CONFIG.read_text())


def component_type(component_id: str) -> str:
    return component_id.split("/", 1)[0]


def test_collector_config_components_are_known_and_pipelines_reference_defined_ones() -> None:
    """Every component is a known otelcol-contrib type, and every pipeline uses only defined components."""
    config = load()
    for kind in ("receivers", "processors", "exporters", "extensions"):
        for component_id in config.get(kind, {}):
            assert component_type(component_id) in KNOWN[kind], (kind, component_id)
    service = config["service"]
    assert set(service.get("extensions", [])) <= set(config.get("extensions", {}))
    used: dict[str, set[str]] = {"receivers": set(), "processors": set(), "exporters": set()}
    for pipeline_id, pipeline in service["pipelines"].items():
        assert component_type(pipeline_id) in SIGNALS, pipeline_id
        assert pipeline.get("receivers") and pipeline.get("exporters"), pipeline_id
        for kind in used:
            for component_id in pipeline.get(kind, []):
                assert component_id in config[kind], (pipeline_id, component_id)
                used[kind].add(component_id)
        processors = pipeline.get("processors", [])
        assert processors[:1] == ["memory_limiter"] and processors[-1:] == ["batch"], pipeline_id
    for kind, ids in used.items():
        assert ids == set(config[kind]), f"unused {kind}: {set(config[kind]) - ids}"
    assert not _ENV_REF.search(CONFIG.read_text()), "environment references must read ${env:NAME}"


def test_collector_config_component_settings_follow_their_documented_fields() -> None:
    """Endpoints, durations, limits, attribute actions and OTTL statements have the documented shapes."""
    config = load()
    for protocol, settings in config["receivers"]["otlp"]["protocols"].items():
        assert protocol in {"grpc", "http"} and _HOST_PORT.match(settings["endpoint"]), protocol
    limiter = config["processors"]["memory_limiter"]
    assert _DURATION.match(limiter["check_interval"])
    assert 0 < limiter["spike_limit_percentage"] < limiter["limit_percentage"] <= 100
    assert _DURATION.match(config["processors"]["batch"]["timeout"])
    for component_id, settings in config["processors"].items():
        if component_type(component_id) == "attributes":
            for action in settings["actions"]:
                assert action["action"] in ATTRIBUTE_ACTIONS and action["key"], action
        if component_type(component_id) == "transform":
            check_transform(settings)
    for component_id, settings in config["exporters"].items():
        kind = component_type(component_id)
        if kind in {"otlp_grpc", "otlp", "prometheus"}:
            assert _HOST_PORT.match(settings["endpoint"]), component_id
        if kind in {"otlp_http", "otlphttp"}:
            urls = [v for k, v in settings.items() if k == "endpoint" or k.endswith("_endpoint")]
            assert urls and all(re.match(r"^https?://[\w.-]+(:\d+)?(/\S*)?$", url) for url in urls), component_id
        if kind == "debug":
            assert settings["verbosity"] in {"basic", "normal", "detailed"}


def check_transform(settings: dict[str, Any]) -> None:
    assert settings.get("error_mode", "propagate") in {"ignore", "silent", "propagate"}
    for group, prefixes in OTTL_PATHS.items():
        for statement in settings.get(group, []):
            match = _STATEMENT.match(statement)
            assert match and match["function"] in OTTL_FUNCTIONS, statement
            code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', statement)  # paths live outside string literals
            paths = re.findall(r"\b([a-z_]+\.[a-z_]+)", code)
            assert paths and all(path.startswith(prefixes) for path in paths), (group, statement)


def test_collector_config_redacts_every_content_attribute_in_every_trace_and_log_pipeline() -> None:
    """All five content attributes are deleted from spans and from events (where the details event carries
    them), and the details-event body of older releases is dropped from logs."""
    config = load()
    for pipeline_id, pipeline in config["service"]["pipelines"].items():
        processors = [config["processors"][p] | {"id": p} for p in pipeline.get("processors", [])]
        if component_type(pipeline_id) == "traces":
            assert deleted_keys(processors) >= CONTENT_KEYS, pipeline_id
        if component_type(pipeline_id) == "logs":
            assert deleted_keys(processors) >= CONTENT_KEYS, pipeline_id
            assert any("gen_ai.client.inference.operation.details" in s
                       for p in processors for s in p.get("log_statements", [])), pipeline_id


def deleted_keys(processors: list[dict[str, Any]]) -> set[str]:
    return {a["key"] for p in processors for a in p.get("actions", []) if a["action"] == "delete"}


def redact_log(record: dict[str, Any], statements: list[str]) -> dict[str, Any]:
    """The one OTTL form the config uses: ``set(log.body, "X") where log.event_name == "NAME"``."""
    for statement in statements:
        match = re.fullmatch(r'set\(log\.body, "(.*)"\) where log\.event_name == "(.*)"', statement)
        assert match, f"the emulator does not know {statement!r}"
        if record.get("eventName") == match[2]:
            record = {**record, "body": {"stringValue": match[1]}}
    return record


def test_collector_config_redaction_leaves_no_content_of_a_real_export(
    fake_openai: Any, receiver: OtlpReceiver
) -> None:
    """Applied to the app's real spans and events (capture on for both), the redaction leaves no message text."""
    env = wire_env(fake_openai, receiver, "zero-code")
    env["OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"] = "SPAN_AND_EVENT"
    run_app({**base_env(fake_openai), **env})
    config = load()
    keys = deleted_keys([config["processors"]["attributes/redact-genai-content"]])
    statements = config["processors"]["transform/redact-genai-events"]["log_statements"]
    spans, records = receiver.spans(), receiver.log_records()
    assert any(any(s in str(span) for s in CONTENT_SENTINELS) for span in spans), "capture was not on"
    details = [r for r in records if r.get("eventName") == "gen_ai.client.inference.operation.details"]
    assert details
    # The content crossed the wire as structured OTLP values (an array of kvlists), not JSON text.
    messages = [item["value"] for r in details for item in r.get("attributes", [])
                if item["key"] == "gen_ai.input.messages"]
    assert messages and all("arrayValue" in value for value in messages)
    assert all(isinstance(m, dict) and "parts" in m for m in attributes(
        [{"key": "m", "value": messages[0]}])["m"])
    for span in spans:
        kept = {k: v for k, v in attributes(span["attributes"]).items() if k not in keys}
        assert not [s for s in CONTENT_SENTINELS if s in str(kept) or s in str(span.get("events", []))], span["name"]
    for record in records:
        record = {**record, "attributes": [a for a in record.get("attributes", []) if a.get("key") not in keys]}
        redacted = str(redact_log(record, statements))
        assert not [s for s in CONTENT_SENTINELS if s in redacted], record.get("eventName")
