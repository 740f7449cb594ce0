"""Tool arguments and results as JSON-ready data, without copying or walking arbitrary objects."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import pathlib
import sys
import uuid
from typing import Any

from otel_openai import _content

__all__ = ["placeholder", "plain"]

# Deeper than this is a cycle or not data anyone reads on a span.
_MAX_DEPTH = 20
# A placeholder names the type, never more: a framework's class names are short, a generated one may not be.
_MAX_NAME = 64
# Standard value types whose text is their value (and whose str runs no user code).
_TEXT_TYPES = (datetime.date, datetime.time, uuid.UUID, decimal.Decimal, pathlib.PurePath)


class _NotPlain(Exception):
    """Raised inside a dataclass when one of its values is not plain data: the dataclass becomes a placeholder."""


def placeholder(value: Any) -> str:
    """A short stand-in for an object we do not look into: ``"<RunContext object>"``."""
    return f"<{type(value).__name__[:_MAX_NAME]} object>"


def plain(value: Any, depth: int = 0, strict: bool = False) -> Any:
    """JSON-ready data: JSON types as they are (tuples and sets as lists), pydantic models through their own
    serializer, dataclasses of plain values as dicts, dates, UUIDs, decimals, paths and enums as their value,
    and anything else as a placeholder with its type name. Nothing is deep-copied, pickled or ``repr``-ed.

    ``strict`` (inside a dataclass) raises ``_NotPlain`` instead of making a placeholder.
    """
    if value is None or isinstance(value, (str, int, float)):
        return value
    if depth < _MAX_DEPTH:
        if isinstance(value, dict):
            return {_key(k): plain(v, depth + 1, strict) for k, v in value.items()}
        if isinstance(value, (list, tuple, set, frozenset)):
            return [plain(v, depth + 1, strict) for v in value]
        if _is_pydantic(value):
            return _model(value, strict)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return _dataclass(value, depth, strict)
        if isinstance(value, enum.Enum):
            return plain(value.value, depth + 1, strict)
        if isinstance(value, _TEXT_TYPES):
            return value.isoformat() if isinstance(value, (datetime.date, datetime.time)) else str(value)
    if strict:
        raise _NotPlain
    return placeholder(value)


def _key(key: Any) -> str:
    value = plain(key)
    return value if isinstance(value, str) else _content.to_json(value)


def _is_pydantic(value: Any) -> bool:
    # pydantic is imported whenever one of its models exists; we never import it ourselves.
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(value, pydantic.BaseModel)


def _model(value: Any, strict: bool) -> Any:
    """A pydantic model's JSON dump; a model holding values pydantic cannot serialize is not plain."""
    try:
        return value.model_dump(mode="json", warnings=False)
    except Exception:
        if strict:
            raise _NotPlain from None
        return placeholder(value)


def _dataclass(value: Any, depth: int, strict: bool) -> Any:
    """A dataclass whose fields are all plain data, as a dict (never ``dataclasses.asdict``: it deep-copies)."""
    try:
        return {f.name: plain(getattr(value, f.name), depth + 1, True) for f in dataclasses.fields(value)}
    except Exception:  # _NotPlain, or a field that was never set
        if strict:
            raise _NotPlain from None
        return placeholder(value)
