"""Every captured content value, checked against the official GenAI JSON schemas as the suite produces it.

The schemas live in ``../shared/semconv/`` beside the repository (CI has it; ``OTEL_OPENAI_SHARED_DIR`` points
elsewhere). Without them, or without ``jsonschema``, the collector stays idle and the schema test skips.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Optional

from opentelemetry.sdk._logs import LogRecordProcessor
from opentelemetry.sdk.trace import SpanProcessor

SHARED = Path(os.environ.get("OTEL_OPENAI_SHARED_DIR") or Path(__file__).resolve().parents[1].parent / "shared")
SEMCONV = SHARED / "semconv"
CASSETTES = SHARED / "cassettes"

# Content attribute -> the official schema its value must satisfy.
SCHEMA_FILES = {
    "gen_ai.input.messages": "gen-ai-input-messages.json",
    "gen_ai.output.messages": "gen-ai-output-messages.json",
    "gen_ai.system_instructions": "gen-ai-system-instructions.json",
    "gen_ai.tool.definitions": "gen-ai-tool-definitions.json",
    "gen_ai.tool.call.arguments": "gen-ai-tool-call-arguments.json",
    "gen_ai.tool.call.result": "gen-ai-tool-call-result.json",
    "gen_ai.retrieval.documents": "gen-ai-retrieval-documents.json",
}
# Inside messages the schemas accept any value for these; our own rule (docs/configuration.md) is an object,
# checked against the execute_tool span schemas and counted apart from the official figure.
NESTED = {("tool_call", "arguments"): "gen_ai.tool.call.arguments",
          ("tool_call_response", "response"): "gen_ai.tool.call.result"}


def missing_reason() -> Optional[str]:
    """Why the schema check cannot run here, or None when it can."""
    if not SEMCONV.is_dir():
        return f"the official schemas are not at {SEMCONV} (set OTEL_OPENAI_SHARED_DIR to ../shared)"
    try:
        import jsonschema  # noqa: F401
    except ImportError:  # pragma: no cover - a test dependency in noxfile.py
        return "jsonschema is not installed"
    return None


def _validators() -> dict[str, Any]:
    from jsonschema import Draft202012Validator

    found = {}
    for key, name in SCHEMA_FILES.items():
        path = SEMCONV / name
        if path.is_file():
            found[key] = Draft202012Validator(json.loads(path.read_text()))
    return found


class Report:
    """Counts of values checked and valid, per attribute, with a few failing examples to show."""

    def __init__(self) -> None:
        self.checked: Counter[str] = Counter()
        self.valid: Counter[str] = Counter()
        self.nested_checked = 0
        self.nested_valid = 0
        self.failures: list[str] = []
        self.nested_failures: list[str] = []

    def fail(self, text: str, nested: bool = False) -> None:
        found = self.nested_failures if nested else self.failures
        if len(found) < 50:
            found.append(text)

    @property
    def total(self) -> tuple[int, int]:
        return sum(self.valid.values()), sum(self.checked.values())

    def summary(self) -> str:
        valid, checked = self.total
        rows = ", ".join(f"{k} {self.valid[k]}/{n}" for k, n in sorted(self.checked.items()))
        return (f"content schema check: {valid} valid / {checked} checked ({checked - valid} failed)"
                f"; nested tool payloads {self.nested_valid}/{self.nested_checked}; {rows}")


class Collector:
    """Validates each content value as a span ends or an event is emitted; keeps counts, not values."""

    def __init__(self) -> None:
        self.report = Report()
        self._lock = threading.Lock()
        self._validators: Optional[dict[str, Any]] = None
        self.enabled = missing_reason() is None

    @property
    def validators(self) -> dict[str, Any]:
        if self._validators is None:
            self._validators = _validators()
        return self._validators

    def check_attributes(self, attrs: Optional[Mapping[str, Any]], where: str) -> None:
        if not self.enabled or not attrs:
            return
        for key in SCHEMA_FILES:
            if key in attrs:
                self.check(key, attrs[key], where)

    def check(self, key: str, value: Any, where: str) -> bool:
        """Validate one value (a JSON string on spans, structured on events); True when valid."""
        if isinstance(value, str):
            with contextlib.suppress(ValueError):  # a bare string is validated as such: object schemas reject it
                value = json.loads(value)
        value = _plain(value)
        errors = [e.message for e in self.validators[key].iter_errors(value)]
        nested = list(_nested(value)) if key in ("gen_ai.input.messages", "gen_ai.output.messages") else []
        nested_errors = [f"{k}: {e.message}" for k, v in nested for e in self.validators[k].iter_errors(v)]
        with self._lock:
            self.report.checked[key] += 1
            self.report.nested_checked += len(nested)
            self.report.nested_valid += len(nested) - len(nested_errors)
            if not errors:
                self.report.valid[key] += 1
            else:
                self.report.fail(f"{where} {key}: {errors[0][:300]} in {json.dumps(value, default=str)[:300]}")
            if nested_errors:
                self.report.fail(f"{where} {key} (nested): {nested_errors[0][:300]}", nested=True)
        return not errors


def _plain(value: Any) -> Any:
    """Structured event values as JSON data (the SDK may hand back tuples or mapping proxies)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _nested(messages: Any) -> Any:
    """(schema key, value) for each tool-call argument and tool response inside messages."""
    for message in messages if isinstance(messages, list) else ():
        parts = message.get("parts") if isinstance(message, dict) else None
        for part in parts if isinstance(parts, list) else ():
            if not isinstance(part, dict):
                continue
            for (kind, field), key in NESTED.items():
                if part.get("type") == kind and part.get(field) is not None:
                    yield key, part[field]


COLLECTOR = Collector()


class SpanCollector(SpanProcessor):
    """A span processor feeding every ended span's content attributes to the collector."""

    def on_end(self, span: Any) -> None:
        try:
            COLLECTOR.check_attributes(span.attributes, f"span {span.name!r}")
            for event in span.events:
                COLLECTOR.check_attributes(event.attributes, f"span event {event.name!r}")
        except Exception as exc:  # a checker bug must show up as a failure, not break the test emitting it
            COLLECTOR.report.fail(f"checker error on span {span.name!r}: {exc!r}")


class LogCollector(LogRecordProcessor):
    """A log record processor feeding every event's content (attributes, or a body mapping) to the collector."""

    def on_emit(self, log_data: Any) -> None:
        record = getattr(log_data, "log_record", log_data)
        try:
            name = getattr(record, "event_name", None)
            COLLECTOR.check_attributes(record.attributes, f"event {name!r} attributes")
            if isinstance(record.body, Mapping):
                COLLECTOR.check_attributes(record.body, f"event {name!r} body")
        except Exception as exc:
            COLLECTOR.report.fail(f"checker error on a log record: {exc!r}")

    emit = on_emit  # the hook's name in older opentelemetry-sdk releases

    def shutdown(self) -> None:
        pass

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
