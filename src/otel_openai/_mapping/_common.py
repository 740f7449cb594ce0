"""Small helpers shared by the per-API mappings: typed reads that never raise and never invent values."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from opentelemetry.util.types import AttributeValue

Attributes = dict[str, AttributeValue]

# OTLP carries integer attributes as int64; a larger int would fail the whole export batch.
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def get(obj: Any, name: str) -> Any:
    """Read a field from an SDK model or a plain dict; missing means ``None``.

    SDK models keep their fields in ``__dict__`` (and unknown server fields in ``__pydantic_extra__``), so
    reading those directly avoids pydantic's ``__getattr__``, which raises — and makes ``getattr`` swallow —
    an ``AttributeError`` for every absent field: microseconds per read on the hot path.
    """
    if not isinstance(name, str):
        return None  # a name read from malformed input (e.g. a list ``type``)
    if isinstance(obj, dict):
        return obj.get(name)
    fields = getattr(obj, "__dict__", None)
    if fields is not None and name in fields:
        return fields[name]
    extra = getattr(obj, "__pydantic_extra__", None)
    if extra and name in extra:
        return extra[name]
    if isinstance(obj, Mapping):
        return obj.get(name)
    # Properties and other class-level attributes; absent names cost no exception.
    return getattr(obj, name, None) if hasattr(type(obj), name) else None


def fields(obj: Any) -> Mapping[str, Any]:
    """All field values of an SDK model or a mapping at once: the fast path for copying several fields."""
    if obj.__class__ is dict:
        return obj
    try:  # an SDK model: its fields and its extra fields, read without getattr's calls
        values = obj.__dict__
        extra = obj.__pydantic_extra__
    except AttributeError:
        return _other_fields(obj)
    if values.__class__ is not dict:
        return _other_fields(obj)
    return {**extra, **values} if extra else values


def _other_fields(obj: Any) -> Mapping[str, Any]:
    """``fields`` of anything but a dict or a pydantic v2 model: a dict subclass, an object with a ``__dict__``
    (pydantic v1 models too), another mapping, or nothing."""
    if isinstance(obj, dict):
        return obj
    values = getattr(obj, "__dict__", None)
    if not isinstance(values, dict):
        return obj if isinstance(obj, Mapping) else {}
    extra = getattr(obj, "__pydantic_extra__", None)
    return {**extra, **values} if extra else values


def copy_strings(attrs: Attributes, obj: Any, table: tuple[tuple[str, str], ...]) -> None:
    """Set each ``(field, attribute)`` of ``table`` whose field holds a non-empty string (or str enum)."""
    values = obj if obj.__class__ is dict else fields(obj)
    for field, attribute in table:
        value = values.get(field)
        if value.__class__ is str and value.isascii():  # the usual case, without the helpers' calls
            if value:
                attrs[attribute] = value
        elif value is not None:
            text = as_str(enum_value(value))
            if text is not None:
                attrs[attribute] = text


def as_str(value: Any) -> Optional[str]:
    return utf8_safe(value) if isinstance(value, str) and value else None


def utf8_safe(text: str) -> str:
    """``text`` with lone surrogates (from JSON ``\\ud800`` escapes) replaced, so exporters can encode it."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


def as_int(value: Any) -> Optional[int]:
    # bool is an int subclass, but True tokens are never a count.
    if isinstance(value, int) and not isinstance(value, bool) and _INT64_MIN <= value <= _INT64_MAX:
        return value
    return None


def as_float(value: Any) -> Optional[float]:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:  # an int beyond a double's range
            return None
    return None


def as_str_list(value: Any) -> Optional[list[str]]:
    """A string becomes a one-element list; lists keep their strings in order."""
    if isinstance(value, str):
        return [utf8_safe(value)]
    if isinstance(value, (list, tuple)):
        items = [utf8_safe(v) for v in value if isinstance(v, str)]
        return items or None
    return None


def put(attrs: Attributes, key: str, value: Optional[AttributeValue]) -> None:
    """Set ``key`` only when there is a value: absent kwargs stay absent."""
    if value is not None:
        attrs[key] = value


def enum_value(value: Any) -> Any:
    """Plain value of a str-valued enum or literal from the SDK."""
    if value is None or value.__class__ is str:  # a plain str has no ``value``: skip the failed lookup
        return value
    return getattr(value, "value", value)
