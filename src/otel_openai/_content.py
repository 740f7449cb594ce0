"""Captured content made safe to export: strings bounded by a limit, JSON always valid."""

from __future__ import annotations

import json
import math
from typing import Any

_TRUNCATED = "…[truncated]"


def bounded(value: Any, limit: int) -> Any:
    """A copy of ``value`` whose strings are at most ``limit`` characters (0 means no limit).

    Truncating each string, rather than the serialized JSON, keeps the result valid JSON.
    """
    if limit <= 0:
        return value
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + _TRUNCATED
    if isinstance(value, dict):
        return {k: bounded(v, limit) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [bounded(v, limit) for v in value]
    return value


# Keys under which OpenAI payloads carry base64 media (audio deltas, generated images).
_MEDIA_KEYS = frozenset({"data", "b64_json", "partial_image_b64", "audio"})


def without_media(value: Any) -> Any:
    """A copy of a dumped SDK payload whose base64 media strings are replaced by their length."""
    if isinstance(value, dict):
        media_delta = str(value.get("type", "")).endswith("audio.delta")
        return {k: (f"<{len(v)} base64 chars>" if isinstance(v, str) and (k in _MEDIA_KEYS or (
            media_delta and k == "delta")) else without_media(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [without_media(v) for v in value]
    return value


def to_json(value: Any) -> str:
    """Compact, strict JSON for a span attribute; values JSON cannot encode become their ``str``."""
    try:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False)
    except ValueError:  # NaN/Infinity (e.g. parsed from tool arguments): collectors reject them
        text = json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"), default=str)
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: escaping them keeps the JSON valid and encodable
        return json.dumps(_finite(value), ensure_ascii=True, separators=(",", ":"), default=str)
    return text


def _finite(value: Any) -> Any:
    """A copy with non-finite floats as strings (``"nan"``, ``"inf"``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
