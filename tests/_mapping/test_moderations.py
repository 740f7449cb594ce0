"""Pure moderations mapping: output type, id/model, inputs and verdict parts."""

from __future__ import annotations

from openai.types import ModerationCreateResponse

from otel_openai import _semconv as sc
from otel_openai._mapping import moderations
from tests.conftest import fixture_json


def test_attributes() -> None:
    """Output type json; id and model from the response; no usage."""
    assert moderations.request_attributes({"input": "x"}) == {sc.OUTPUT_TYPE: "json"}
    response = ModerationCreateResponse.construct(**fixture_json("moderations/flagged.json"))
    assert moderations.response_attributes(response) == {
        sc.RESPONSE_ID: "modr_1", sc.RESPONSE_MODEL: "omni-moderation-2024-09-26"}


def test_inputs() -> None:
    """A string and a list of strings are one user message each."""
    assert moderations.input_messages({"input": ["a", "b"]}, False) == [
        {"role": "user", "parts": [{"type": "text", "content": "a"}, {"type": "text", "content": "b"}]}]
    assert moderations.input_messages({}, False) == []


def test_verdicts_use_api_category_names() -> None:
    """Flagged categories are named as the API names them (with slashes), sorted."""
    data = fixture_json("moderations/flagged.json")
    data["results"][0]["categories"]["self-harm/intent"] = True
    response = ModerationCreateResponse.model_validate(data)
    (message,) = moderations.output_messages(response, False)
    assert message["parts"] == [{"type": "generic", "generic_type": "moderation", "flagged": True,
                                 "categories": ["self-harm/intent", "violence"]}]
