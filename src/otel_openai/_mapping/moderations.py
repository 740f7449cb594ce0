"""Moderations (``POST /moderations``): request, response and content mapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from otel_openai import _semconv as sc
from otel_openai._mapping import _parts as parts
from otel_openai._mapping._common import Attributes, as_str, get, put


def request_attributes(body: Mapping[str, Any]) -> Attributes:
    """A moderation answers with a structured verdict: output type ``json``."""
    return {sc.OUTPUT_TYPE: sc.OUTPUT_TYPE_JSON}


def response_attributes(response: Any) -> Attributes:
    """Id and model of a ``ModerationCreateResponse``; moderations report no usage."""
    attrs: Attributes = {}
    put(attrs, sc.RESPONSE_ID, as_str(get(response, "id")))
    put(attrs, sc.RESPONSE_MODEL, as_str(get(response, "model")))
    return attrs


def input_messages(body: Mapping[str, Any], capture_media: bool) -> list[dict[str, Any]]:
    """``input``: a string, a list of strings, or multimodal text/image parts; one user message."""
    value = body.get("input")
    if isinstance(value, str):
        return [{"role": "user", "parts": [parts.text(value)]}]
    if not isinstance(value, (list, tuple)):
        return []
    msg_parts = [parts.text(v) if isinstance(v, str) else parts.content_parts([v], capture_media)[0]
                 for v in value]
    return [{"role": "user", "parts": msg_parts}]


def output_messages(response: Any, capture_media: bool) -> list[dict[str, Any]]:
    """One generic ``moderation`` part per input: whether it was flagged and which categories were."""
    results = get(response, "results")
    if not isinstance(results, (list, tuple)):
        return []
    return [{"role": "assistant", "parts": [_verdict(r) for r in results]}]


def _verdict(result: Any) -> parts.Part:
    categories = get(result, "categories")
    if hasattr(categories, "model_dump"):
        categories = categories.model_dump(by_alias=True, warnings=False)
    items = categories.items() if isinstance(categories, Mapping) else ()
    flagged = sorted(str(k) for k, v in items if v is True)
    return parts.generic("moderation", {"flagged": bool(get(result, "flagged")), "categories": flagged})
