"""Realtime sessions end to end: real GA and beta connections to the loopback server, sync and async."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fake_realtime_server import ANSWER, AUDIO_CHUNKS, GREETING, TRANSCRIPT
from opentelemetry.trace import SpanKind, StatusCode

from otel_openai import _semconv as sc
from tests._websocket.conftest import (
    WEATHER_TOOL,
    call,
    is_ga,
    opened,
    read_until,
    recv_until,
    session_config,
    user_text,
)
from tests.conftest import Telemetry

SILENCE = "AAAAAAAA"  # base64 of zero bytes: the loopback server's VAD hears the speaker stop
SPEECH = AUDIO_CHUNKS[0]


@pytest.fixture
def content(instrument: Any) -> Telemetry:
    return instrument(capture_content="SPAN_ONLY")  # type: ignore[no-any-return]


def realtime_spans(telemetry: Telemetry) -> list[Any]:
    return [s for s in telemetry.finished_spans() if s.name.startswith("realtime_inference")]


def messages(span: Any, key: str) -> Any:
    return json.loads(span.attributes[key])


async def text_turn(realtime: Any, text: str = "Hi", **create: Any) -> list[Any]:
    """Connect, configure a text session, add a user message, ask for a response, read it with a ``for`` loop."""
    async with opened(realtime.connect(model="gpt-realtime")) as connection:
        await call(connection.session.update(session=session_config(
            realtime, modalities=["text"], instructions="Be brief.")))
        await call(connection.conversation.item.create(item=user_text(text)))
        await call(connection.response.create(**create))
        return await read_until(connection, "response.done")


async def test_text_turn_span(content: Telemetry, realtime: Any) -> None:
    """A text turn is one realtime_inference CLIENT span with session, response, usage splits and content."""
    events = await text_turn(realtime)
    (span,) = realtime_spans(content)
    done = events[-1].response
    assert span.name == "realtime_inference gpt-realtime"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    expected = {
        sc.OPERATION_NAME: "realtime_inference", sc.PROVIDER_NAME: "openai", sc.REQUEST_MODEL: "gpt-realtime",
        sc.SERVER_ADDRESS: "127.0.0.1", sc.SERVER_PORT: span.attributes[sc.SERVER_PORT],
        sc.REALTIME_SESSION_ID: events[0].session.id, sc.RESPONSE_MODEL: "gpt-realtime",
        sc.RESPONSE_ID: done.id, sc.CONVERSATION_ID: "conv_1", sc.OUTPUT_TYPE: "text",
        sc.RESPONSE_FINISH_REASONS: ("stop",),
        sc.USAGE_INPUT_TOKENS: 20, sc.USAGE_OUTPUT_TOKENS: 12, sc.USAGE_CACHE_READ_INPUT_TOKENS: 8,
        # Zero modality splits are left out, as for every API (the totals say as much).
        sc.USAGE_TEXT_INPUT_TOKENS: 20, sc.USAGE_TEXT_CACHE_READ_INPUT_TOKENS: 8, sc.USAGE_TEXT_OUTPUT_TOKENS: 12,
        sc.INPUT_MESSAGES: json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Hi"}]}],
                                      separators=(",", ":")),
        sc.SYSTEM_INSTRUCTIONS: '[{"type":"text","content":"Be brief."}]',
        sc.OUTPUT_MESSAGES: json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": GREETING}]}],
                                       separators=(",", ":")),
    }
    if not is_ga(realtime):
        expected[sc.REQUEST_TEMPERATURE] = 0.8  # the beta session reports one
    assert dict(span.attributes) == expected


async def test_text_turn_metrics_and_session_events(instrument: Any, realtime: Any) -> None:
    """The generation records duration and token points; the session's start and end are log records with
    its id, not a span; no content without capture."""
    telemetry = instrument()
    events = await text_turn(realtime)
    (span,) = realtime_spans(telemetry)
    assert not {sc.INPUT_MESSAGES, sc.OUTPUT_MESSAGES, sc.SYSTEM_INSTRUCTIONS} & set(span.attributes)
    (duration,) = telemetry.metric_points(sc.METRIC_OPERATION_DURATION)
    assert duration.attributes[sc.OPERATION_NAME] == "realtime_inference"
    assert sc.REALTIME_SESSION_ID not in duration.attributes
    tokens = {p.attributes[sc.TOKEN_TYPE]: p.sum for p in telemetry.metric_points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": 20, "output": 12}
    records = telemetry.log_records()
    assert [r.event_name for r in records] == [sc.EVENT_REALTIME_SESSION_STARTED, sc.EVENT_REALTIME_SESSION_ENDED]
    for record in records:
        assert record.attributes[sc.REALTIME_SESSION_ID] == events[0].session.id
        assert record.attributes[sc.REQUEST_MODEL] == "gpt-realtime"
        assert record.attributes[sc.PROVIDER_NAME] == "openai"
        assert sc.ERROR_TYPE not in record.attributes


async def test_generations_share_the_connect_context(content: Telemetry, realtime: Any) -> None:
    """Every generation of one connection is a child of the span current at connect, even when events are
    read outside it: one call, one trace."""
    tracer = content.tracer_provider.get_tracer("app")
    with tracer.start_as_current_span("phone call") as call_span:
        manager = realtime.connect(model="gpt-realtime")
        connection = await call(manager.enter())
    try:
        for text in ("Hi", "Hi again"):
            await call(connection.conversation.item.create(item=user_text(text)))
            await call(connection.response.create(response={"metadata": {"turn": text}}))
            await read_until(connection, "response.done")
    finally:
        await call(connection.close())
    first, second = realtime_spans(content)
    for span in (first, second):
        assert span.parent.span_id == call_span.get_span_context().span_id
        assert span.context.trace_id == call_span.get_span_context().trace_id
    assert messages(second, sc.INPUT_MESSAGES) == [{"role": "user", "parts": [{"type": "text",
                                                                              "content": "Hi again"}]}]
    records = content.log_records()
    assert all(r.trace_id == call_span.get_span_context().trace_id for r in records)


async def test_tool_call_turn(content: Telemetry, realtime: Any) -> None:
    """A function call ends its generation with tool_call; the tool's output is the next generation's input."""
    async with opened(realtime.connect(model="gpt-realtime")) as connection:
        await call(connection.session.update(session=session_config(realtime, modalities=["text"],
                                                                    tools=[WEATHER_TOOL])))
        await call(connection.conversation.item.create(item=user_text("What's the weather in Paris?")))
        await call(connection.response.create())
        done = (await read_until(connection, "response.done"))[-1]
        function_call = done.response.output[0]
        await call(connection.conversation.item.create(item={
            "type": "function_call_output", "call_id": function_call.call_id, "output": '{"sky": "sunny"}'}))
        await call(connection.response.create())
        await read_until(connection, "response.done")
    asking, answering = realtime_spans(content)
    assert asking.attributes[sc.RESPONSE_FINISH_REASONS] == ("tool_call",)
    assert messages(asking, sc.OUTPUT_MESSAGES)[0]["parts"] == [
        {"type": "tool_call", "id": function_call.call_id, "name": "get_weather", "arguments": {"city": "Paris"}}]
    assert messages(asking, sc.TOOL_DEFINITIONS) == [WEATHER_TOOL]
    assert messages(answering, sc.INPUT_MESSAGES) == [{"role": "tool", "parts": [
        {"type": "tool_call_response", "id": function_call.call_id, "response": {"sky": "sunny"}}]}]
    assert answering.attributes[sc.RESPONSE_FINISH_REASONS] == ("stop",)
    assert messages(answering, sc.OUTPUT_MESSAGES)[0]["parts"] == [{"type": "text", "content": ANSWER}]


async def test_tool_call_arguments_need_content_capture(instrument: Any, realtime: Any) -> None:
    """Without content capture the tool call leaves only its finish reason: no arguments, no definitions."""
    telemetry = instrument()
    async with opened(realtime.connect(model="gpt-realtime")) as connection:
        await call(connection.session.update(session=session_config(realtime, tools=[WEATHER_TOOL])))
        await call(connection.conversation.item.create(item=user_text("What's the weather in Paris?")))
        await call(connection.response.create())
        await read_until(connection, "response.done")
    (span,) = realtime_spans(telemetry)
    assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("tool_call",)
    assert "Paris" not in json.dumps(dict(span.attributes))


async def audio_turn(realtime: Any, **settings: Any) -> list[Any]:
    """Stream speech then silence with server VAD: the server commits, transcribes and answers by itself."""
    async with opened(realtime.connect(model="gpt-realtime")) as connection:
        await call(connection.session.update(session=session_config(
            realtime, modalities=["audio"], transcribe=True, vad={"type": "server_vad"}, **settings)))
        for chunk in (SPEECH, SPEECH, SILENCE):
            await call(connection.input_audio_buffer.append(audio=chunk))
        return await read_until(connection, "response.done")


async def test_audio_turn_with_server_vad(content: Telemetry, realtime: Any, ws_server: Any) -> None:
    """A server-initiated generation: speech output, audio token splits, input audio with its transcript
    (which arrives after the generation started) and output audio as a size-only blob with its transcript."""
    events = await audio_turn(realtime)
    assert "response.create" not in [e["type"] for e in ws_server.received]  # the client never asked: VAD did
    (span,) = realtime_spans(content)
    attrs = span.attributes
    assert attrs[sc.OUTPUT_TYPE] == "speech"
    assert (attrs[sc.USAGE_INPUT_TOKENS], attrs[sc.USAGE_AUDIO_INPUT_TOKENS]) == (120, 100)
    assert (attrs[sc.USAGE_OUTPUT_TOKENS], attrs[sc.USAGE_AUDIO_OUTPUT_TOKENS]) == (60, 48)
    assert messages(span, sc.INPUT_MESSAGES) == [{"role": "user", "parts": [
        {"type": "generic", "generic_type": "blob", "modality": "audio", "mime_type": "audio/pcm",
         "stripped_reason": "not_received", "transcript": TRANSCRIPT}]}]
    (output,) = messages(span, sc.OUTPUT_MESSAGES)
    assert output["parts"] == [{"type": "generic", "generic_type": "blob", "modality": "audio",
                                "mime_type": "audio/pcm", "byte_size": 3 * 4800,
                                "stripped_reason": "media_capture_off", "transcript": GREETING}]
    assert SPEECH not in json.dumps(dict(attrs)) and AUDIO_CHUNKS[1] not in json.dumps(dict(attrs))
    assert [e.type for e in events].count("response.created") == 1


async def test_audio_with_media_capture(instrument: Any, realtime: Any) -> None:
    """With media capture on, the output audio blob holds the audio the server streamed."""
    telemetry = instrument(capture_content="SPAN_ONLY", capture_media=True, max_content_length=0)
    await audio_turn(realtime)
    (span,) = realtime_spans(telemetry)
    part = messages(span, sc.OUTPUT_MESSAGES)[0]["parts"][0]
    assert part["content"] == "".join(AUDIO_CHUNKS)
    assert part["transcript"] == GREETING


async def test_user_speech_span(instrument: Any, realtime: Any) -> None:
    """Opt-in: a user_speech INTERNAL span from speech start to stop, with the transcript as its input,
    ending before the generation that answers it starts."""
    telemetry = instrument(capture_content="SPAN_ONLY", user_speech_spans=True)
    await audio_turn(realtime)
    (speech,) = [s for s in telemetry.finished_spans() if s.name == "user_speech"]
    (generation,) = realtime_spans(telemetry)
    assert speech.kind is SpanKind.INTERNAL
    assert speech.attributes[sc.OPERATION_NAME] == "user_speech"
    assert speech.attributes[sc.REALTIME_SESSION_ID] == generation.attributes[sc.REALTIME_SESSION_ID]
    assert messages(speech, sc.INPUT_MESSAGES)[0]["parts"][0]["transcript"] == TRANSCRIPT
    assert speech.end_time <= generation.start_time
    assert speech.status.status_code is StatusCode.UNSET


async def test_audio_deltas_not_read_without_content(instrument: Any, realtime: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Without content capture a generation reads only response.created and response.done: audio and text
    deltas stop at a type lookup."""
    from otel_openai._invocation import Invocation

    fed: list[str] = []
    on_chunk = Invocation.on_chunk
    monkeypatch.setattr(Invocation, "on_chunk", lambda self, chunk: fed.append(chunk.type) or on_chunk(self, chunk))
    telemetry = instrument()
    events = await audio_turn(realtime)
    assert sum(e.type.endswith("audio.delta") for e in events) == len(AUDIO_CHUNKS)
    assert fed == ["response.created", "response.done"]
    assert realtime_spans(telemetry)[0].attributes[sc.USAGE_AUDIO_OUTPUT_TOKENS] == 48


async def test_no_user_speech_span_by_default(content: Telemetry, realtime: Any) -> None:
    """user_speech spans are opt-in."""
    await audio_turn(realtime)
    assert [s.name for s in content.finished_spans()] == ["realtime_inference gpt-realtime"]


async def test_manual_commit_without_vad(content: Telemetry, realtime: Any) -> None:
    """Without VAD the client commits the buffer and asks; the input audio (never echoed) has empty content."""
    async with opened(realtime.connect(model="gpt-realtime")) as connection:
        await call(connection.session.update(session=session_config(realtime, modalities=["text"], vad=None)))
        for chunk in (SPEECH, SPEECH):
            await call(connection.input_audio_buffer.append(audio=chunk))
        await call(connection.input_audio_buffer.commit())
        await call(connection.response.create())
        await read_until(connection, "response.done")
    (span,) = realtime_spans(content)
    assert messages(span, sc.INPUT_MESSAGES) == [{"role": "user", "parts": [
        {"type": "generic", "generic_type": "blob", "modality": "audio", "mime_type": "audio/pcm",
         "stripped_reason": "not_received"}]}]
    assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("stop",)


async def test_recv_loop(content: Telemetry, realtime: Any) -> None:
    """Reading with recv() gives the same span as a for loop."""
    async with opened(realtime.connect(model="gpt-realtime")) as connection:
        await call(connection.conversation.item.create(item=user_text("Hi")))
        await call(connection.response.create(response={"output_modalities" if is_ga(realtime) else "modalities":
                                                        ["text"]}))
        await recv_until(connection, "response.done")
    (span,) = realtime_spans(content)
    assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("stop",)
    assert span.attributes[sc.OUTPUT_TYPE] == "text"
    assert messages(span, sc.OUTPUT_MESSAGES)[0]["parts"] == [{"type": "text", "content": GREETING}]


def run_steps(steps: list[Any]) -> Any:
    """Run calls in order from a handler: directly on a sync connection, as one coroutine on an async one."""
    first = steps[0]()
    if not hasattr(first, "__await__"):
        for step in steps[1:]:
            step()
        return None

    async def rest() -> None:
        await first
        for step in steps[1:]:
            await step()

    return rest()


async def test_dispatch_events_with_handlers(content: Telemetry, realtime: Any) -> None:
    """dispatch_events() with on() handlers: a handler answers the tool call, another closes the connection."""
    async with opened(realtime.connect(model="gpt-realtime")) as connection:
        if not hasattr(connection, "dispatch_events"):
            pytest.skip("this connection has no dispatch_events()/on() handlers (GA realtime from 2.x; never beta)")

        def on_done(event: Any) -> Any:
            output = event.response.output[0]
            if output.type == "function_call":
                item = {"type": "function_call_output", "call_id": output.call_id, "output": "sunny"}
                steps = [lambda: connection.conversation.item.create(item=item), connection.response.create]
            else:
                steps = [connection.close]
            return run_steps(steps)

        seen: list[str] = []
        connection.on("response.done", on_done)
        connection.on("event", lambda event: seen.append(event.type))
        await call(connection.session.update(session=session_config(realtime, modalities=["text"],
                                                                    tools=[WEATHER_TOOL])))
        await call(connection.conversation.item.create(item=user_text("What's the weather in Paris?")))
        await call(connection.response.create())
        await call(connection.dispatch_events())
    assert [s.attributes[sc.RESPONSE_FINISH_REASONS] for s in realtime_spans(content)] == [("tool_call",),
                                                                                           ("stop",)]
    assert seen.count("response.done") == 2
