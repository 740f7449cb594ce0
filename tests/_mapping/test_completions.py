"""Pure legacy-completions mapping: request parameters, response, prompts and the chunk accumulator."""

from __future__ import annotations

import json

from openai.types import Completion

from otel_openai import _semconv as sc
from otel_openai._mapping import completions
from tests.conftest import fixture_json, fixture_text


def chunks() -> list[Completion]:
    # The SDK builds stream chunks without validation (finish_reason is null mid-stream); so do we.
    return [Completion.construct(**json.loads(line[6:]))
            for line in fixture_text("completions/stream.sse").splitlines()
            if line.startswith("data: {")]


def test_request_attributes_have_no_api_type() -> None:
    """Chat's sampling parameters apply; openai.api.type is chat/Responses only."""
    attrs = completions.request_attributes({"max_tokens": 5, "n": 2, "stream": True, "temperature": 1})
    assert attrs == {sc.REQUEST_MAX_TOKENS: 5, sc.REQUEST_CHOICE_COUNT: 2, sc.REQUEST_STREAM: True,
                     sc.REQUEST_TEMPERATURE: 1.0}


def test_response_attributes() -> None:
    """Id, model, fingerprint, finish reasons and usage."""
    attrs = completions.response_attributes(Completion.model_validate(fixture_json("completions/plain.json")))
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ["stop"]
    assert attrs[sc.USAGE_INPUT_TOKENS] == 5 and attrs[sc.USAGE_OUTPUT_TOKENS] == 2


def test_prompts() -> None:
    """A prompt string, a list of prompts, and token arrays each become one user message; token ids are never
    a text part (they are a generic ``tokens`` part), and the suffix comes last as a generic ``suffix``."""
    assert completions.input_messages({"prompt": "a"}, False) == [
        {"role": "user", "parts": [{"type": "text", "content": "a"}]}]
    assert [p["content"] for p in completions.input_messages({"prompt": ["a", "b"]}, False)[0]["parts"]] == [
        "a", "b"]
    assert completions.input_messages({"prompt": [1, 2, 3]}, False)[0]["parts"] == [
        {"type": "generic", "generic_type": "tokens", "content": [1, 2, 3]}]
    assert completions.input_messages({"prompt": [[1, 2], [3]], "suffix": "end"}, False)[0]["parts"] == [
        {"type": "generic", "generic_type": "tokens", "content": [1, 2]},
        {"type": "generic", "generic_type": "tokens", "content": [3]},
        {"type": "generic", "generic_type": "suffix", "content": "end"}]
    assert completions.input_messages({}, False) == []


def test_accumulator_with_capture() -> None:
    """Chunks fold into id, finish reason, usage and the joined text."""
    acc = completions.CompletionsAccumulator(True)
    for chunk in chunks():
        acc.add(chunk)
    attrs = acc.attributes()
    assert attrs[sc.RESPONSE_ID] == "cmpl_1"
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ["stop"]
    assert attrs[sc.USAGE_OUTPUT_TOKENS] == 2
    assert acc.output_messages(False) == [
        {"role": "assistant", "parts": [{"type": "text", "content": " Paris."}]}]


def test_accumulator_without_capture_keeps_no_text() -> None:
    """Without capture no text is kept."""
    acc = completions.CompletionsAccumulator(False)
    for chunk in chunks():
        acc.add(chunk)
    assert acc.output_messages(False)[0]["parts"] == []
