"""The name registry: every attribute, metric and event name we define is documented in docs/attributes.md."""

from __future__ import annotations

from pathlib import Path

from otel_openai import _semconv as sc

DOC = (Path(__file__).resolve().parents[1] / "docs" / "attributes.md").read_text()
# Context keys are names we use, not names we emit.
NOT_EMITTED = {sc.CONTEXT_AGENT_NAME, sc.CONTEXT_AGENT_RUN, sc.CONTEXT_SDK_TOOL}


def emitted_names() -> dict[str, str]:
    """Every dotted telemetry name in _semconv.py (attributes, metrics, events), by constant."""
    return {key: value for key, value in vars(sc).items()
            if key.isupper() and isinstance(value, str) and "." in value and not value.startswith("http")
            and value not in NOT_EMITTED}


def test_every_name_is_documented() -> None:
    """docs/attributes.md has a row (or a mention) for every name _semconv.py defines."""
    missing = sorted(f"{key}={value}" for key, value in emitted_names().items() if f"`{value}`" not in DOC)
    assert missing == []


def test_names_are_unique() -> None:
    """No two constants spell the same name (a rename must be a one-line change)."""
    names = list(emitted_names().values())
    assert len(names) == len(set(names))


def test_metric_allow_list_has_no_ids_or_content() -> None:
    """Metric attributes never include ids, data sources or content."""
    forbidden = {sc.RESPONSE_ID, sc.TOOL_CALL_ID, sc.DATA_SOURCE_ID, sc.INPUT_MESSAGES, sc.OUTPUT_MESSAGES,
                 sc.RETRIEVAL_QUERY_TEXT, sc.RETRIEVAL_DOCUMENTS, sc.REQUEST_STREAM_CURSOR}
    assert not forbidden & sc.METRIC_ATTRIBUTE_ALLOW_LIST
