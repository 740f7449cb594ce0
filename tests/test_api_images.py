"""End to end: image generation, edits and variations (plain and streamed) over a mock transport."""

from __future__ import annotations

import inspect
import json
from typing import Any

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from otel_openai import _semconv as sc
from tests.conftest import drain, fixture_json, json_response, make_client, resolve, serve

PNG_UPLOAD = b"\x89PNG-secret-upload-bytes"


def streams_images() -> bool:
    return "stream" in inspect.signature(openai.resources.images.Images.generate).parameters


needs_image_streams = pytest.mark.skipif(not streams_images(),
                                         reason="this SDK (openai 1.40) has no image streaming")


async def test_generate_whole_span(instrument: Any, async_client: bool) -> None:
    """images.generate is a `generate_content {model}` span with output type image and token usage."""
    t = instrument()
    client = make_client(serve("images/b64.json"), async_client=async_client)
    await resolve(client.images.generate(model="gpt-image-1", prompt="A red cat", n=2))
    span = t.only_span()
    assert span.name == "generate_content gpt-image-1"
    assert span.kind is SpanKind.CLIENT
    assert dict(span.attributes) == {
        sc.OPERATION_NAME: "generate_content",
        sc.PROVIDER_NAME: "openai",
        sc.REQUEST_MODEL: "gpt-image-1",
        sc.SERVER_ADDRESS: "openai.test",
        sc.SERVER_PORT: 8080,
        sc.OUTPUT_TYPE: "image",
        sc.REQUEST_CHOICE_COUNT: 2,
        sc.USAGE_INPUT_TOKENS: 10,
        sc.USAGE_OUTPUT_TOKENS: 1056,
        sc.USAGE_TEXT_INPUT_TOKENS: 10,  # usage.input_tokens_details.text_tokens (image_tokens is 0)
    }
    usage = sorted((p.attributes[sc.TOKEN_TYPE], p.sum) for p in t.metric_points(sc.METRIC_TOKEN_USAGE))
    assert usage == [("input", 10), ("output", 1056)]


async def test_base64_image_is_a_sized_blob(instrument: Any, async_client: bool) -> None:
    """With capture on, a base64 image is the withheld part carrying only its size; the data never lands."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(serve("images/b64.json"), async_client=async_client)
    await resolve(client.images.generate(model="gpt-image-1", prompt="A red cat"))
    attrs = t.only_span().attributes
    assert json.loads(attrs[sc.INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "A red cat"}]}]
    (message,) = json.loads(attrs[sc.OUTPUT_MESSAGES])
    (part,) = message["parts"]
    size = part.pop("byte_size")
    assert part == {"type": "generic", "generic_type": "blob", "modality": "image", "mime_type": "image/png",
                    "stripped_reason": "media_capture_off", "revised_prompt": "A red cat."}
    assert abs(size - 100) <= 2  # the decoded size, estimated from the base64 length
    b64 = fixture_json("images/b64.json")["data"][0]["b64_json"]
    assert b64 not in json.dumps(dict(attrs))


async def test_base64_image_with_media_capture(instrument: Any, async_client: bool) -> None:
    """With media capture on, the base64 image is kept, bounded by the content length limit."""
    t = instrument(capture_content="SPAN_ONLY", capture_media=True, max_content_length=16)
    client = make_client(serve("images/b64.json"), async_client=async_client)
    await resolve(client.images.generate(model="gpt-image-1", prompt="A red cat"))
    (message,) = json.loads(t.only_span().attributes[sc.OUTPUT_MESSAGES])
    assert message["parts"][0]["content"].startswith("iVBORw")
    assert message["parts"][0]["content"].endswith("[truncated]")


async def test_url_image_is_a_uri_part(instrument: Any, async_client: bool) -> None:
    """A returned image link becomes a uri part."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(serve("images/url.json"), async_client=async_client)
    await resolve(client.images.generate(model="dall-e-3", prompt="A red cat"))
    (message,) = json.loads(t.only_span().attributes[sc.OUTPUT_MESSAGES])
    assert message["parts"] == [{"type": "uri", "modality": "image", "uri": "https://images.test/cat.png"}]


# openai 3.x deprecates images.create_variation (DALL-E 2 only); the SDK's warning is not ours.
@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
@pytest.mark.parametrize("call", ["edit", "create_variation"])
async def test_multipart_upload_never_recorded(instrument: Any, async_client: bool, call: str) -> None:
    """Edits and variations read the model from the multipart form; the uploaded bytes never reach the span."""
    seen: list[Any] = []
    t = instrument(capture_content="SPAN_AND_EVENT")
    client = make_client(serve("images/url.json", seen), async_client=async_client)
    image = ("cat.png", PNG_UPLOAD, "image/png")
    if call == "edit":
        await resolve(client.images.edit(model="dall-e-2", image=image, prompt="Add a hat"))
    else:
        await resolve(client.images.create_variation(model="dall-e-2", image=image))
    assert PNG_UPLOAD in seen[0].read()
    span = t.only_span()
    assert span.name == "generate_content dall-e-2"
    assert span.attributes[sc.OUTPUT_TYPE] == "image"
    everything = json.dumps(dict(span.attributes)) + repr([r.body for r in t.log_records()])
    assert "secret-upload" not in everything


@needs_image_streams
@pytest.mark.parametrize(("call", "fixture"), [("generate", "images/stream_generation.sse"),
                                               ("edit", "images/stream_edit.sse")])
async def test_stream(instrument: Any, async_client: bool, call: str, fixture: str) -> None:
    """Streamed image generation and edits end the span at exhaustion with the completed event's usage."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(serve(fixture), async_client=async_client)
    if call == "generate":
        stream = await resolve(client.images.generate(model="gpt-image-1", prompt="cat", stream=True,
                                                      partial_images=1))
    else:
        stream = await resolve(client.images.edit(model="gpt-image-1", prompt="hat", stream=True,
                                                  image=("cat.png", PNG_UPLOAD, "image/png")))
    assert isinstance(stream, (openai.Stream, openai.AsyncStream))
    assert len(await drain(stream)) == 2
    attrs = t.only_span().attributes
    assert attrs[sc.REQUEST_STREAM] is True
    assert attrs[sc.USAGE_OUTPUT_TOKENS] == 272
    (message,) = json.loads(attrs[sc.OUTPUT_MESSAGES])
    assert [(p["type"], p["generic_type"]) for p in message["parts"]] == [("generic", "blob")]
    assert "content" not in message["parts"][0]


async def test_error(instrument: Any, async_client: bool) -> None:
    """A rejected prompt ends the span with error.type and status ERROR."""
    t = instrument()
    client = make_client(lambda r: json_response({"error": {"message": "rejected"}}, 400),
                         async_client=async_client)
    with pytest.raises(openai.BadRequestError):
        await resolve(client.images.generate(model="dall-e-3", prompt="x"))
    span = t.only_span()
    assert span.attributes[sc.ERROR_TYPE] == "openai.BadRequestError"
    assert span.status.status_code is StatusCode.ERROR
