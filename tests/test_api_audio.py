"""End to end: speech, transcriptions (plain and streamed) and translations over a mock transport."""

from __future__ import annotations

import inspect
import json
from typing import Any

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from otel_openai import _semconv as sc
from tests.conftest import drain, http, json_response, make_client, resolve, serve

AUDIO_UPLOAD = b"RIFF-secret-audio-bytes"
SPEECH_BYTES = b"ID3-generated-speech-bytes"


def everything(t: Any) -> str:
    """Every span attribute and event body, as text, to search for leaked payloads."""
    return json.dumps(dict(t.only_span().attributes)) + repr([r.body for r in t.log_records()])


async def test_speech(instrument: Any, async_client: bool) -> None:
    """audio.speech is a `generate_content {model}` span with output type speech; the audio is never read."""
    t = instrument(capture_content="SPAN_AND_EVENT")
    client = make_client(lambda r: http.Response(200, content=SPEECH_BYTES, headers={"content-type": "audio/mpeg"}),
                         async_client=async_client)
    result = await resolve(client.audio.speech.create(model="tts-1", voice="alloy", input="Hello world"))
    span = t.only_span()
    assert span.name == "generate_content tts-1"
    assert span.kind is SpanKind.CLIENT
    assert span.attributes[sc.OUTPUT_TYPE] == "speech"
    assert json.loads(span.attributes[sc.INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Hello world"}]}]
    assert sc.OUTPUT_MESSAGES not in span.attributes
    assert "generated-speech" not in everything(t)
    assert result.content == SPEECH_BYTES
    assert t.metric_points(sc.METRIC_TOKEN_USAGE) == []


async def test_transcription_whole_span(instrument: Any, async_client: bool) -> None:
    """A transcription reads the model from the multipart form and records output type text and usage."""
    seen: list[Any] = []
    t = instrument()
    client = make_client(serve("audio/transcription.json", seen), async_client=async_client)
    result = await resolve(client.audio.transcriptions.create(
        model="gpt-4o-transcribe", file=("a.wav", AUDIO_UPLOAD, "audio/wav"), temperature=0.0))
    assert AUDIO_UPLOAD in seen[0].read()
    span = t.only_span()
    assert span.name == "generate_content gpt-4o-transcribe"
    assert dict(span.attributes) == {
        sc.OPERATION_NAME: "generate_content",
        sc.PROVIDER_NAME: "openai",
        sc.REQUEST_MODEL: "gpt-4o-transcribe",
        sc.SERVER_ADDRESS: "openai.test",
        sc.SERVER_PORT: 8080,
        sc.OUTPUT_TYPE: "text",
        sc.REQUEST_TEMPERATURE: 0.0,
        sc.USAGE_INPUT_TOKENS: 14,
        sc.USAGE_OUTPUT_TOKENS: 3,
        sc.USAGE_AUDIO_INPUT_TOKENS: 14,  # usage.input_token_details.audio_tokens
    }
    assert result.text == "Hello world."


async def test_transcription_content(instrument: Any, async_client: bool) -> None:
    """With capture on the transcript is the output message; the uploaded audio never appears."""
    t = instrument(capture_content="SPAN_AND_EVENT")
    client = make_client(serve("audio/transcription.json"), async_client=async_client)
    await resolve(client.audio.transcriptions.create(model="whisper-1", prompt="Greetings.",
                                                     file=("a.wav", AUDIO_UPLOAD, "audio/wav")))
    attrs = t.only_span().attributes
    assert json.loads(attrs[sc.INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Greetings."}]}]
    assert json.loads(attrs[sc.OUTPUT_MESSAGES]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Hello world."}]}]
    assert "secret-audio" not in everything(t)


async def test_transcription_text_format(instrument: Any, async_client: bool) -> None:
    """response_format="text" returns a plain string: traced, and the string reaches the caller."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(lambda r: http.Response(200, text="Hello world.", headers={"content-type": "text/plain"}),
                         async_client=async_client)
    result = await resolve(client.audio.transcriptions.create(model="whisper-1", response_format="text",
                                                              file=("a.wav", AUDIO_UPLOAD, "audio/wav")))
    assert "Hello world." in str(result)
    attrs = t.only_span().attributes
    assert sc.USAGE_INPUT_TOKENS not in attrs


@pytest.mark.skipif("stream" not in inspect.signature(openai.resources.audio.Transcriptions.create).parameters,
                    reason="this SDK (openai 1.40) has no streamed transcription")
async def test_transcription_stream(instrument: Any, async_client: bool) -> None:
    """A streamed transcription stays an openai.Stream and ends with the done event's text and usage."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(serve("audio/stream_transcription.sse"), async_client=async_client)
    stream = await resolve(client.audio.transcriptions.create(model="gpt-4o-transcribe", stream=True,
                                                              file=("a.wav", AUDIO_UPLOAD, "audio/wav")))
    assert isinstance(stream, (openai.Stream, openai.AsyncStream))
    assert len(await drain(stream)) == 3
    attrs = t.only_span().attributes
    assert attrs[sc.REQUEST_STREAM] is True
    assert attrs[sc.USAGE_OUTPUT_TOKENS] == 3
    assert json.loads(attrs[sc.OUTPUT_MESSAGES])[0]["parts"] == [{"type": "text", "content": "Hello world."}]
    assert len(t.metric_points(sc.METRIC_TIME_TO_FIRST_CHUNK)) == 1


# openai 3.x deprecates audio.translations; the SDK's own warning is not ours.
@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
async def test_translation(instrument: Any, async_client: bool) -> None:
    """A translation is traced like a transcription, without usage when none is reported."""
    t = instrument()
    client = make_client(serve("audio/translation.json"), async_client=async_client)
    await resolve(client.audio.translations.create(model="whisper-1", file=("a.wav", AUDIO_UPLOAD, "audio/wav")))
    span = t.only_span()
    assert span.name == "generate_content whisper-1"
    assert span.attributes[sc.OUTPUT_TYPE] == "text"
    assert sc.USAGE_INPUT_TOKENS not in span.attributes


async def test_error(instrument: Any, async_client: bool) -> None:
    """A failed transcription ends the span with error.type and status ERROR."""
    t = instrument()
    client = make_client(lambda r: json_response({"error": {"message": "bad audio"}}, 400),
                         async_client=async_client)
    with pytest.raises(openai.BadRequestError):
        await resolve(client.audio.transcriptions.create(model="whisper-1",
                                                         file=("a.wav", AUDIO_UPLOAD, "audio/wav")))
    span = t.only_span()
    assert span.attributes[sc.ERROR_TYPE] == "openai.BadRequestError"
    assert span.status.status_code is StatusCode.ERROR


async def test_speech_streamed_bytes(instrument: Any, async_client: bool) -> None:
    """Streaming speech (with_streaming_response) ends the span when the response closes; bytes unread by us."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(lambda r: http.Response(200, content=SPEECH_BYTES, headers={"content-type": "audio/mpeg"}),
                         async_client=async_client)
    create = client.audio.speech.with_streaming_response.create
    if async_client:
        async with create(model="gpt-4o-mini-tts", voice="alloy", input="Hi") as response:
            received = b"".join([c async for c in response.iter_bytes()])
            assert t.finished_spans() == []
    else:
        with create(model="gpt-4o-mini-tts", voice="alloy", input="Hi") as response:
            received = b"".join(response.iter_bytes())
            assert t.finished_spans() == []
    assert received == SPEECH_BYTES
    span = t.only_span()
    assert span.attributes[sc.OUTPUT_TYPE] == "speech"
    assert "generated-speech" not in everything(t)


@pytest.mark.skipif("stream" not in inspect.signature(openai.resources.audio.Transcriptions.create).parameters,
                    reason="this SDK (openai 1.40) has no streamed transcription")
async def test_transcription_stream_closed_early(instrument: Any, async_client: bool) -> None:
    """Closing a transcription stream after the first delta ends the span once, with the partial text."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(serve("audio/stream_transcription.sse"), async_client=async_client)
    stream = await resolve(client.audio.transcriptions.create(model="gpt-4o-transcribe", stream=True,
                                                              file=("a.wav", AUDIO_UPLOAD, "audio/wav")))
    if async_client:
        await stream.__anext__()
        await stream.close()
    else:
        next(stream)
        stream.close()
    attrs = t.only_span().attributes
    assert sc.USAGE_INPUT_TOKENS not in attrs
    assert json.loads(attrs[sc.OUTPUT_MESSAGES])[0]["parts"] == [{"type": "text", "content": "Hello "}]


async def test_speech_instructions_and_error(instrument: Any, async_client: bool) -> None:
    """Speech instructions are system instructions; a failed speech call records error.type."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(lambda r: json_response({"error": {"message": "bad voice"}}, 400),
                         async_client=async_client)
    # openai 1.40 predates `instructions=`; its users send it through extra_body, which is recorded too.
    knows = "instructions" in inspect.signature(openai.resources.audio.Speech.create).parameters
    extra = {"instructions": "Speak softly."} if knows else {"extra_body": {"instructions": "Speak softly."}}
    with pytest.raises(openai.BadRequestError):
        await resolve(client.audio.speech.create(model="gpt-4o-mini-tts", voice="alloy", input="Hi", **extra))
    attrs = t.only_span().attributes
    assert json.loads(attrs[sc.SYSTEM_INSTRUCTIONS]) == [{"type": "text", "content": "Speak softly."}]
    assert attrs[sc.ERROR_TYPE] == "openai.BadRequestError"


# openai 3.x deprecates audio.translations; the SDK's own warning is not ours.
@pytest.mark.filterwarnings("ignore:deprecated:DeprecationWarning")
async def test_translation_content(instrument: Any, async_client: bool) -> None:
    """With capture on, a translation's text is the output message; the audio is not recorded."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(serve("audio/translation.json"), async_client=async_client)
    await resolve(client.audio.translations.create(model="whisper-1", file=("a.wav", AUDIO_UPLOAD, "audio/wav")))
    attrs = t.only_span().attributes
    assert json.loads(attrs[sc.OUTPUT_MESSAGES])[0]["parts"] == [{"type": "text", "content": "Hello world."}]
    assert "secret-audio" not in everything(t)
