"""Settings: content-capture modes, env-var parsing, and keyword arguments beating the environment."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from otel_openai import _config
from otel_openai import _semconv as sc
from otel_openai._config import ContentCapture, Settings, parse_capture, resolve
from tests.conftest import fixture_json, json_response, make_client

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.mark.parametrize(("raw", "expected"), [
    ("NO_CONTENT", ContentCapture.NO_CONTENT),
    ("SPAN_ONLY", ContentCapture.SPAN_ONLY),
    ("event_only", ContentCapture.EVENT_ONLY),
    (" Span_And_Event ", ContentCapture.SPAN_AND_EVENT),
    ("true", ContentCapture.SPAN_ONLY),
    ("TRUE", ContentCapture.SPAN_ONLY),
    ("false", ContentCapture.NO_CONTENT),
    (True, ContentCapture.SPAN_ONLY),
    (False, ContentCapture.NO_CONTENT),
    (None, ContentCapture.NO_CONTENT),
    (ContentCapture.EVENT_ONLY, ContentCapture.EVENT_ONLY),
])
def test_parse_capture(raw: Any, expected: ContentCapture) -> None:
    """Modes are case-insensitive; true/false are the older instrumentations' booleans."""
    assert parse_capture(raw) is expected


def test_garbage_warns_once(caplog: Any, monkeypatch: Any) -> None:
    """An unknown mode means no content and warns once, not on every call."""
    monkeypatch.setattr(_config, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="otel_openai._config"):
        assert parse_capture("yes please") is ContentCapture.NO_CONTENT
        assert parse_capture("yes please") is ContentCapture.NO_CONTENT
    warnings = [r for r in caplog.records if "yes please" in r.getMessage()]
    assert len(warnings) == 1
    assert _config.ENV_CAPTURE_CONTENT in warnings[0].getMessage()


@pytest.mark.parametrize(("mode", "on_span", "on_event"), [
    (ContentCapture.NO_CONTENT, False, False),
    (ContentCapture.SPAN_ONLY, True, False),
    (ContentCapture.EVENT_ONLY, False, True),
    (ContentCapture.SPAN_AND_EVENT, True, True),
])
def test_derived_flags(mode: ContentCapture, on_span: bool, on_event: bool) -> None:
    """Each mode sets exactly the flags the hot path reads."""
    settings = Settings(capture=mode)
    assert (settings.content_on_span, settings.content_on_event, settings.capture_content) == \
        (on_span, on_event, on_span or on_event)


def test_defaults_from_empty_env() -> None:
    """With nothing set, no content is captured and chunk events are off."""
    settings = resolve(env={})
    assert settings.capture is ContentCapture.NO_CONTENT
    assert settings.stream_chunk_events == 0
    assert settings.time_per_chunk_metric is False
    assert settings.capture_media is False
    assert settings.max_content_length == _config.DEFAULT_MAX_CONTENT_LENGTH
    assert settings.provider_name is None
    assert settings.latest_metrics is False


def test_env_values() -> None:
    """Every setting can come from its environment variable."""
    settings = resolve(env={
        _config.ENV_CAPTURE_CONTENT: "span_and_event", _config.ENV_PROVIDER_NAME: "groq",
        _config.ENV_MAX_CONTENT_LENGTH: "100", _config.ENV_CAPTURE_MEDIA: "true",
        _config.ENV_STREAM_CHUNK_EVENTS: "5", _config.ENV_CHUNK_METRIC: "false",
    })
    assert (settings.capture, settings.provider_name, settings.max_content_length, settings.capture_media,
            settings.stream_chunk_events, settings.time_per_chunk_metric) == \
        (ContentCapture.SPAN_AND_EVENT, "groq", 100, True, 5, False)


def test_bad_numbers_fall_back(caplog: Any) -> None:
    """A non-numeric limit warns and keeps the default; a negative one is treated as zero."""
    with caplog.at_level(logging.WARNING, logger="otel_openai._config"):
        settings = resolve(env={_config.ENV_MAX_CONTENT_LENGTH: "lots", _config.ENV_STREAM_CHUNK_EVENTS: "-3"})
    assert settings.max_content_length == _config.DEFAULT_MAX_CONTENT_LENGTH
    assert settings.stream_chunk_events == 0
    assert any("lots" in r.getMessage() for r in caplog.records)


def test_kwargs_beat_env() -> None:
    """Keyword arguments win over the environment, including falsy ones."""
    env = {_config.ENV_CAPTURE_CONTENT: "SPAN_AND_EVENT", _config.ENV_STREAM_CHUNK_EVENTS: "9",
           _config.ENV_CAPTURE_MEDIA: "true", _config.ENV_MAX_CONTENT_LENGTH: "10"}
    settings = resolve(env=env, capture_content="NO_CONTENT", stream_chunk_events=0, capture_media=False,
                       max_content_length=0)
    assert (settings.capture, settings.stream_chunk_events, settings.capture_media,
            settings.max_content_length) == (ContentCapture.NO_CONTENT, 0, False, 0)


def test_current_follows_instrumentation(instrument: Any) -> None:
    """``current()`` is the instrumentor's settings while instrumented, the environment's afterwards."""
    from otel_openai import OpenAIInstrumentor

    instrument(capture_content="EVENT_ONLY")
    assert _config.current().capture is ContentCapture.EVENT_ONLY
    OpenAIInstrumentor().uninstrument()
    assert _config.current() is not None
    assert _config._active is None


# --- end to end -------------------------------------------------------------------------------------------


def _chat(t: Any) -> Any:
    client = make_client(lambda r: json_response(fixture_json("chat/plain.json")))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    return t.only_span(), t.log_records()


@pytest.mark.parametrize(("env", "on_span", "on_event"), [
    ("SPAN_ONLY", True, False),
    ("event_only", False, True),
    ("SPAN_AND_EVENT", True, True),
    ("true", True, False),
    ("false", False, False),
    ("garbage", False, False),
])
def test_env_var_end_to_end(instrument: Any, monkeypatch: Any, env: str, on_span: bool, on_event: bool) -> None:
    """The environment variable, read at ``instrument()``, decides where content goes."""
    monkeypatch.setattr(_config, "_warned", set())
    monkeypatch.setenv(_config.ENV_CAPTURE_CONTENT, env)
    span, records = _chat(instrument())
    assert (sc.INPUT_MESSAGES in span.attributes) is on_span
    assert (sc.OUTPUT_MESSAGES in span.attributes) is on_span
    details = [r for r in records if r.event_name == sc.EVENT_OPERATION_DETAILS]
    assert len(details) == (1 if on_event else 0)
    if on_span:
        assert json.loads(span.attributes[sc.INPUT_MESSAGES])[0]["parts"][0]["content"] == MESSAGES[0]["content"]


def test_kwarg_beats_env_end_to_end(instrument: Any, monkeypatch: Any) -> None:
    """``instrument(capture_content=...)`` beats the environment variable."""
    monkeypatch.setenv(_config.ENV_CAPTURE_CONTENT, "SPAN_AND_EVENT")
    span, records = _chat(instrument(capture_content="NO_CONTENT"))
    assert sc.INPUT_MESSAGES not in span.attributes
    assert records == []


def test_kwarg_enables_despite_env(instrument: Any, monkeypatch: Any) -> None:
    """A capture mode passed to ``instrument()`` applies even when the environment says false."""
    monkeypatch.setenv(_config.ENV_CAPTURE_CONTENT, "false")
    span, records = _chat(instrument(capture_content=ContentCapture.SPAN_ONLY))
    assert sc.INPUT_MESSAGES in span.attributes
    assert records == []


def test_semconv_opt_in_changes_metrics_only(instrument: Any, monkeypatch: Any) -> None:
    """``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental`` switches the metric names; the span is
    the same latest-conventions span as without it."""
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    t = instrument()
    span, _ = _chat(t)
    assert span.attributes[sc.PROVIDER_NAME] == "openai"
    assert "gen_ai.system" not in span.attributes
    assert len(t.metric_points(sc.METRIC_INFERENCE_DURATION)) == 1
    assert t.metric_points(sc.METRIC_OPERATION_DURATION) == []


@pytest.mark.parametrize(("raw", "latest"), [
    ("", False),
    ("http", False),
    ("gen_ai_latest_experimental", True),
    ("http, GEN_AI_LATEST_EXPERIMENTAL ,database", True),
    ("gen_ai_latest_experimental_x", False),
    ("gen_ai", False),
])
def test_semconv_opt_in_parsing(raw: str, latest: bool) -> None:
    """The opt-in is a comma-separated list, as in every OpenTelemetry instrumentation; only the exact
    gen_ai_latest_experimental entry (any case, any spaces) selects the newest metrics."""
    assert resolve(env={_config.ENV_SEMCONV_OPT_IN: raw}).latest_metrics is latest


def test_env_read_once_at_instrument(instrument: Any, monkeypatch: Any) -> None:
    """Changing the environment after ``instrument()`` changes nothing: settings are resolved once."""
    monkeypatch.delenv(_config.ENV_CAPTURE_CONTENT, raising=False)
    t = instrument()
    monkeypatch.setenv(_config.ENV_CAPTURE_CONTENT, "SPAN_AND_EVENT")
    span, records = _chat(t)
    assert sc.INPUT_MESSAGES not in span.attributes
    assert records == []


def test_count_kwargs_are_clamped(caplog: Any) -> None:
    """A negative count means zero, and a non-number keeps the default instead of failing ``instrument()``."""
    assert resolve(env={}, stream_chunk_events=-1).stream_chunk_events == 0
    assert resolve(env={}, max_content_length=-5).max_content_length == 0
    with caplog.at_level(logging.WARNING, logger="otel_openai._config"):
        assert resolve(env={}, stream_chunk_events="lots").stream_chunk_events == 0
    assert resolve(env={}, stream_chunk_events=3).stream_chunk_events == 3


def test_negative_chunk_event_limit_adds_no_events(instrument: Any) -> None:
    """``stream_chunk_events=-1`` adds no chunk events rather than one per chunk without limit."""
    from tests.conftest import sse_fixture

    t = instrument(stream_chunk_events=-1)
    client = make_client(lambda r: sse_fixture("chat/stream_usage.sse"))
    list(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert t.only_span().events == ()


@pytest.mark.parametrize(("env", "kwarg", "expected"), [
    ({}, None, True),
    ({_config.ENV_AGENTS_SDK: "false"}, None, False),
    ({_config.ENV_AGENTS_SDK: "false"}, True, True),
    ({}, False, False),
])
def test_agents_sdk_switch(env: dict[str, str], kwarg: Any, expected: bool) -> None:
    """Agents SDK tracing is on by default; the env var turns it off and ``agents_sdk=`` beats the env."""
    assert resolve(env, **({} if kwarg is None else {"agents_sdk": kwarg})).agents_sdk is expected
def test_user_speech_spans_setting() -> None:
    """user_speech spans are off by default, on from the env var, and an argument beats the env var."""
    assert _config.resolve(env={}).user_speech_spans is False
    env = {_config.ENV_USER_SPEECH_SPANS: "true"}
    assert _config.resolve(env=env).user_speech_spans is True
    assert _config.resolve(env=env, user_speech_spans=False).user_speech_spans is False
