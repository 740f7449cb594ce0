"""Captured content made safe to export: strings bounded by a limit, JSON always valid."""

from __future__ import annotations

import json
import marshal
import math
from collections.abc import Mapping
from typing import Any, Callable, Optional, Union

_TRUNCATED = "…[truncated]"
# Labels, not content: a part's type or a message's role cut short would break the schemas. Kept whole up to
# LABEL_LIMIT characters, whatever the content limit.
LABEL_KEYS = frozenset({"type", "generic_type", "role", "modality", "mime_type", "stripped_reason"})
LABEL_LIMIT = 64


def bounded(value: Any, limit: int) -> Any:
    """A copy of ``value`` whose strings are at most ``limit`` characters (0 means no limit); labels
    (``LABEL_KEYS``) are kept whole when they are at most ``LABEL_LIMIT`` characters.

    Truncating each string, rather than the serialized JSON, keeps the result valid JSON.
    """
    if limit <= 0:
        return value
    if isinstance(value, str):
        return value if len(value) <= limit else value[:limit] + _TRUNCATED
    if isinstance(value, dict):
        return {k: v if k in LABEL_KEYS and isinstance(v, str) and len(v) <= LABEL_LIMIT else bounded(v, limit)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [bounded(v, limit) for v in value]
    return value


def bounded_json(value: Any, limit: int) -> str:
    """``to_json(bounded(value, limit))`` without the copy in the usual case.

    A string's JSON is at least as long as the string, so JSON no longer than ``limit`` holds no string to cut;
    longer JSON is only encoded again when some string in it is really too long.
    """
    text = to_json(value)
    if limit <= 0 or len(text) <= limit or _fits(value, limit):
        return text
    return to_json(bounded(value, limit))


# The memo's size: ~1M characters of keys and texts.
MEMO_CHARS = 1 << 20
_MARSHALLED = frozenset({dict, list, tuple})
Key = tuple[Callable[[Any, bool], Any], bool, int, Union[str, bytes]]


def _exact(value: Any) -> Union[str, bytes, None]:
    """``value`` as a key that equals another value's only when the two are the same in every respect the JSON
    could show (``JsonMemo``); None for what cannot be keyed.

    A string is its own key. Other plain data is ``marshal``'s serialization, which refuses subclasses and
    objects (an SDK model's mapping could read more than its value) and tells apart ``1``, ``1.0`` and
    ``True``, key orders, tuples and lists.
    """
    cls = value.__class__
    if cls is str:
        return value  # type: ignore[no-any-return]
    if cls not in _MARSHALLED:  # an SDK model or a subclass: no attempt, no exception
        return None
    try:
        return marshal.dumps(value)
    except ValueError:  # something inside is not plain data
        return None


class JsonMemo:
    """``bounded_json`` of content that comes back call after call (a system prompt, tool definitions, a
    conversation's earlier turns), kept by the exact value it was built from (``_exact``) and by what built
    it, so a changed value never meets a stale text.

    Bounded to ``max_chars`` characters of keys and texts (emptied when full); an entry over a sixteenth of
    that (an inline image) is not kept.
    """

    __slots__ = ("_chars", "_large", "_max", "_texts")

    def __init__(self, max_chars: int = MEMO_CHARS) -> None:
        self._texts: dict[Key, str] = {}
        self._chars = 0
        self._max = max_chars
        self._large = max_chars >> 4

    def text(self, build: Callable[[Any, bool], Any], arg: Any, media: bool, limit: int, value: Any) -> str:
        """``bounded_json(build(arg, media), limit)``, where that depends on nothing but ``value`` (``arg``
        itself, or the body holding it): reused when the same ``build`` has seen the same ``value``."""
        exact = _exact(value)
        if exact is None or len(exact) > self._large:
            return bounded_json(build(arg, media), limit)
        key = (build, media, limit, exact)
        text = self._texts.get(key)
        if text is None:
            text = bounded_json(build(arg, media), limit)
            self._keep(key, text)
        return text

    def join(self, build: Callable[[Any, bool], Any], items: Any, media: bool, limit: int,
             keep: Optional[Callable[[Any], bool]]) -> str:
        """The JSON list of ``build(item, media)`` for each of ``items``, each through ``text`` (bounded:
        ``bounded`` cuts each string alone, so the list's JSON is its items' joined); ``keep`` says which
        items may be kept (None: all)."""
        text = self.text
        return "[" + ",".join([text(build, item, media, limit, item) if keep is None or keep(item)
                               else bounded_json(build(item, media), limit) for item in items]) + "]"

    def size(self) -> int:
        """Characters of keys and texts kept."""
        return self._chars

    def _keep(self, key: Key, text: str) -> None:
        size = len(key[3]) + len(text)
        if size > self._large:
            return
        if self._chars + size > self._max:
            # All out at once: cheaper per entry than oldest-first (no scan past removed entries), and what
            # repeats comes back on its next call.
            self._texts.clear()
            self._chars = 0
        self._texts[key] = text  # without a lock: two threads keeping one key store the same text
        self._chars += size


def _fits(value: Any, limit: int) -> bool:
    """Whether ``bounded(value, limit)`` would cut nothing: no string longer than ``limit`` (labels included,
    to keep this simple: a false answer only costs the copy)."""
    if isinstance(value, str):
        return len(value) <= limit
    if isinstance(value, dict):
        value = value.values()
    elif not isinstance(value, (list, tuple)):
        return True
    return all(_fits(item, limit) for item in value)


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


_DECODER = json.JSONDecoder()
# What ``decode`` runs after skipping whitespace: (value, end), StopIteration if there is no value.
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
_WHITESPACE = " \t\n\r"  # what ``decode`` skips around the value


def json_object(value: Any) -> dict[str, Any]:
    """Tool-call arguments or a tool result as the conventions want them: a JSON object.

    A mapping is kept; a string holding a JSON object is parsed. Anything else (plain text, a list, a number,
    a string holding JSON that is no object) is wrapped as ``{"value": ...}``, parsed when it was JSON.
    """
    if value.__class__ is str:  # the usual case: the C scanner alone, no decoder frames
        try:
            parsed, end = _SCAN(value, 0)
        except (StopIteration, ValueError, RecursionError):  # no JSON value at 0: plain text, or whitespace first
            if not value or value[0] not in _WHITESPACE:
                return {"value": value}
        else:
            if end == len(value):
                return parsed if parsed.__class__ is dict else {"value": parsed}
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        try:
            value = _DECODER.decode(value)  # ``json.loads`` without its frame (a BOM fails either way)
        except (ValueError, RecursionError):  # plain text, or JSON nested too deep to parse
            return {"value": value}
        if isinstance(value, dict):
            return value
    return {"value": value}


_INT64 = (-(2**63), 2**63 - 1)


def structured(value: Any, depth: int = 0) -> Any:
    """A copy of JSON-like content that every log exporter can encode as an attribute (AnyValue): string keys
    that are not empty, UTF-8-encodable strings, int64 ints, finite floats; anything else as its ``str``."""
    if value is None or isinstance(value, (bool, float)):
        return str(value) if isinstance(value, float) and not math.isfinite(value) else value
    if isinstance(value, str):
        return value if value.isascii() or _encodable(value) else value.encode("utf-8", "replace").decode()
    if isinstance(value, int):
        return value if _INT64[0] <= value <= _INT64[1] else str(value)
    if depth > 64:
        return to_json(value)
    if isinstance(value, Mapping):
        return {(structured(str(k)) or "_"): structured(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [structured(v, depth + 1) for v in value]
    return structured(str(value))


def _encodable(text: str) -> bool:
    """False for strings with lone surrogates (from ``\\ud800`` JSON escapes), which exporters cannot encode."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# One encoder for every call: ``json.dumps`` with options builds a new one each time.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False)


def _c_encoder() -> Optional[Callable[[Any, int], Any]]:
    """The C encoder ``_ENCODER.encode`` builds per call, built once: calling it directly saves two Python
    frames. None where there is no C encoder or it does not answer as ``encode`` does (a private API: checked
    once).

    Without circular-reference markers (``check_circular=False``): they cost a dict insert and delete per
    container, and content is built from JSON-like request and response data. A cycle (only from a caller's
    own objects) fails either way: ``RecursionError`` here, where the checked encoder's ``ValueError`` led
    to ``_finite``'s.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return None
    probe = {"a": [1, 2.5, "é\"\n", None, True, ()], "b": {"c": "d"}, "e": "x"}
    try:
        encode = make(None, str, json.encoder.encode_basestring, None, ":", ",", False, False, False)
        same = "".join(encode(probe, 0)) == _ENCODER.encode(probe)
    except Exception:  # any surprise means: use the public API
        return None
    return encode if same else None


_C_ENCODER = _c_encoder()


def to_json(value: Any) -> str:
    """Compact, strict JSON for a span attribute; values JSON cannot encode become their ``str``."""
    # ``json_piece``'s body, inlined: a frame less for every content attribute.
    try:
        text = "".join(_C_ENCODER(value, 0)) if _C_ENCODER is not None else _ENCODER.encode(value)
    except ValueError:  # NaN/Infinity (e.g. parsed from tool arguments): collectors reject them
        text = json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"), default=str)
    if text.isascii() or _encodable(text):
        return text
    # Lone surrogates: escaping them keeps the JSON valid and encodable.
    return json.dumps(_finite(value), ensure_ascii=True, separators=(",", ":"), default=str)


def json_piece(value: Any) -> str:
    """``to_json``'s text of a value that goes into a larger JSON text, before the lone-surrogate check that
    the whole text gets (``written``)."""
    try:
        return "".join(_C_ENCODER(value, 0)) if _C_ENCODER is not None else _ENCODER.encode(value)
    except ValueError:  # as in ``to_json``
        return json.dumps(_finite(value), ensure_ascii=False, separators=(",", ":"), default=str)


# A string as ``to_json`` writes it inside a larger value (the C escaper where there is one).
json_string: Callable[[str], str] = json.encoder.encode_basestring


def written(text: str, limit: int) -> Optional[str]:
    """JSON written piece by piece (``json_piece``, ``json_string``) as ``bounded_json`` gives it of the same
    value, or None where the two could differ: a text over ``limit`` (strings in it may need cutting) or one
    holding lone surrogates (``to_json`` would escape every non-ASCII character of the whole)."""
    if 0 < limit < len(text):
        return None
    return text if text.isascii() or _encodable(text) else None


def _finite(value: Any) -> Any:
    """A copy with non-finite floats as strings (``"nan"``, ``"inf"``)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value
