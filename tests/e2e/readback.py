"""Read spans back through each backend's own API and normalise them to one shape for the assertions."""

from __future__ import annotations

import base64
import contextlib
import json
import sys
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

from tests.e2e.otlp_receiver import attributes as otlp_attributes

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from e2e_backends import Server, http_json, poll

# Attributes whose value is JSON on the wire; backends may hand them back as text or already parsed.
JSON_KEYS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.definitions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
)


@dataclass
class Span:
    """A span as a backend returned it: ids in hex, status as UNSET/OK/ERROR, the backend's own kind."""

    name: str
    trace_id: str
    span_id: str
    parent_id: Optional[str]
    status: str
    status_message: str
    kind: str
    attributes: dict[str, Any]
    start_ns: int = 0
    events: list[str] = field(default_factory=list)
    raw: Any = None


def _decoded(attributes: dict[str, Any]) -> dict[str, Any]:
    out = dict(attributes)
    for key in JSON_KEYS:
        if isinstance(out.get(key), str):
            with contextlib.suppress(ValueError):  # a plain-text value stays as it is
                out[key] = json.loads(out[key])
    return out


# --- Phoenix ---------------------------------------------------------------------------------------


def phoenix_spans(server: Server, project: str) -> list[Span]:
    """Every span of `project`, from Phoenix's REST API (``GET /v1/projects/{project}/spans``)."""
    spans: list[Span] = []
    cursor: Optional[str] = None
    while True:
        query = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
        url = f"{server.urls['base']}/v1/projects/{urllib.parse.quote(project)}/spans?{urllib.parse.urlencode(query)}"
        page = http_json(url)
        spans.extend(_phoenix_span(item) for item in page["data"])
        cursor = page.get("next_cursor")
        if not cursor:
            return spans


def _phoenix_span(item: dict[str, Any]) -> Span:
    return Span(
        name=item["name"],
        trace_id=item["context"]["trace_id"],
        span_id=item["context"]["span_id"],
        parent_id=item.get("parent_id"),
        status=item.get("status_code") or "UNSET",
        status_message=item.get("status_message") or "",
        kind=item.get("span_kind", ""),  # Phoenix keeps its OpenInference kind, not the OTLP SpanKind
        attributes=_decoded(item.get("attributes") or {}),
        start_ns=int(datetime.fromisoformat(item["start_time"]).timestamp() * 1e6) * 1000,
        events=[event["name"] for event in item.get("events") or []],
        raw=item,
    )


def wait_for_phoenix(server: Server, project: str, count: int, deadline: float = 60) -> list[Span]:
    """Poll until `project` holds at least `count` spans; the backend ingests asynchronously."""
    return list(
        poll(
            lambda: (spans := _phoenix_or_none(server, project)) is not None and len(spans) >= count and spans,
            deadline,
            what=f"{count} spans in Phoenix project {project}",
        )
    )


def _phoenix_or_none(server: Server, project: str) -> Optional[list[Span]]:
    try:
        return phoenix_spans(server, project)
    except OSError:  # 404 until the first span creates the project
        return None


# --- MLflow ----------------------------------------------------------------------------------------


def mlflow_experiment(server: Server, name: str) -> str:
    """Create an experiment and return its id (the value of the ``x-mlflow-experiment-id`` header)."""
    created = http_json(f"{server.urls['base']}/api/2.0/mlflow/experiments/create", {"name": name})
    return str(created["experiment_id"])


def mlflow_spans(server: Server, experiment_id: str) -> list[Span]:
    """Every span of every trace in the experiment: ``traces/search``, then ``traces/get`` per trace."""
    base = server.urls["base"]
    location = {"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": experiment_id}}
    spans: list[Span] = []
    token: Optional[str] = None
    while True:
        body = {"locations": [location], "max_results": 500, **({"page_token": token} if token else {})}
        page = http_json(f"{base}/api/3.0/mlflow/traces/search", body)
        for info in page.get("traces", []):
            query = urllib.parse.urlencode({"trace_id": info["trace_id"]})
            trace = http_json(f"{base}/api/3.0/mlflow/traces/get?{query}")["trace"]
            spans.extend(_mlflow_span(item) for item in trace.get("spans", []))
        token = page.get("next_page_token")
        if not token:
            return spans


def _hex(value: Optional[str]) -> Optional[str]:
    return base64.b64decode(value).hex() if value else None


_MLFLOW_STATUS = {"STATUS_CODE_ERROR": "ERROR", "STATUS_CODE_OK": "OK"}


def _mlflow_span(item: dict[str, Any]) -> Span:
    attributes = otlp_attributes(item.get("attributes", []))
    status = item.get("status") or {}
    return Span(
        name=item["name"],
        trace_id=str(_hex(item["trace_id"])),
        span_id=str(_hex(item["span_id"])),
        parent_id=_hex(item.get("parent_span_id")),
        status=_MLFLOW_STATUS.get(status.get("code", ""), "UNSET"),
        status_message=status.get("message", ""),
        kind=str(attributes.get("mlflow.spanType", "")),  # MLflow keeps its span type, not the SpanKind
        attributes=_decoded(attributes),
        start_ns=int(item.get("start_time_unix_nano", 0)),
        events=[event.get("name", "") for event in item.get("events", [])],
        raw=item,
    )


def wait_for_mlflow(server: Server, experiment_id: str, count: int, deadline: float = 90) -> list[Span]:
    """Poll until the experiment holds at least `count` spans (MLflow's first export can take seconds)."""
    return list(
        poll(
            lambda: len(spans := mlflow_spans(server, experiment_id)) >= count and spans,
            deadline,
            what=f"{count} spans in MLflow experiment {experiment_id}",
        )
    )


# --- the loopback receiver ---------------------------------------------------------------------------


_OTLP_STATUS = {"STATUS_CODE_ERROR": "ERROR", "STATUS_CODE_OK": "OK"}


def receiver_span(item: dict[str, Any]) -> Span:
    """A span decoded by tests/e2e/otlp_receiver.py; here ``kind`` is the real OTLP SpanKind."""
    status = item.get("status") or {}
    return Span(
        name=item["name"],
        trace_id=str(_hex(item["traceId"])),
        span_id=str(_hex(item["spanId"])),
        parent_id=_hex(item.get("parentSpanId")),
        status=_OTLP_STATUS.get(status.get("code", ""), "UNSET"),
        status_message=status.get("message", ""),
        kind=item.get("kind", "SPAN_KIND_UNSPECIFIED").removeprefix("SPAN_KIND_"),
        attributes=_decoded(otlp_attributes(item.get("attributes", []))),
        start_ns=int(item.get("startTimeUnixNano", 0)),
        events=[event.get("name", "") for event in item.get("events", [])],
        raw=item,
    )
