"""Stream proxies end to end: the user keeps an SDK stream, and the span ends exactly once however it ends."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from typing import Any

import openai
import pytest
from opentelemetry.trace import StatusCode

from otel_openai import _semconv as sc
from tests.conftest import (
    LazyBody,
    completions_stream,
    event_value,
    fixture_text,
    http,
    make_client,
    sse_fixture,
)

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
USAGE = {"include_usage": True}


@pytest.fixture(autouse=True)
def no_double_end(caplog: Any) -> Any:
    """Fail any test in which a span is ended twice (the SDK logs instead of raising)."""
    caplog.set_level(logging.WARNING, logger="opentelemetry.sdk.trace")
    yield
    assert not [r for r in caplog.records if "ended span" in r.getMessage()]


def serve(name: str) -> Any:
    return lambda request: sse_fixture(name)


async def create(client: Any, async_client: bool, **kwargs: Any) -> Any:
    kwargs.setdefault("model", "gpt-4o-mini")
    kwargs.setdefault("messages", MESSAGES)
    result = client.chat.completions.create(stream=True, **kwargs)
    return await result if async_client else result


async def drain(stream: Any, async_client: bool) -> list[Any]:
    return [c async for c in stream] if async_client else list(stream)


async def take(stream: Any, async_client: bool, n: int) -> list[Any]:
    out = []
    for _ in range(n):
        out.append(await stream.__anext__() if async_client else next(stream))
    return out


async def close(stream: Any, async_client: bool) -> None:
    if async_client:
        await stream.close()
    else:
        stream.close()


def ended_once(t: Any) -> Any:
    """The one span, after checking it produced exactly one duration point."""
    assert len(t.metric_points(sc.METRIC_OPERATION_DURATION)) == 1
    return t.only_span()


# --- what the user gets back -------------------------------------------------------------------------


async def test_isinstance_holds(instrument: Any, async_client: bool) -> None:
    """The returned stream is still an ``openai.Stream`` / ``openai.AsyncStream``."""
    instrument()
    stream = await create(make_client(serve("chat/stream_usage.sse"), async_client=async_client), async_client)
    assert isinstance(stream, openai.AsyncStream if async_client else openai.Stream)
    assert type(stream.__wrapped__).__name__ == ("AsyncStream" if async_client else "Stream")
    await close(stream, async_client)


async def test_exhausted_whole_span(instrument: Any, async_client: bool) -> None:
    """An exhausted include_usage stream: one span with response attributes, usage and time to first chunk."""
    t = instrument()
    client = make_client(serve("chat/stream_usage.sse"), async_client=async_client)
    stream = await create(client, async_client, stream_options=USAGE)
    assert t.finished_spans() == []
    chunks = await drain(stream, async_client)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == \
        "The capital of France is Paris."
    span = ended_once(t)
    attrs = dict(span.attributes)
    ttfc = attrs.pop(sc.RESPONSE_TIME_TO_FIRST_CHUNK)
    assert isinstance(ttfc, float) and ttfc >= 0
    assert attrs == {
        sc.OPERATION_NAME: "chat", sc.PROVIDER_NAME: "openai", sc.REQUEST_MODEL: "gpt-4o-mini",
        sc.SERVER_ADDRESS: "openai.test", sc.SERVER_PORT: 8080, sc.OPENAI_API_TYPE: "chat_completions",
        sc.REQUEST_STREAM: True, sc.RESPONSE_ID: "chatcmpl-BStreamUsage2kLq0dPz",
        sc.RESPONSE_MODEL: "gpt-4o-mini-2024-07-18", sc.OPENAI_RESPONSE_SYSTEM_FINGERPRINT: "fp_06737a9306",
        sc.OPENAI_RESPONSE_SERVICE_TIER: "default", sc.RESPONSE_FINISH_REASONS: ("stop",),
        sc.USAGE_INPUT_TOKENS: 24, sc.USAGE_OUTPUT_TOKENS: 7, sc.USAGE_CACHE_READ_INPUT_TOKENS: 16,
        sc.USAGE_REASONING_OUTPUT_TOKENS: 0,
    }
    assert span.status.status_code is StatusCode.UNSET
    assert span.events == ()


async def test_no_usage_without_include_usage(instrument: Any, async_client: bool) -> None:
    """Without ``include_usage`` there are no usage attributes, and nothing is invented."""
    t = instrument()
    stream = await create(make_client(serve("chat/stream_plain.sse"), async_client=async_client), async_client)
    await drain(stream, async_client)
    attrs = ended_once(t).attributes
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ("stop",)
    assert not [k for k in attrs if k.startswith("gen_ai.usage.")]


# --- every way a stream can end ------------------------------------------------------------------------


async def test_break_then_close(instrument: Any, async_client: bool) -> None:
    """``break`` then ``close()`` (awaited for async) ends the span once and closes the HTTP response; the
    choice that never got its finish reason reports ``error``."""
    t = instrument()
    stream = await create(make_client(serve("chat/stream_usage.sse"), async_client=async_client), async_client)
    if async_client:
        async for _ in stream:
            break
    else:
        for _ in stream:
            break
    assert t.finished_spans() == []
    await close(stream, async_client)
    assert stream.response.is_closed
    span = ended_once(t)
    assert span.attributes[sc.RESPONSE_ID] == "chatcmpl-BStreamUsage2kLq0dPz"
    assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("error",)
    await close(stream, async_client)
    ended_once(t)


async def test_aclose(instrument: Any) -> None:
    """``await stream.aclose()`` ends the span and closes the response, on every SDK version."""
    t = instrument()
    stream = await create(make_client(serve("chat/stream_usage.sse"), async_client=True), True)
    await stream.__anext__()
    await stream.aclose()
    assert stream.response.is_closed
    ended_once(t)


@pytest.mark.parametrize("read", [0, 2], ids=["unread", "half-read"])
async def test_context_manager_exit(instrument: Any, async_client: bool, read: int) -> None:
    """Leaving ``with`` / ``async with`` ends the span and closes the HTTP response, read or not."""
    t = instrument()
    stream = await create(make_client(serve("chat/stream_usage.sse"), async_client=async_client), async_client)
    if async_client:
        async with stream as entered:
            assert entered is stream
            await take(stream, True, read)
    else:
        with stream as entered:
            assert entered is stream
            await take(stream, False, read)
    assert stream.response.is_closed
    span = ended_once(t)
    assert span.status.status_code is StatusCode.UNSET
    assert (sc.RESPONSE_ID in span.attributes) is bool(read)


async def test_context_manager_exit_on_user_error(instrument: Any, async_client: bool) -> None:
    """An exception in the user's ``with`` body reaches the user unchanged; the span still ends once."""
    t = instrument()
    stream = await create(make_client(serve("chat/stream_usage.sse"), async_client=async_client), async_client)
    boom = ValueError("user code")
    with pytest.raises(ValueError) as info:
        if async_client:
            async with stream:
                raise boom
        else:
            with stream:
                raise boom
    assert info.value is boom
    assert stream.response.is_closed
    ended_once(t)


async def test_abandoned_half_read_collected(instrument: Any, async_client: bool) -> None:
    """A stream abandoned half-read ends its span when garbage-collected."""
    t = instrument()
    stream = await create(make_client(serve("chat/stream_usage.sse"), async_client=async_client), async_client)
    await take(stream, async_client, 2)
    assert t.finished_spans() == []
    del stream
    gc.collect()
    span = ended_once(t)
    assert span.attributes[sc.RESPONSE_ID] == "chatcmpl-BStreamUsage2kLq0dPz"
    if async_client:
        await asyncio.sleep(0)


async def test_transport_error_mid_stream(instrument: Any, async_client: bool) -> None:
    """A transport error mid-stream reaches the user unchanged and ends the span with ERROR; the choice cut
    off before its finish reason reports ``error``."""
    t = instrument()
    body = LazyBody(fixture_text("chat/stream_usage.sse"), fail_after=3)
    stream = await create(make_client(lambda r: body.response(async_client), async_client=async_client),
                          async_client)
    # openai 3.x wraps transport errors mid-stream in APIConnectionError; older SDKs let them through.
    with pytest.raises((http.ReadError, openai.APIConnectionError)) as info:
        await drain(stream, async_client)
    span = ended_once(t)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == str(info.value)
    if isinstance(info.value, openai.APIConnectionError):
        assert span.attributes[sc.ERROR_TYPE] == "openai.APIConnectionError"
    else:
        assert span.attributes[sc.ERROR_TYPE] == f"{type(info.value).__module__}.ReadError"
    assert span.attributes[sc.RESPONSE_ID] == "chatcmpl-BStreamUsage2kLq0dPz"
    assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("error",)
    assert [e.name for e in span.events] == ["exception"]
    assert [r.event_name for r in t.log_records()] == [sc.EVENT_OPERATION_EXCEPTION]
    assert t.metric_points(sc.METRIC_TOKEN_USAGE) == []


async def test_in_band_error_event(instrument: Any, async_client: bool) -> None:
    """An in-band ``{"error": ...}`` event raises ``openai.APIError`` unchanged and ends the span with ERROR."""
    t = instrument()
    raised: list[BaseException] = []
    stream = await create(make_client(serve("chat/stream_error.sse"), async_client=async_client), async_client)
    chunks: list[Any] = []
    with pytest.raises(openai.APIError) as info:
        if async_client:
            async for chunk in stream:
                chunks.append(chunk)
        else:
            for chunk in stream:
                chunks.append(chunk)
    raised.append(info.value)
    assert len(chunks) == 2
    span = ended_once(t)
    assert span.status.status_code is StatusCode.ERROR
    assert "The server had an error" in span.status.description
    assert span.attributes[sc.ERROR_TYPE] == "openai.APIError"
    assert span.events[0].attributes["exception.message"] == str(raised[0])


async def test_task_cancelled_mid_stream(instrument: Any) -> None:
    """Cancelling the asyncio task that reads a stream ends the span once, with the cancellation recorded."""
    t = instrument()
    events = [e + "\n\n" for e in fixture_text("chat/stream_usage.sse").split("\n\n") if e.strip()]

    async def body() -> Any:
        yield events[0].encode()
        yield events[1].encode()
        await asyncio.Event().wait()  # the server goes quiet
        yield b""  # pragma: no cover

    def handler(request: Any) -> Any:
        return http.Response(200, content=body(), headers={"content-type": "text/event-stream"})

    stream = await create(make_client(handler, async_client=True), True)
    got: list[Any] = []

    async def consume() -> None:
        async for chunk in stream:
            got.append(chunk)

    task = asyncio.create_task(consume())
    while len(got) < 2:
        await asyncio.sleep(0)
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    span = ended_once(t)
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[sc.ERROR_TYPE].endswith("CancelledError")
    await stream.close()
    ended_once(t)


async def test_sdk_stream_dict_unchanged(instrument: Any, async_client: bool, monkeypatch: Any) -> None:
    """No proxy state is written onto the SDK's stream: its ``__dict__`` holds the same objects under the same
    keys from the moment we wrap it until after it is drained and closed."""
    from otel_openai import _streams

    snapshots: list[tuple[Any, dict[str, Any]]] = []
    original = _streams._StreamProxyBase.__init__

    def spy(self: Any, stream: Any, invocation: Any) -> None:
        snapshots.append((stream, dict(vars(stream))))
        original(self, stream, invocation)

    monkeypatch.setattr(_streams._StreamProxyBase, "__init__", spy)
    instrument()
    stream = await create(make_client(serve("chat/stream_usage.sse"), async_client=async_client), async_client,
                          stream_options=USAGE)
    await drain(stream, async_client)
    await close(stream, async_client)
    ((sdk_stream, before),) = snapshots
    assert sdk_stream is stream.__wrapped__
    after = vars(sdk_stream)
    assert set(after) == set(before)
    assert all(after[k] is before[k] for k in before)
    assert not [k for k in vars(stream.__wrapped__) if "invocation" in k or k.startswith("_self_")]


async def test_accumulator_failure_is_swallowed(instrument: Any, async_client: bool, monkeypatch: Any) -> None:
    """An accumulator that raises on every chunk costs only telemetry: the user gets every chunk."""
    from otel_openai._mapping import chat

    def boom(self: Any, chunk: Any) -> None:
        raise RuntimeError("accumulator bug")

    monkeypatch.setattr(chat.ChatAccumulator, "add", boom)
    t = instrument(capture_content="SPAN_ONLY")
    stream = await create(make_client(serve("chat/stream_usage.sse"), async_client=async_client), async_client)
    assert len(await drain(stream, async_client)) == 10
    span = ended_once(t)
    assert span.status.status_code is StatusCode.UNSET


async def test_resumed_after_break(instrument: Any, async_client: bool) -> None:
    """``next()``, a ``for`` left with ``break``, then another ``for``: the user gets every chunk once, in
    order, and the span records the whole output (the accumulator folds across the three readers)."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(serve("chat/stream_plain.sse"), async_client=async_client)
    reference = await drain(await create(client, async_client), async_client)
    stream = await create(client, async_client)
    seen = await take(stream, async_client, 1)
    if async_client:
        async for chunk in stream:
            seen.append(chunk)
            if len(seen) == 3:
                break
    else:
        for chunk in stream:
            seen.append(chunk)
            if len(seen) == 3:
                break
    seen += await drain(stream, async_client)
    assert [c.model_dump() for c in seen] == [c.model_dump() for c in reference]
    first, second = t.finished_spans()
    assert dict(second.attributes) == dict(first.attributes) | {
        sc.RESPONSE_TIME_TO_FIRST_CHUNK: second.attributes[sc.RESPONSE_TIME_TO_FIRST_CHUNK]}
    assert json.loads(second.attributes[sc.OUTPUT_MESSAGES])[0]["parts"] == [
        {"type": "text", "content": "The capital of France is Paris."}]


async def test_patched_stream_iteration_still_runs(instrument: Any, async_client: bool, monkeypatch: Any) -> None:
    """Our loop takes the place of the SDK's ``__iter__`` only while that method is the SDK's plain relay: a
    patched one (another library's, a subclass's) is what the proxy iterates, chunk by chunk."""
    from otel_openai import _streams

    cls, name = (openai.AsyncStream, "__aiter__") if async_client else (openai.Stream, "__iter__")
    t = instrument()
    stream = await create(make_client(serve("chat/stream_usage.sse"), async_client=async_client), async_client)
    assert _streams._sdk_chunks(stream.__wrapped__, name) is stream.__wrapped__._iterator  # the SDK's relay
    await close(stream, async_client)
    original, pulled = getattr(cls, name), []

    if async_client:
        async def relay(self: Any) -> Any:
            async for item in original(self):
                pulled.append(item)
                yield item
    else:
        def relay(self: Any) -> Any:
            for item in original(self):
                pulled.append(item)
                yield item

    monkeypatch.setattr(cls, name, relay)
    stream = await create(make_client(serve("chat/stream_usage.sse"), async_client=async_client), async_client)
    chunks = await drain(stream, async_client)
    assert len(chunks) == 10 and pulled == chunks
    _unread, read = t.finished_spans()
    assert read.attributes[sc.RESPONSE_FINISH_REASONS] == ("stop",)


# --- accumulation ---------------------------------------------------------------------------------------


async def test_tool_call_deltas(instrument: Any, async_client: bool) -> None:
    """Tool-call deltas, including ``arguments: null`` fragments, accumulate into parallel tool calls."""
    t = instrument(capture_content="SPAN_ONLY")
    stream = await create(make_client(serve("chat/stream_tool_calls.sse"), async_client=async_client),
                          async_client, model="gpt-4o", stream_options=USAGE)
    await drain(stream, async_client)
    attrs = ended_once(t).attributes
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ("tool_calls",)
    assert json.loads(attrs[sc.OUTPUT_MESSAGES]) == [{
        "role": "assistant",
        "parts": [
            {"type": "tool_call", "id": "call_Paris0001", "name": "get_weather",
             "arguments": {"location": "Paris"}},
            {"type": "tool_call", "id": "call_Berlin002", "name": "get_weather",
             "arguments": {"location": "Berlin"}},
        ],
    }]
    assert attrs[sc.USAGE_OUTPUT_TOKENS] == 46


async def test_tool_call_deltas_without_content(instrument: Any, async_client: bool) -> None:
    """With content capture off, streamed tool-call arguments appear nowhere."""
    t = instrument(stream_chunk_events=50)
    stream = await create(make_client(serve("chat/stream_tool_calls.sse"), async_client=async_client),
                          async_client, model="gpt-4o")
    await drain(stream, async_client)
    span = ended_once(t)
    assert "Paris" not in span.to_json()
    assert sc.OUTPUT_MESSAGES not in span.attributes


async def test_n2_accumulation(instrument: Any, async_client: bool) -> None:
    """Interleaved choices (n=2) accumulate per index; finish reasons and messages are in index order."""
    t = instrument(capture_content="SPAN_ONLY")
    stream = await create(make_client(serve("chat/stream_n2.sse"), async_client=async_client), async_client,
                          n=2, stream_options=USAGE)
    await drain(stream, async_client)
    attrs = ended_once(t).attributes
    assert attrs[sc.REQUEST_CHOICE_COUNT] == 2
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ("stop", "length")
    assert json.loads(attrs[sc.OUTPUT_MESSAGES]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Salut!"}]},
        {"role": "assistant", "parts": [{"type": "text", "content": "Bonjour"}]},
    ]


# --- opt-in per-chunk events ---------------------------------------------------------------------------------


async def test_chunk_events_off_by_default(instrument: Any, async_client: bool) -> None:
    """By default a stream adds no span event per chunk."""
    t = instrument(capture_content="SPAN_AND_EVENT")
    stream = await create(make_client(serve("chat/stream_usage.sse"), async_client=async_client), async_client)
    await drain(stream, async_client)
    assert ended_once(t).events == ()


@pytest.mark.parametrize("capture", ["NO_CONTENT", "SPAN_ONLY"])
async def test_chunk_events_opt_in_limited(instrument: Any, async_client: bool, capture: str) -> None:
    """``stream_chunk_events=N`` adds at most N chunk events; their data only with content capture on."""
    t = instrument(stream_chunk_events=3, capture_content=capture)
    stream = await create(make_client(serve("chat/stream_usage.sse"), async_client=async_client), async_client)
    chunks = await drain(stream, async_client)
    assert len(chunks) > 3
    events = ended_once(t).events
    assert [e.name for e in events] == [sc.EVENT_STREAM_CHUNK] * 3
    assert [e.attributes["openai.chunk.index"] for e in events] == [0, 1, 2]
    if capture == "NO_CONTENT":
        assert all("openai.chunk.data" not in e.attributes for e in events)
    else:
        assert json.loads(events[1].attributes["openai.chunk.data"])["choices"][0]["delta"] == {"content": "The"}


# --- the .stream() helper ---------------------------------------------------------------------------------


async def test_stream_helper(instrument: Any, async_client: bool) -> None:
    """``chat.completions.stream()`` is one span that ends when the helper is done; its events still work."""
    t = instrument()
    client = make_client(serve("chat/stream_usage.sse"), async_client=async_client)
    manager = completions_stream(client)(model="gpt-4o-mini", messages=MESSAGES, stream_options=USAGE)
    if async_client:
        async with manager as helper:
            kinds = [e.type async for e in helper]
            final = await helper.get_final_completion()
    else:
        with manager as helper:
            kinds = [e.type for e in helper]
            final = helper.get_final_completion()
    assert "content.done" in kinds
    assert final.choices[0].message.content == "The capital of France is Paris."
    span = ended_once(t)
    assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("stop",)
    assert span.attributes[sc.USAGE_INPUT_TOKENS] == 24


async def test_stream_helper_exit_early(instrument: Any, async_client: bool) -> None:
    """Leaving the ``.stream()`` manager after one event ends the span once and closes the response; the
    cut generation's finish reason is ``error``."""
    t = instrument()
    client = make_client(serve("chat/stream_usage.sse"), async_client=async_client)
    manager = completions_stream(client)(model="gpt-4o-mini", messages=MESSAGES)
    if async_client:
        async with manager as helper:
            await helper.__anext__()
    else:
        with manager as helper:
            next(iter(helper))
    assert helper._response.is_closed
    span = ended_once(t)
    assert span.attributes[sc.RESPONSE_ID] == "chatcmpl-BStreamUsage2kLq0dPz"
    assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("error",)


async def test_refusal_deltas(instrument: Any, async_client: bool) -> None:
    """Streamed refusal fragments are kept as one generic refusal part, not dropped."""
    t = instrument(capture_content="SPAN_ONLY")
    stream = await create(make_client(serve("chat/stream_refusal.sse"), async_client=async_client),
                          async_client, model="gpt-4o")
    await drain(stream, async_client)
    assert json.loads(ended_once(t).attributes[sc.OUTPUT_MESSAGES]) == [{"role": "assistant", "parts": [
        {"type": "generic", "generic_type": "refusal", "content": "I'm sorry, I can't assist with that."}]}]


async def test_azure_stream_with_filter_chunk(instrument: Any, async_client: bool) -> None:
    """Azure opens a stream with a prompt-filter chunk that has an empty id and model; the response id,
    model and fingerprint still come from the chunks that carry them."""
    t = instrument(capture_content="SPAN_ONLY", time_per_chunk_metric=True)
    stream = await create(make_client(serve("chat/stream_azure.sse"), async_client=async_client), async_client,
                          stream_options=USAGE)
    await drain(stream, async_client)
    attrs = ended_once(t).attributes
    assert attrs[sc.RESPONSE_ID] == "chatcmpl-AzureStream5Tq1"
    assert attrs[sc.RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert attrs[sc.OPENAI_RESPONSE_SYSTEM_FINGERPRINT] == "fp_b705f0c291"
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ("stop",)
    assert (attrs[sc.USAGE_INPUT_TOKENS], attrs[sc.USAGE_OUTPUT_TOKENS]) == (14, 2)
    assert json.loads(attrs[sc.OUTPUT_MESSAGES])[0]["parts"] == [{"type": "text", "content": "Paris."}]
    (ttfc,) = t.metric_points(sc.METRIC_TIME_TO_FIRST_CHUNK)
    assert ttfc.attributes[sc.RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    (per_chunk,) = t.metric_points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    assert per_chunk.attributes[sc.RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"


async def test_stream_details_event(instrument: Any, async_client: bool) -> None:
    """EVENT_ONLY on a stream: one details record at the end, with the accumulated output and the span's
    trace context; nothing on the span."""
    t = instrument(capture_content="EVENT_ONLY")
    stream = await create(make_client(serve("chat/stream_usage.sse"), async_client=async_client), async_client,
                          stream_options=USAGE)
    await drain(stream, async_client)
    span = ended_once(t)
    assert sc.OUTPUT_MESSAGES not in span.attributes
    (record,) = t.log_records()
    assert (record.trace_id, record.span_id) == (span.context.trace_id, span.context.span_id)
    assert event_value(record.attributes[sc.OUTPUT_MESSAGES]) == [{"role": "assistant", "parts": [
        {"type": "text", "content": "The capital of France is Paris."}]}]
    assert record.attributes[sc.REQUEST_STREAM] is True
    assert record.attributes[sc.USAGE_OUTPUT_TOKENS] == 7
