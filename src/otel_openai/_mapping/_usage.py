"""Token usage attributes, shared by every API that reports usage."""

from __future__ import annotations

from typing import Any

from otel_openai import _semconv as sc
from otel_openai._mapping._common import Attributes, as_int, get, put


def usage_attributes(usage: Any, input_key: str, output_key: str) -> Attributes:
    """Input/output tokens plus cached and reasoning tokens, from a chat- or Responses-shaped usage."""
    attrs: Attributes = {}
    if usage is None:
        return attrs
    put(attrs, sc.USAGE_INPUT_TOKENS, as_int(get(usage, input_key)))
    put(attrs, sc.USAGE_OUTPUT_TOKENS, as_int(get(usage, output_key)))
    input_details = get(usage, input_key + "_details")
    if input_details is not None:
        put(attrs, sc.USAGE_CACHE_READ_INPUT_TOKENS, as_int(get(input_details, "cached_tokens")))
    output_details = get(usage, output_key + "_details")
    if output_details is not None:
        put(attrs, sc.USAGE_REASONING_OUTPUT_TOKENS, as_int(get(output_details, "reasoning_tokens")))
    return attrs
