"""Token usage attributes, shared by every API that reports usage (HTTP and Realtime alike).

OpenAI names its usage objects differently per API, but the shape is one: an input and an output total, each
with an optional detail object that splits it (cached, cache-written and reasoning tokens; text, image and
audio tokens; cached tokens again split by modality). Chat and legacy completions say
``prompt_tokens``/``prompt_tokens_details``, Responses and images ``input_tokens``/``input_tokens_details``,
transcriptions and Realtime ``input_tokens``/``input_token_details`` (no ``s``). ``usage_attributes`` takes
the total keys and finds either detail spelling, or takes the detail keys explicitly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from otel_openai import _semconv as sc
from otel_openai._mapping._common import Attributes, as_int, fields

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

# Detail field -> (attribute, least count copied); every field is a subset of its side's total. Cache and
# reasoning counts are copied as reported, zero included (as cached tokens always were). Modality splits
# are copied only when non-zero: chat reports ``audio_tokens: 0`` on every call, and a zero split says no
# more than its absence does (the total is always there). A details object is walked once, looking each of
# its few fields up here, rather than looking up every field this table knows in it.
_INPUT_DETAILS = {
    "cached_tokens": (sc.USAGE_CACHE_READ_INPUT_TOKENS, 0),
    # Chat (a model field in recent SDKs, an extra field before) and Responses.
    "cache_write_tokens": (sc.USAGE_CACHE_WRITE_INPUT_TOKENS, 0),
    "text_tokens": (sc.USAGE_TEXT_INPUT_TOKENS, 1),
    "image_tokens": (sc.USAGE_IMAGE_INPUT_TOKENS, 1),
    "audio_tokens": (sc.USAGE_AUDIO_INPUT_TOKENS, 1),
}
_OUTPUT_DETAILS = {
    "reasoning_tokens": (sc.USAGE_REASONING_OUTPUT_TOKENS, 0),
    "text_tokens": (sc.USAGE_TEXT_OUTPUT_TOKENS, 1),
    "image_tokens": (sc.USAGE_IMAGE_OUTPUT_TOKENS, 1),
    "audio_tokens": (sc.USAGE_AUDIO_OUTPUT_TOKENS, 1),
}
# Realtime splits its cached input tokens by modality too (``input_token_details.cached_tokens_details``).
_CACHED_DETAILS = {
    "text_tokens": (sc.USAGE_TEXT_CACHE_READ_INPUT_TOKENS, 1),
    "image_tokens": (sc.USAGE_IMAGE_CACHE_READ_INPUT_TOKENS, 1),
    "audio_tokens": (sc.USAGE_AUDIO_CACHE_READ_INPUT_TOKENS, 1),
}


def usage_attributes(usage: Any, input_key: str, output_key: str, input_details: Optional[str] = None,
                     output_details: Optional[str] = None) -> Attributes:
    """Totals plus every split the usage reports. Detail objects are read from ``input_details`` /
    ``output_details`` when given, else from ``{key}_details`` or, failing that, ``{key without s}_details``."""
    attrs: Attributes = {}
    if usage is None:
        return attrs
    values = fields(usage)  # one read of the model's fields instead of one lookup per field
    _put_total(attrs, sc.USAGE_INPUT_TOKENS, values.get(input_key))
    _put_total(attrs, sc.USAGE_OUTPUT_TOKENS, values.get(output_key))
    details = _details(values, input_key, input_details)
    if details is not None:
        _copy_details(attrs, details, _INPUT_DETAILS)
        cached = details.get("cached_tokens_details")
        if cached is not None:
            _copy_details(attrs, fields(cached), _CACHED_DETAILS)
    details = _details(values, output_key, output_details)
    if details is not None:
        _copy_details(attrs, details, _OUTPUT_DETAILS)
    return attrs


def _details(values: Mapping[str, Any], total_key: str, key: Optional[str]) -> Optional[Mapping[str, Any]]:
    if key is not None:
        found = values.get(key)
    else:
        found = values.get(total_key + "_details")
        if found is None and total_key.endswith("s"):
            found = values.get(total_key[:-1] + "_details")
    return fields(found) if found is not None else None


def _copy_details(attrs: Attributes, details: Mapping[str, Any], table: dict[str, tuple[str, int]]) -> None:
    """Copy each count of ``details`` that ``table`` knows and that is at least its least. The type test is
    inlined (this runs for every call that reports usage): ``type(x) is int`` also rejects bools, and counts
    past int64 would fail the export."""
    for field, count in details.items():
        if type(count) is int:
            found = table.get(field)
            if found is not None and found[1] <= count <= _INT64_MAX:
                attrs[found[0]] = count


def _put_total(attrs: Attributes, key: str, value: Any) -> None:
    if value.__class__ is int:  # the usual case, without as_int's call
        if _INT64_MIN <= value <= _INT64_MAX:
            attrs[key] = value
        return
    count = as_int(value)
    if count is not None:
        attrs[key] = count
