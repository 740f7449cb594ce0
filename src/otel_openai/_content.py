"""Captured content made safe to export: strings bounded by a limit, JSON always valid."""

from __future__ import annotations

import json
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


def to_json(value: Any) -> str:
    """Compact JSON for a span attribute; values JSON cannot encode become their ``str``."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)
