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

# Every detail field is a subset of its side's total. Cache and reasoning counts are copied as reported, zero
# included (as cached tokens always were); modality splits only when non-zero: chat reports
# ``audio_tokens: 0`` on every call, and a zero split says no more than its absence does (the total is
# always there). This runs for every call that reports usage, so the reads are unrolled below: no table walk,
# no helper call per field.
_INPUT_MODALITIES = (sc.USAGE_TEXT_INPUT_TOKENS, sc.USAGE_IMAGE_INPUT_TOKENS, sc.USAGE_AUDIO_INPUT_TOKENS)
_OUTPUT_MODALITIES = (sc.USAGE_TEXT_OUTPUT_TOKENS, sc.USAGE_IMAGE_OUTPUT_TOKENS, sc.USAGE_AUDIO_OUTPUT_TOKENS)
# Realtime splits its cached input tokens by modality too (``input_token_details.cached_tokens_details``).
_CACHED_MODALITIES = (sc.USAGE_TEXT_CACHE_READ_INPUT_TOKENS, sc.USAGE_IMAGE_CACHE_READ_INPUT_TOKENS,
                      sc.USAGE_AUDIO_CACHE_READ_INPUT_TOKENS)
# total key -> ``{key}_details``, the detail key tried first (filled as keys are seen: no string built per call).
_DETAIL_KEY: dict[str, str] = {}


def usage_attributes(usage: Any, input_key: str, output_key: str, input_details: Optional[str] = None,
                     output_details: Optional[str] = None, into: Optional[Attributes] = None) -> Attributes:
    """Totals plus every split the usage reports (set into ``into`` when given, else into a new dict).
    Detail objects are read from ``input_details`` / ``output_details`` when given, else from
    ``{key}_details`` or, failing that, ``{key without s}_details``."""
    attrs: Attributes = {} if into is None else into
    if usage is None:
        return attrs
    values = fields(usage)  # one read of the model's fields instead of one lookup per field
    count = values.get(input_key)
    if count.__class__ is int and _INT64_MIN <= count <= _INT64_MAX:
        attrs[sc.USAGE_INPUT_TOKENS] = count
    elif count is not None:
        _put_total(attrs, sc.USAGE_INPUT_TOKENS, count)
    count = values.get(output_key)
    if count.__class__ is int and _INT64_MIN <= count <= _INT64_MAX:
        attrs[sc.USAGE_OUTPUT_TOKENS] = count
    elif count is not None:
        _put_total(attrs, sc.USAGE_OUTPUT_TOKENS, count)
    # The details objects: the helpers' calls are inlined (a few hundred instructions each, per call).
    found = values.get(input_details or _DETAIL_KEY.get(input_key) or _detail_name(input_key))
    if found is None and input_details is None:
        found = _other_details(values, input_key)
    if found is not None:
        details = found if found.__class__ is dict else fields(found)
        get = details.get
        count = get("cached_tokens")
        if count.__class__ is int and 0 <= count <= _INT64_MAX:
            attrs[sc.USAGE_CACHE_READ_INPUT_TOKENS] = count
        # Chat (a model field in recent SDKs, an extra field before) and Responses.
        count = get("cache_write_tokens")
        if count.__class__ is int and 0 <= count <= _INT64_MAX:
            attrs[sc.USAGE_CACHE_WRITE_INPUT_TOKENS] = count
        if any(details.values()):  # in C: all zero or unset (the usual case) leaves no split to copy
            _put_splits(attrs, get, _INPUT_MODALITIES)
        cached = get("cached_tokens_details")
        if cached is not None:
            _put_splits(attrs, fields(cached).get, _CACHED_MODALITIES)
    found = values.get(output_details or _DETAIL_KEY.get(output_key) or _detail_name(output_key))
    if found is None and output_details is None:
        found = _other_details(values, output_key)
    if found is not None:
        details = found if found.__class__ is dict else fields(found)
        get = details.get
        count = get("reasoning_tokens")
        if count.__class__ is int and 0 <= count <= _INT64_MAX:
            attrs[sc.USAGE_REASONING_OUTPUT_TOKENS] = count
        if any(details.values()):
            _put_splits(attrs, get, _OUTPUT_MODALITIES)
    return attrs


def _detail_name(total_key: str) -> str:
    name = _DETAIL_KEY[total_key] = total_key + "_details"
    return name


def _other_details(values: Mapping[str, Any], total_key: str) -> Any:
    """``{key without s}_details``, the spelling of transcriptions and Realtime."""
    return values.get(total_key[:-1] + "_details") if total_key.endswith("s") else None


def _put_splits(attrs: Attributes, get: Any, keys: tuple[str, str, str]) -> None:
    """The text, image and audio splits that are non-zero (``__class__ is int`` also rejects bools, and
    counts past int64 would fail the export)."""
    text, image, audio = get("text_tokens"), get("image_tokens"), get("audio_tokens")
    if text.__class__ is int and 1 <= text <= _INT64_MAX:
        attrs[keys[0]] = text
    if image.__class__ is int and 1 <= image <= _INT64_MAX:
        attrs[keys[1]] = image
    if audio.__class__ is int and 1 <= audio <= _INT64_MAX:
        attrs[keys[2]] = audio


def _put_total(attrs: Attributes, key: str, value: Any) -> None:
    if value.__class__ is int:  # the usual case, without as_int's call
        if _INT64_MIN <= value <= _INT64_MAX:
            attrs[key] = value
        return
    count = as_int(value)
    if count is not None:
        attrs[key] = count
