"""Small helpers shared by the per-API mappings: typed reads that never raise and never invent values."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Optional

from opentelemetry.util.types import AttributeValue

Attributes = dict[str, AttributeValue]


def get(obj: Any, name: str) -> Any:
    """Read a field from an SDK model or a plain dict; missing means ``None``."""
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def as_str(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None


def as_int(value: Any) -> Optional[int]:
    # bool is an int subclass, but True tokens are never a count.
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_float(value: Any) -> Optional[float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def as_str_list(value: Any) -> Optional[list[str]]:
    """A string becomes a one-element list; lists keep their strings in order."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)):
        items = [v for v in value if isinstance(v, str)]
        return items or None
    return None


def put(attrs: Attributes, key: str, value: Optional[AttributeValue]) -> None:
    """Set ``key`` only when there is a value: absent kwargs stay absent."""
    if value is not None:
        attrs[key] = value


def parse_json(text: Any) -> Any:
    """Tool-call arguments as structured data when they parse, else the text as sent."""
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def enum_value(value: Any) -> Any:
    """Plain value of a str-valued enum or literal from the SDK."""
    return getattr(value, "value", value)
