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
    events = await _stream_failing_after_usage(async_client, clock)
    (duration,) = t.metric_points(sc.METRIC_OPERATION_DURATION)
    assert duration.sum == pytest.approx(events - 1)
    assert t.only_span().attributes[sc.USAGE_INPUT_TOKENS] == 24  # known, but not a metric on failure
    assert sc.ERROR_TYPE in duration.attributes
    assert t.metric_points(sc.METRIC_TOKEN_USAGE) == []


# --- OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental: the newest names and shapes ----------------

LATEST_INFERENCE = (sc.METRIC_INFERENCE_DURATION, sc.METRIC_USAGE_INPUT_TOKENS, sc.METRIC_USAGE_OUTPUT_TOKENS,
                    sc.METRIC_USAGE_CACHE_READ_INPUT_TOKENS, sc.METRIC_USAGE_CACHE_WRITE_INPUT_TOKENS,
                    sc.METRIC_USAGE_REASONING_OUTPUT_TOKENS, sc.METRIC_OPERATION_INPUT_TOKENS,
                    sc.METRIC_OPERATION_OUTPUT_TOKENS)
DEFAULT_NAMES = (sc.METRIC_OPERATION_DURATION, sc.METRIC_TOKEN_USAGE, sc.METRIC_TIME_TO_FIRST_CHUNK,
                 sc.METRIC_TIME_PER_OUTPUT_CHUNK)
BASE = {
    sc.OPERATION_NAME: "chat", sc.PROVIDER_NAME: "openai", sc.REQUEST_MODEL: "gpt-4o-mini",
    sc.RESPONSE_MODEL: "gpt-4o-mini-2024-07-18", sc.SERVER_ADDRESS: "openai.test", sc.SERVER_PORT: 8080,
    sc.OPENAI_RESPONSE_SERVICE_TIER: "default", sc.OPENAI_RESPONSE_SYSTEM_FINGERPRINT: "fp_06737a9306",
}


@pytest.fixture
def latest(instrument: Any, monkeypatch: Any) -> Any:
    """Instrument with the newest metric names opted into through the environment."""
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    return instrument


def counted(t: Any, name: str) -> dict[str, int]:
    """A usage counter's values by token modality."""
    points = t.metric_points(name)
    assert all(set(p.attributes) - set(BASE) == {sc.TOKEN_MODALITY} for p in points), name
    return {p.attributes[sc.TOKEN_MODALITY]: p.value for p in points}


def chat_with_usage(usage: dict[str, Any]) -> Any:
    body = fixture_json("chat/plain.json")
    body["usage"] = usage
    return lambda r: json_response(body)


async def test_latest_chat_metrics(latest: Any, async_client: bool) -> None:
    """Opted in, a chat call records gen_ai.client.inference.duration, the five usage counters (modality
    `unknown` where the usage has no split) and the per-operation token histograms; none of the default
    names."""
    t = latest()
    client = make_client(lambda r: json_response(fixture_json("chat/plain.json")), async_client=async_client)
    await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    (duration,) = t.metric_points(sc.METRIC_INFERENCE_DURATION)
    assert dict(duration.attributes) == BASE
    assert list(duration.explicit_bounds) == pytest.approx(EXPECTED_DURATION_BUCKETS)
    assert counted(t, sc.METRIC_USAGE_INPUT_TOKENS) == {"unknown": 24}
    assert counted(t, sc.METRIC_USAGE_OUTPUT_TOKENS) == {"unknown": 8}
    assert counted(t, sc.METRIC_USAGE_CACHE_READ_INPUT_TOKENS) == {"unknown": 0}
    assert counted(t, sc.METRIC_USAGE_CACHE_WRITE_INPUT_TOKENS) == {"unknown": 0}  # not reported: 0
    assert counted(t, sc.METRIC_USAGE_REASONING_OUTPUT_TOKENS) == {"unknown": 0}
    (per_input,) = t.metric_points(sc.METRIC_OPERATION_INPUT_TOKENS)
    (per_output,) = t.metric_points(sc.METRIC_OPERATION_OUTPUT_TOKENS)
    assert (per_input.sum, per_output.sum) == (24, 8)
    assert dict(per_input.attributes) == BASE
    assert list(per_input.explicit_bounds) == EXPECTED_TOKEN_BUCKETS
    assert all(t.metric_points(name) == [] for name in DEFAULT_NAMES)
    found = metrics_by_name(t)
    assert {name: found[name].unit for name in LATEST_INFERENCE} == {
        sc.METRIC_INFERENCE_DURATION: "s", **{name: "{token}" for name in LATEST_INFERENCE[1:]}}
    assert {type(found[name].data).__name__ for name in LATEST_INFERENCE[1:6]} == {"Sum"}
    assert all(found[name].data.is_monotonic for name in LATEST_INFERENCE[1:6])


async def test_latest_modality_splits(latest: Any, async_client: bool) -> None:
    """Reported splits are counted under their modality and only the rest under `unknown`; cached, cache
    write and reasoning counts land on their own counters."""
    t = latest()
    usage = {"prompt_tokens": 30, "completion_tokens": 8, "total_tokens": 38,
             "prompt_tokens_details": {"cached_tokens": 10, "cache_write_tokens": 6, "audio_tokens": 4,
                                       "text_tokens": 20},
             "completion_tokens_details": {"reasoning_tokens": 2, "audio_tokens": 5, "text_tokens": 3}}
    client = make_client(chat_with_usage(usage), async_client=async_client)
    await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    assert counted(t, sc.METRIC_USAGE_INPUT_TOKENS) == {"text": 20, "audio": 4, "unknown": 6}
    assert counted(t, sc.METRIC_USAGE_OUTPUT_TOKENS) == {"text": 3, "audio": 5}
    assert counted(t, sc.METRIC_USAGE_CACHE_READ_INPUT_TOKENS) == {"unknown": 10}
    assert counted(t, sc.METRIC_USAGE_CACHE_WRITE_INPUT_TOKENS) == {"unknown": 6}
    assert counted(t, sc.METRIC_USAGE_REASONING_OUTPUT_TOKENS) == {"unknown": 2}
    span = t.only_span()
    assert (span.attributes[sc.USAGE_TEXT_INPUT_TOKENS], span.attributes[sc.USAGE_AUDIO_OUTPUT_TOKENS]) == (20, 5)


async def test_latest_failure_metrics(latest: Any, async_client: bool) -> None:
    """Opted in, a failed call still records its tokens: 0 `unknown` on every counter (no error.type there)
    and 0 on the per-operation histograms, which carry error.type like the duration."""
    t = latest()
    client = make_client(lambda r: json_response(fixture_json("chat/rate_limit_error.json"), status=429),
                         async_client=async_client)
    with pytest.raises(openai.RateLimitError):
        await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    failed = {sc.OPERATION_NAME: "chat", sc.PROVIDER_NAME: "openai", sc.REQUEST_MODEL: "gpt-4o-mini",
              sc.SERVER_ADDRESS: "openai.test", sc.SERVER_PORT: 8080, sc.ERROR_TYPE: "openai.RateLimitError"}
    (duration,) = t.metric_points(sc.METRIC_INFERENCE_DURATION)
    assert dict(duration.attributes) == failed
    for name in LATEST_INFERENCE[1:6]:
        (point,) = t.metric_points(name)
        assert point.value == 0
        assert dict(point.attributes) == {**{k: v for k, v in failed.items() if k != sc.ERROR_TYPE},
                                          sc.TOKEN_MODALITY: "unknown"}
    for name in LATEST_INFERENCE[6:]:
        (point,) = t.metric_points(name)
        assert (point.sum, dict(point.attributes)) == (0, failed)


async def test_latest_failed_stream_keeps_its_usage(latest: Any, async_client: bool, clock: Clock) -> None:
    """A stream that fails after its usage chunk counts the usage it received (the conventions record
    failures too), where the default names record none."""
    t = latest(time_per_chunk_metric=True)
    await _stream_failing_after_usage(async_client, clock)
    assert counted(t, sc.METRIC_USAGE_INPUT_TOKENS) == {"unknown": 24}
    (duration,) = t.metric_points(sc.METRIC_INFERENCE_DURATION)
    assert sc.ERROR_TYPE in duration.attributes
    (ttfc,) = t.metric_points(sc.METRIC_INFERENCE_TIME_TO_FIRST_CHUNK)
    assert sc.ERROR_TYPE not in ttfc.attributes
    assert t.metric_points(sc.METRIC_INFERENCE_TIME_PER_OUTPUT_CHUNK)[0].count > 0
    assert t.metric_points(sc.METRIC_TIME_TO_FIRST_CHUNK) == []


async def test_latest_embeddings_metrics(latest: Any, async_client: bool) -> None:
    """Opted in, embeddings record gen_ai.client.embeddings.duration and .operation.input_tokens, and no
    inference metric."""
    t = latest()
    client = make_client(lambda r: json_response(fixture_json("embeddings/float.json")), async_client=async_client)
    await resolve(client.embeddings.create(model="text-embedding-3-small", input="hi", encoding_format="float"))
    (duration,) = t.metric_points(sc.METRIC_EMBEDDINGS_DURATION)
    assert duration.attributes[sc.OPERATION_NAME] == "embeddings"
    (tokens,) = t.metric_points(sc.METRIC_EMBEDDINGS_INPUT_TOKENS)
    assert tokens.sum == 7
    assert list(tokens.explicit_bounds) == EXPECTED_TOKEN_BUCKETS
    assert all(t.metric_points(name) == [] for name in (*LATEST_INFERENCE, *DEFAULT_NAMES))


async def test_default_mode_keeps_todays_names(instrument: Any, async_client: bool) -> None:
    """Without the opt-in only today's names exist: no inference, usage or embeddings instrument at all,
    and the meter states the v1.41.1 schema its names come from."""
    t = instrument()
    client = make_client(lambda r: json_response(fixture_json("chat/plain.json")), async_client=async_client)
    await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    data = t.metric_reader.get_metrics_data()
    scopes = [sm for rm in data.resource_metrics for sm in rm.scope_metrics if sm.scope.name == "otel_openai"]
    assert {m.name for sm in scopes for m in sm.metrics} == {sc.METRIC_OPERATION_DURATION, sc.METRIC_TOKEN_USAGE}
    assert {sm.scope.schema_url for sm in scopes} == {sc.LEGACY_METRICS_SCHEMA_URL}


async def test_latest_mode_states_the_genai_schema(latest: Any) -> None:
    """Opted in, the meter states the GenAI conventions' schema URL, as the tracer always does."""
    t = latest()
    make_client(lambda r: json_response(fixture_json("chat/plain.json"))).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES)
    data = t.metric_reader.get_metrics_data()
    assert {sm.scope.schema_url for rm in data.resource_metrics for sm in rm.scope_metrics} == {sc.SCHEMA_URL}
    assert t.only_span().instrumentation_scope.schema_url == sc.SCHEMA_URL


async def _stream_failing_after_usage(async_client: bool, clock: Clock) -> int:
    """Reads a chat stream whose every data event (the usage chunk included) arrives, one clock second
    apart, and whose connection then drops instead of sending [DONE]; returns the number of events."""
    text = fixture_text("chat/stream_usage.sse")
    events = len([e for e in text.split("\n\n") if e.strip()])
    body = LazyBody(text, on_event=lambda i: setattr(clock, "now", clock.now + 1), fail_after=events - 1)
    client = make_client(lambda r: body.response(async_client), async_client=async_client)
    stream = await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True,
                                                          stream_options={"include_usage": True}))
    with pytest.raises(Exception):  # noqa: B017 - the type differs by SDK major; test_streams pins it
        [c async for c in stream] if async_client else list(stream)
    return events
