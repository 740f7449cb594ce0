"""End to end: moderations over a mock transport."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from otel_openai import _semconv as sc
from tests.conftest import fixture_json, json_response, make_client, resolve

MODEL = "omni-moderation-latest"


async def test_moderation_whole_span(instrument: Any, async_client: bool) -> None:
    """A moderation is a `generate_content {model}` span with output type json, id and response model."""
    t = instrument()
    client = make_client(lambda r: json_response(fixture_json("moderations/flagged.json")),
                         async_client=async_client)
    result = await resolve(client.moderations.create(model=MODEL, input="some text"))
    span = t.only_span()
    assert span.name == f"generate_content {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert dict(span.attributes) == {
        sc.OPERATION_NAME: "generate_content",
        sc.PROVIDER_NAME: "openai",
        sc.REQUEST_MODEL: MODEL,
        sc.SERVER_ADDRESS: "openai.test",
        sc.SERVER_PORT: 8080,
        sc.OUTPUT_TYPE: "json",
        sc.RESPONSE_ID: "modr_1",
        sc.RESPONSE_MODEL: "omni-moderation-2024-09-26",
    }
    assert result.results[0].flagged is True
    assert t.metric_points(sc.METRIC_TOKEN_USAGE) == []


async def test_moderation_content(instrument: Any, async_client: bool) -> None:
    """With capture on: multimodal input parts and one verdict part naming the flagged categories."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(lambda r: json_response(fixture_json("moderations/flagged.json")),
                         async_client=async_client)
    await resolve(client.moderations.create(model=MODEL, input=[
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "https://images.test/x.png"}}]))
    attrs = t.only_span().attributes
    assert json.loads(attrs[sc.INPUT_MESSAGES]) == [{"role": "user", "parts": [
        {"type": "text", "content": "look"},
        {"type": "uri", "modality": "image", "uri": "https://images.test/x.png"}]}]
    assert json.loads(attrs[sc.OUTPUT_MESSAGES]) == [{"role": "assistant", "parts": [
        {"type": "generic", "generic_type": "moderation", "flagged": True, "categories": ["violence"]}]}]


async def test_without_model(instrument: Any, async_client: bool) -> None:
    """Without `model=` the span is named by the operation alone; the response model is still recorded."""
    t = instrument()
    client = make_client(lambda r: json_response(fixture_json("moderations/flagged.json")),
                         async_client=async_client)
    await resolve(client.moderations.create(input="text"))
    span = t.only_span()
    assert span.name == "generate_content"
    assert sc.REQUEST_MODEL not in span.attributes
    assert span.attributes[sc.RESPONSE_MODEL] == "omni-moderation-2024-09-26"


async def test_error(instrument: Any, async_client: bool) -> None:
    """A 401 ends the span with error.type and status ERROR."""
    t = instrument()
    client = make_client(lambda r: json_response({"error": {"message": "no key"}}, 401), async_client=async_client)
    with pytest.raises(openai.AuthenticationError):
        await resolve(client.moderations.create(input="text"))
    span = t.only_span()
    assert span.attributes[sc.ERROR_TYPE] == "openai.AuthenticationError"
    assert span.status.status_code is StatusCode.ERROR
