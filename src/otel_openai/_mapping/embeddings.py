"""Embeddings (``POST /embeddings``): request and response mapping; vectors are never read."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from otel_openai import _semconv as sc
from otel_openai._mapping._common import Attributes, as_int, as_str, fields, put

_UNKNOWN = object()


def request_body(options: Any) -> Mapping[str, Any]:
    """The body as the user asked for it: without the ``encoding_format="base64"`` the SDK adds itself.

    The SDK (1.40-3.x) always installs a post-parser that remembers the user's ``encoding_format``
    (a closure cell in 1.x/2.x, a ``functools.partial`` keyword in 3.x); reading it back tells a user's
    ``base64`` from the SDK's. Without such a parser the body is what the caller sent.
    """
    body = options.json_data
    if not isinstance(body, Mapping):
        return {}
    asked = user_encoding_format(getattr(options, "post_parser", None))
    if asked is _UNKNOWN or asked == body.get("encoding_format"):
        return body
    trimmed = dict(body)
    if isinstance(asked, str):
        trimmed["encoding_format"] = asked
    else:
        trimmed.pop("encoding_format", None)
    return trimmed


def user_encoding_format(parser: Any) -> Any:
    """The ``encoding_format`` the SDK's post-parser was built with: a string, None when the user left
    it out, or ``_UNKNOWN`` when the parser is not the SDK's embeddings parser."""
    if isinstance(parser, functools.partial):
        if "encoding_format" not in parser.keywords:
            return _UNKNOWN
        value = parser.keywords["encoding_format"]
    else:
        code = getattr(parser, "__code__", None)
        cells = getattr(parser, "__closure__", None)
        if code is None or not cells or "encoding_format" not in code.co_freevars:
            return _UNKNOWN
        value = cells[code.co_freevars.index("encoding_format")].cell_contents
    # NotGiven / Omit sentinels are the only non-string values the SDK passes here.
    return value if isinstance(value, str) else None


def request_attributes(body: Mapping[str, Any]) -> Attributes:
    """Dimension count and the encoding format the user asked for."""
    attrs: Attributes = {}
    put(attrs, sc.EMBEDDINGS_DIMENSION_COUNT, as_int(body.get("dimensions")))
    encoding = as_str(body.get("encoding_format"))
    if encoding is not None:
        attrs[sc.REQUEST_ENCODING_FORMATS] = [encoding]
    return attrs


def response_attributes(response: Any) -> Attributes:
    """Response model and input tokens of a ``CreateEmbeddingResponse``; the vectors stay untouched."""
    attrs: Attributes = {}
    values = fields(response)
    put(attrs, sc.RESPONSE_MODEL, as_str(values.get("model")))
    usage = values.get("usage")
    if usage is not None:
        # Embeddings report input tokens only; asking for output tokens would read fields the model lacks.
        put(attrs, sc.USAGE_INPUT_TOKENS, as_int(fields(usage).get("prompt_tokens")))
    return attrs
