"""Token usage: totals, cache and reasoning counts, and modality splits under every spelling OpenAI uses."""

from __future__ import annotations

from openai.types import CompletionUsage

from otel_openai import _semconv as sc
from otel_openai._mapping._usage import usage_attributes


def test_chat_usage_with_every_split() -> None:
    """prompt/completion details give cache reads and writes, reasoning, and the non-zero modality splits
    (fields unknown to older SDK models arrive as extra fields and are read the same way)."""
    usage = CompletionUsage.model_validate({
        "prompt_tokens": 30, "completion_tokens": 9, "total_tokens": 39,
        "prompt_tokens_details": {"cached_tokens": 10, "cache_write_tokens": 6, "audio_tokens": 4,
                                  "text_tokens": 26, "image_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 2, "audio_tokens": 5, "text_tokens": 4,
                                      "accepted_prediction_tokens": 1}})
    assert usage_attributes(usage, "prompt_tokens", "completion_tokens") == {
        sc.USAGE_INPUT_TOKENS: 30, sc.USAGE_OUTPUT_TOKENS: 9,
        sc.USAGE_CACHE_READ_INPUT_TOKENS: 10, sc.USAGE_CACHE_WRITE_INPUT_TOKENS: 6,
        sc.USAGE_TEXT_INPUT_TOKENS: 26, sc.USAGE_AUDIO_INPUT_TOKENS: 4,
        sc.USAGE_REASONING_OUTPUT_TOKENS: 2, sc.USAGE_TEXT_OUTPUT_TOKENS: 4, sc.USAGE_AUDIO_OUTPUT_TOKENS: 5,
    }


def test_zero_cache_counts_kept_zero_modalities_dropped() -> None:
    """A zero cache or reasoning count is reported; a zero modality split says nothing and is left out."""
    usage = {"prompt_tokens": 3, "completion_tokens": 1,
             "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
             "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0}}
    assert usage_attributes(usage, "prompt_tokens", "completion_tokens") == {
        sc.USAGE_INPUT_TOKENS: 3, sc.USAGE_OUTPUT_TOKENS: 1, sc.USAGE_CACHE_READ_INPUT_TOKENS: 0,
        sc.USAGE_REASONING_OUTPUT_TOKENS: 0}


def test_singular_detail_key_is_found() -> None:
    """Transcriptions and Realtime say input_token_details (no s): it is found without being named."""
    usage = {"input_tokens": 14, "output_tokens": 3, "input_token_details": {"audio_tokens": 12, "text_tokens": 2}}
    assert usage_attributes(usage, "input_tokens", "output_tokens") == {
        sc.USAGE_INPUT_TOKENS: 14, sc.USAGE_OUTPUT_TOKENS: 3, sc.USAGE_AUDIO_INPUT_TOKENS: 12,
        sc.USAGE_TEXT_INPUT_TOKENS: 2}


def test_realtime_usage_with_explicit_detail_keys() -> None:
    """Realtime usage (named detail keys) also splits its cached tokens by modality."""
    usage = {"input_tokens": 100, "output_tokens": 40,
             "input_token_details": {"cached_tokens": 64, "text_tokens": 36, "audio_tokens": 64,
                                     "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 64}},
             "output_token_details": {"text_tokens": 10, "audio_tokens": 30}}
    assert usage_attributes(usage, "input_tokens", "output_tokens", "input_token_details",
                            "output_token_details") == {
        sc.USAGE_INPUT_TOKENS: 100, sc.USAGE_OUTPUT_TOKENS: 40, sc.USAGE_CACHE_READ_INPUT_TOKENS: 64,
        sc.USAGE_TEXT_INPUT_TOKENS: 36, sc.USAGE_AUDIO_INPUT_TOKENS: 64,
        sc.USAGE_AUDIO_CACHE_READ_INPUT_TOKENS: 64,
        sc.USAGE_TEXT_OUTPUT_TOKENS: 10, sc.USAGE_AUDIO_OUTPUT_TOKENS: 30}


def test_odd_usage_never_raises() -> None:
    """No usage, non-numbers, booleans and null details give only what is certain."""
    assert usage_attributes(None, "input_tokens", "output_tokens") == {}
    assert usage_attributes({"input_tokens": True, "output_tokens": "7", "input_tokens_details": None,
                             "output_tokens_details": {"reasoning_tokens": 1.5}},
                            "input_tokens", "output_tokens") == {}
