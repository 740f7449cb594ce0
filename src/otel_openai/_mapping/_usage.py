"""Token usage attributes, shared by every API that reports usage."""

from __future__ import annotations

from typing import Any

from otel_openai import _semconv as sc
from otel_openai._mapping._common import Attributes, as_int, fields, put


def usage_attributes(usage: Any, input_key: str, output_key: str) -> Attributes:
    """Input/output tokens plus cached and reasoning tokens, from a chat- or Responses-shaped usage."""
    attrs: Attributes = {}
    if usage is None:
        return attrs
    values = fields(usage)  # one read of the model's fields instead of one lookup per field
    put(attrs, sc.USAGE_INPUT_TOKENS, as_int(values.get(input_key)))
    put(attrs, sc.USAGE_OUTPUT_TOKENS, as_int(values.get(output_key)))
    input_details = values.get(input_key + "_details")
    if input_details is not None:
        put(attrs, sc.USAGE_CACHE_READ_INPUT_TOKENS, as_int(fields(input_details).get("cached_tokens")))
    output_details = values.get(output_key + "_details")
    if output_details is not None:
        put(attrs, sc.USAGE_REASONING_OUTPUT_TOKENS, as_int(fields(output_details).get("reasoning_tokens")))
    return attrs
