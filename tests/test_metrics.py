"""The four GenAI client histograms: names, units, bucket advice, allow-listed attributes, stream timing."""

from __future__ import annotations

import types
from typing import Any

import openai
import pytest

from otel_openai import _invocation
from otel_openai import _semconv as sc
from otel_openai._metrics import DURATION_BUCKETS, TOKEN_BUCKETS, metric_attributes
from tests.conftest import LazyBody, fixture_json, fixture_text, json_response, make_client, resolve

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
EXPECTED_DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96,
                             81.92]
EXPECTED_TOKEN_BUCKETS = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216,
                          67108864]


class Clock:
    """A ``perf_counter`` the test advances by hand, so timings are exact and never depend on the machine."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: Any) -> Clock:
    fake = Clock()
    monkeypatch.setattr(_invocation, "time", types.SimpleNamespace(perf_counter=fake))
    return fake


def metrics_by_name(t: Any) -> dict[str, Any]:
    data = t.metric_reader.get_metrics_data()
    return {m.name: m for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}


def test_bucket_constants() -> None:
    """The bucket advice is exactly the conventions' boundaries."""
    assert list(DURATION_BUCKETS) == pytest.approx(EXPECTED_DURATION_BUCKETS)
    assert list(TOKEN_BUCKETS) == EXPECTED_TOKEN_BUCKETS


def test_metric_attributes_allow_list() -> None:
    """Only allow-listed attributes reach a metric point."""
    attrs = {sc.OPERATION_NAME: "chat", sc.RESPONSE_ID: "chatcmpl-1", sc.INPUT_MESSAGES: "[]",
             sc.USAGE_INPUT_TOKENS: 3, sc.ERROR_TYPE: "openai.RateLimitError", sc.REQUEST_TEMPERATURE: 0.1}
    assert metric_attributes(attrs) == {sc.OPERATION_NAME: "chat", sc.ERROR_TYPE: "openai.RateLimitError"}


async def test_chat_metrics(instrument: Any, async_client: bool) -> None:
    """A chat call records one duration point and one token point per token type, each with exactly the
    allow-listed attributes and the advised buckets; no streaming metrics."""
    t = instrument(capture_content="SPAN_AND_EVENT")
    client = make_client(lambda r: json_response(fixture_json("chat/plain.json")), async_client=async_client)
    await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, temperature=0.3))
    base = {
        sc.OPERATION_NAME: "chat", sc.PROVIDER_NAME: "openai", sc.REQUEST_MODEL: "gpt-4o-mini",
        sc.RESPONSE_MODEL: "gpt-4o-mini-2024-07-18", sc.SERVER_ADDRESS: "openai.test", sc.SERVER_PORT: 8080,
        sc.OPENAI_RESPONSE_SERVICE_TIER: "default", sc.OPENAI_RESPONSE_SYSTEM_FINGERPRINT: "fp_06737a9306",
    }
    (duration,) = t.metric_points(sc.METRIC_OPERATION_DURATION)
    assert dict(duration.attributes) == base
    assert duration.count == 1
    assert list(duration.explicit_bounds) == pytest.approx(EXPECTED_DURATION_BUCKETS)
    tokens = {p.attributes[sc.TOKEN_TYPE]: p for p in t.metric_points(sc.METRIC_TOKEN_USAGE)}
    assert set(tokens) == {"input", "output"}
    assert (tokens["input"].sum, tokens["output"].sum) == (24, 8)
    assert dict(tokens["input"].attributes) == {**base, sc.TOKEN_TYPE: "input"}
    assert list(tokens["input"].explicit_bounds) == EXPECTED_TOKEN_BUCKETS
    assert t.metric_points(sc.METRIC_TIME_TO_FIRST_CHUNK) == []
    assert t.metric_points(sc.METRIC_TIME_PER_OUTPUT_CHUNK) == []
    found = metrics_by_name(t)
    assert (found[sc.METRIC_OPERATION_DURATION].unit, found[sc.METRIC_TOKEN_USAGE].unit) == ("s", "{token}")


async def test_failure_metrics(instrument: Any, async_client: bool) -> None:
    """A failed call records its duration with ``error.type`` and no token usage."""
    t = instrument()
    client = make_client(lambda r: json_response(fixture_json("chat/rate_limit_error.json"), status=429),
                         async_client=async_client)
    with pytest.raises(openai.RateLimitError):
        await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    (duration,) = t.metric_points(sc.METRIC_OPERATION_DURATION)
    assert dict(duration.attributes) == {
        sc.OPERATION_NAME: "chat", sc.PROVIDER_NAME: "openai", sc.REQUEST_MODEL: "gpt-4o-mini",
        sc.SERVER_ADDRESS: "openai.test", sc.SERVER_PORT: 8080, sc.ERROR_TYPE: "openai.RateLimitError",
    }
    assert t.metric_points(sc.METRIC_TOKEN_USAGE) == []


async def test_duration_equals_span_with_clock(instrument: Any, async_client: bool, clock: Clock) -> None:
    """The duration point is measured on the same clock as the call: exactly what the transport took."""
    t = instrument()

    def handler(request: Any) -> Any:
        clock.now += 2.5
        return json_response(fixture_json("chat/plain.json"))

    client = make_client(handler, async_client=async_client)
    await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    (duration,) = t.metric_points(sc.METRIC_OPERATION_DURATION)
    assert duration.sum == pytest.approx(2.5)


async def test_stream_timing(instrument: Any, async_client: bool, clock: Clock) -> None:
    """A stream's duration ends when the stream ends (not when headers arrive); time to first chunk is
    recorded once and time per output chunk for each later output chunk (the usage-only last chunk carries
    no output), all on the controlled clock."""
    t = instrument(time_per_chunk_metric=True)
    # Each SSE event takes one second to arrive; the body is only produced as the user reads.
    body = LazyBody(fixture_text("chat/stream_usage.sse"), on_event=lambda i: setattr(clock, "now", clock.now + 1))

    def handler(request: Any) -> Any:
        clock.now += 0.5  # headers after half a second
        return body.response(async_client)

    client = make_client(handler, async_client=async_client)
    stream = await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                                          stream_options={"include_usage": True}))
    assert t.metric_points(sc.METRIC_OPERATION_DURATION) == []
    chunks = [c async for c in stream] if async_client else list(stream)
    assert len(chunks) == len(body.events) - 1  # every event but [DONE] is a chunk
    (duration,) = t.metric_points(sc.METRIC_OPERATION_DURATION)
    assert duration.sum == pytest.approx(0.5 + len(body.events))
    (ttfc,) = t.metric_points(sc.METRIC_TIME_TO_FIRST_CHUNK)
    assert (ttfc.count, ttfc.sum) == (1, pytest.approx(1.5))
    assert dict(ttfc.attributes)[sc.RESPONSE_MODEL] == "gpt-4o-mini-2024-07-18"
    assert sc.ERROR_TYPE not in ttfc.attributes
    (per_chunk,) = t.metric_points(sc.METRIC_TIME_PER_OUTPUT_CHUNK)
    output_chunks = [c for c in chunks if c.choices]
    assert len(output_chunks) == len(chunks) - 1
    assert (per_chunk.count, per_chunk.sum) == (len(output_chunks) - 1, pytest.approx(len(output_chunks) - 1))
    assert t.only_span().attributes[sc.RESPONSE_TIME_TO_FIRST_CHUNK] == pytest.approx(1.5)
    tokens = {p.attributes[sc.TOKEN_TYPE]: p.sum for p in t.metric_points(sc.METRIC_TOKEN_USAGE)}
    assert tokens == {"input": 24, "output": 7}


async def test_time_per_chunk_metric_is_opt_in(instrument: Any, async_client: bool) -> None:
    """By default no per-chunk points are recorded (they cost more than the rest of a stream's telemetry);
    time to first chunk still is."""
    t = instrument()
    body = LazyBody(fixture_text("chat/stream_plain.sse"))
    client = make_client(lambda r: body.response(async_client), async_client=async_client)
    stream = await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    [c async for c in stream] if async_client else list(stream)
    assert t.metric_points(sc.METRIC_TIME_PER_OUTPUT_CHUNK) == []
    assert len(t.metric_points(sc.METRIC_TIME_TO_FIRST_CHUNK)) == 1
    # No include_usage: the counts are unknown, so no token points at all.
    assert t.metric_points(sc.METRIC_TOKEN_USAGE) == []


async def test_stream_error_duration(instrument: Any, async_client: bool, clock: Clock) -> None:
    """A stream failing after its usage chunk records its duration up to the failure, with ``error.type``,
    and no token usage: counts from a failed call are never recorded."""
    t = instrument()
    text = fixture_text("chat/stream_usage.sse")
    events = len([e for e in text.split("\n\n") if e.strip()])
    # Every data event (the usage chunk included) arrives; the connection drops instead of [DONE].
    body = LazyBody(text, on_event=lambda i: setattr(clock, "now", clock.now + 1), fail_after=events - 1)
    client = make_client(lambda r: body.response(async_client), async_client=async_client)
    stream = await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                                          stream_options={"include_usage": True}))
    with pytest.raises(Exception):  # noqa: B017 - the type differs by SDK major; test_streams pins it
        [c async for c in stream] if async_client else list(stream)
    (duration,) = t.metric_points(sc.METRIC_OPERATION_DURATION)
    assert duration.sum == pytest.approx(events - 1)
    assert t.only_span().attributes[sc.USAGE_INPUT_TOKENS] == 24  # known, but not a metric on failure
    assert sc.ERROR_TYPE in duration.attributes
    assert t.metric_points(sc.METRIC_TOKEN_USAGE) == []
