"""Pure images mapping: request attributes, usage, image parts and the stream accumulator."""

from __future__ import annotations

import json
from typing import Any

from openai._models import construct_type
from openai.types import ImagesResponse

from otel_openai import _semconv as sc
from otel_openai._mapping import images
from tests.conftest import fixture_json, fixture_text


def events(name: str) -> list[Any]:
    """Stream events as plain SDK models (the union type is absent from older SDKs; the mapping reads
    fields by name either way)."""
    from openai._models import BaseModel

    return [construct_type(type_=BaseModel, value=json.loads(line[6:]))
            for line in fixture_text(name).splitlines() if line.startswith("data: ")]


def test_request_attributes() -> None:
    """Output type is always image; n only when not 1; the stream flag when streaming."""
    assert images.request_attributes({"n": 1}) == {sc.OUTPUT_TYPE: "image"}
    assert images.request_attributes({"n": 3, "stream": True}) == {
        sc.OUTPUT_TYPE: "image", sc.REQUEST_CHOICE_COUNT: 3, sc.REQUEST_STREAM: True}


def test_usage_when_reported() -> None:
    """GPT image usage maps to input/output tokens and the non-zero text/image splits; DALL-E responses have
    none."""
    response = ImagesResponse.model_validate(fixture_json("images/b64.json"))
    assert images.response_attributes(response) == {sc.USAGE_INPUT_TOKENS: 10, sc.USAGE_OUTPUT_TOKENS: 1056,
                                                    sc.USAGE_TEXT_INPUT_TOKENS: 10}
    assert images.response_attributes(ImagesResponse.model_validate(fixture_json("images/url.json"))) == {}


def test_output_parts() -> None:
    """Links are uri parts; base64 is a blob with media capture on, else the withheld part with its size."""
    response = ImagesResponse.model_validate(fixture_json("images/b64.json"))
    (message,) = images.output_messages(response, True)
    assert message["parts"][0]["content"] == fixture_json("images/b64.json")["data"][0]["b64_json"]
    (message,) = images.output_messages(response, False)
    part = message["parts"][0]
    assert (part["type"], part["generic_type"], part["modality"]) == ("generic", "blob", "image")
    assert "content" not in part and part["byte_size"] > 0


def test_prompt_input() -> None:
    """The prompt is the user message; a variation without prompt has none."""
    assert images.input_messages({"prompt": "cat"}, False) == [
        {"role": "user", "parts": [{"type": "text", "content": "cat"}]}]
    assert images.input_messages({}, False) == []


def test_accumulator_ignores_partial_images() -> None:
    """Only the completed event counts: its usage, and one image part."""
    acc = images.ImagesAccumulator(True)
    for event in events("images/stream_generation.sse"):
        acc.add(event)
    assert acc.attributes() == {sc.USAGE_INPUT_TOKENS: 10, sc.USAGE_OUTPUT_TOKENS: 272,
                                sc.USAGE_TEXT_INPUT_TOKENS: 10}
    assert len(acc.output_messages(False)[0]["parts"]) == 1
    empty = images.ImagesAccumulator(False)
    assert empty.attributes() == {} and empty.output_messages(False) == []
