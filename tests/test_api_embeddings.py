"""End to end: embeddings over a real openai client and a mock transport."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from otel_openai import _semconv as sc
from tests.conftest import fixture_json, json_response, make_client, resolve

MODEL = "text-embedding-3-small"


def respond(name: str, seen: list[Any]) -> Any:
    def handler(request: Any) -> Any:
        seen.append(json.loads(request.content))
        return json_response(fixture_json(name))
    return handler


async def test_embeddings_whole_span(instrument: Any, async_client: bool) -> None:
    """An embeddings call is one CLIENT span named `embeddings {model}` with dimensions, format and tokens."""
    t = instrument()
    seen: list[Any] = []
    client = make_client(respond("embeddings/float.json", seen), async_client=async_client)
    result = await resolve(client.embeddings.create(model=MODEL, input=["a", "b"], dimensions=3,
                                                    encoding_format="float"))
    span = t.only_span()
    assert span.name == f"embeddings {MODEL}"
    assert span.kind is SpanKind.CLIENT
    assert dict(span.attributes) == {
        sc.OPERATION_NAME: "embeddings",
        sc.PROVIDER_NAME: "openai",
        sc.REQUEST_MODEL: MODEL,
        sc.SERVER_ADDRESS: "openai.test",
        sc.SERVER_PORT: 8080,
        sc.EMBEDDINGS_DIMENSION_COUNT: 3,
        sc.REQUEST_ENCODING_FORMATS: ("float",),
        sc.RESPONSE_MODEL: MODEL,
        sc.USAGE_INPUT_TOKENS: 7,
    }
    assert span.status.status_code is StatusCode.UNSET
    assert result.data[1].embedding == [0.4, 0.5, -0.6]


async def test_sdk_default_base64_not_recorded(instrument: Any, async_client: bool) -> None:
    """When the user names no format, the SDK's own base64 is sent but no encoding format is recorded."""
    t = instrument()
    seen: list[Any] = []

    def handler(request: Any) -> Any:
        # openai 1.40 without numpy asks for floats; later SDKs ask for base64 and decode it themselves.
        seen.append(json.loads(request.content))
        asked = seen[-1].get("encoding_format")
        return json_response(fixture_json(f"embeddings/{'base64' if asked == 'base64' else 'float'}.json"))

    client = make_client(handler, async_client=async_client)
    result = await resolve(client.embeddings.create(model=MODEL, input="hi"))
    attrs = t.only_span().attributes
    assert sc.REQUEST_ENCODING_FORMATS not in attrs
    assert sc.EMBEDDINGS_DIMENSION_COUNT not in attrs
    # The SDK still decodes its own base64 for the user: we changed nothing on the way.
    if seen[0].get("encoding_format") == "base64":
        assert result.data[0].embedding == [0.25, -0.5, 0.75]


async def test_user_base64_recorded(instrument: Any, async_client: bool) -> None:
    """A user who asks for base64 gets base64 recorded and the undecoded string back."""
    t = instrument()
    client = make_client(respond("embeddings/base64.json", []), async_client=async_client)
    result = await resolve(client.embeddings.create(model=MODEL, input="hi", encoding_format="base64"))
    assert t.only_span().attributes[sc.REQUEST_ENCODING_FORMATS] == ("base64",)
    assert isinstance(result.data[0].embedding, str)


async def test_input_tokens_metric_only(instrument: Any, async_client: bool) -> None:
    """Embeddings record one input token point and a duration point; never output tokens."""
    t = instrument()
    client = make_client(respond("embeddings/float.json", []), async_client=async_client)
    await resolve(client.embeddings.create(model=MODEL, input="hi", encoding_format="float"))
    usage = t.metric_points(sc.METRIC_TOKEN_USAGE)
    assert [(p.attributes[sc.TOKEN_TYPE], p.sum) for p in usage] == [("input", 7)]
    assert len(t.metric_points(sc.METRIC_OPERATION_DURATION)) == 1


async def test_content_capture_records_no_vectors(instrument: Any, async_client: bool) -> None:
    """Even with content capture on, neither the input nor the vectors reach the span."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(respond("embeddings/float.json", []), async_client=async_client)
    await resolve(client.embeddings.create(model=MODEL, input="secret text", encoding_format="float"))
    attrs = t.only_span().attributes
    assert sc.INPUT_MESSAGES not in attrs and sc.OUTPUT_MESSAGES not in attrs
    assert "0.4" not in json.dumps(dict(attrs))


async def test_error_span(instrument: Any, async_client: bool) -> None:
    """A 400 ends the span with error.type and status ERROR, and reaches the caller unchanged."""
    t = instrument()
    client = make_client(lambda r: json_response({"error": {"message": "bad input", "type": "invalid"}}, 400),
                         async_client=async_client)
    with pytest.raises(openai.BadRequestError):
        await resolve(client.embeddings.create(model=MODEL, input="hi"))
    span = t.only_span()
    assert span.attributes[sc.ERROR_TYPE] == "openai.BadRequestError"
    assert span.status.status_code is StatusCode.ERROR
    assert t.metric_points(sc.METRIC_TOKEN_USAGE) == []


async def test_compatible_server_without_usage(instrument: Any, async_client: bool) -> None:
    """A server that sends `usage: null` and no model still yields a span and the user's result."""
    t = instrument()
    client = make_client(respond("embeddings/compat_no_usage.json", []), async_client=async_client)
    result = await resolve(client.embeddings.create(model=MODEL, input="hi", encoding_format="float"))
    attrs = t.only_span().attributes
    assert sc.USAGE_INPUT_TOKENS not in attrs and sc.RESPONSE_MODEL not in attrs
    assert result.data[0].embedding == [0.1, 0.2]
