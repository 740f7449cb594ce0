"""Settings resolved once, in ``instrument()``: keyword arguments beat environment variables."""

from __future__ import annotations

import dataclasses
import enum
import logging
import os
from collections.abc import Mapping
from typing import Any, Optional, Union

_logger = logging.getLogger(__name__)

ENV_CAPTURE_CONTENT = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
ENV_PROVIDER_NAME = "OTEL_INSTRUMENTATION_OPENAI_PROVIDER_NAME"
ENV_MAX_CONTENT_LENGTH = "OTEL_INSTRUMENTATION_OPENAI_MAX_CONTENT_LENGTH"
ENV_CAPTURE_MEDIA = "OTEL_INSTRUMENTATION_OPENAI_CAPTURE_MEDIA"
ENV_STREAM_CHUNK_EVENTS = "OTEL_INSTRUMENTATION_OPENAI_STREAM_CHUNK_EVENTS"
ENV_CHUNK_METRIC = "OTEL_INSTRUMENTATION_OPENAI_TIME_PER_CHUNK_METRIC"
ENV_USER_SPEECH_SPANS = "OTEL_INSTRUMENTATION_OPENAI_USER_SPEECH_SPANS"

DEFAULT_MAX_CONTENT_LENGTH = 32_768


class ContentCapture(enum.Enum):
    """Where prompt and completion content may go; nothing is captured by default."""

    NO_CONTENT = "NO_CONTENT"
    SPAN_ONLY = "SPAN_ONLY"
    EVENT_ONLY = "EVENT_ONLY"
    SPAN_AND_EVENT = "SPAN_AND_EVENT"


# Older instrumentations took a boolean; their users keep working.
_CAPTURE_ALIASES = {"TRUE": ContentCapture.SPAN_ONLY, "FALSE": ContentCapture.NO_CONTENT}
_warned: set[str] = set()


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything the hot path needs to know, computed once."""

    capture: ContentCapture = ContentCapture.NO_CONTENT
    provider_name: Optional[str] = None
    max_content_length: int = DEFAULT_MAX_CONTENT_LENGTH
    capture_media: bool = False
    stream_chunk_events: int = 0
    # Off by default: one histogram point per chunk costs more than everything else we do per stream
    # (see benchmarks/README.md); users who chart inter-chunk latency turn it on.
    time_per_chunk_metric: bool = False
    # Opt-in, as the conventions make it: a realtime session's user_speech span per utterance its server VAD
    # detects (input_audio_buffer.speech_started -> speech_stopped).
    user_speech_spans: bool = False
    # Derived flags, so the hot path reads one attribute instead of comparing enums.
    content_on_span: bool = dataclasses.field(init=False)
    content_on_event: bool = dataclasses.field(init=False)
    capture_content: bool = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        on_span = self.capture in (ContentCapture.SPAN_ONLY, ContentCapture.SPAN_AND_EVENT)
        on_event = self.capture in (ContentCapture.EVENT_ONLY, ContentCapture.SPAN_AND_EVENT)
        object.__setattr__(self, "content_on_span", on_span)
        object.__setattr__(self, "content_on_event", on_event)
        object.__setattr__(self, "capture_content", on_span or on_event)


def parse_capture(value: Union[str, bool, ContentCapture, None]) -> ContentCapture:
    """Read a capture mode from an argument or env var; unknown values warn once and mean no content."""
    if value is None:
        return ContentCapture.NO_CONTENT
    if isinstance(value, ContentCapture):
        return value
    if isinstance(value, bool):
        return ContentCapture.SPAN_ONLY if value else ContentCapture.NO_CONTENT
    key = value.strip().upper()
    if key in _CAPTURE_ALIASES:
        return _CAPTURE_ALIASES[key]
    try:
        return ContentCapture(key)
    except ValueError:
        _warn_once(value)
        return ContentCapture.NO_CONTENT


def _warn_once(value: str) -> None:
    if value not in _warned:
        _warned.add(value)
        _logger.warning("%s=%r is not a known mode; capturing no content", ENV_CAPTURE_CONTENT, value)


def _env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return max(int(raw), 0)
    except ValueError:
        _logger.warning("%s=%r is not a whole number; using %d", name, raw, default)
        return default


def _whole(value: Any, default: int) -> int:
    """A count passed to ``instrument()``: negatives mean zero (a negative chunk-event limit would otherwise
    never run out), and a value that is no number keeps the default rather than failing ``instrument()``."""
    try:
        return max(int(value), 0)
    except (TypeError, ValueError):
        _logger.warning("%r is not a whole number; using %d", value, default)
        return default


def _env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in ("1", "true", "yes", "on")


def resolve(env: Optional[Mapping[str, str]] = None, **kwargs: Any) -> Settings:
    """Build Settings from ``instrument()`` keyword arguments, falling back to the environment."""
    env = os.environ if env is None else env
    capture = kwargs.get("capture_content")
    provider = kwargs.get("provider_name")
    max_len = kwargs.get("max_content_length")
    media = kwargs.get("capture_media")
    chunk_events = kwargs.get("stream_chunk_events")
    chunk_metric = kwargs.get("time_per_chunk_metric")
    speech_spans = kwargs.get("user_speech_spans")
    return Settings(
        capture=parse_capture(capture if capture is not None else env.get(ENV_CAPTURE_CONTENT)),
        provider_name=provider if provider is not None else (env.get(ENV_PROVIDER_NAME) or None),
        max_content_length=(
            _whole(max_len, DEFAULT_MAX_CONTENT_LENGTH) if max_len is not None
            else _env_int(env, ENV_MAX_CONTENT_LENGTH, DEFAULT_MAX_CONTENT_LENGTH)
        ),
        capture_media=media if media is not None else _env_bool(env, ENV_CAPTURE_MEDIA, False),
        stream_chunk_events=(
            _whole(chunk_events, 0) if chunk_events is not None else _env_int(env, ENV_STREAM_CHUNK_EVENTS, 0)
        ),
        time_per_chunk_metric=(
            chunk_metric if chunk_metric is not None else _env_bool(env, ENV_CHUNK_METRIC, False)
        ),
        user_speech_spans=(
            speech_spans if speech_spans is not None else _env_bool(env, ENV_USER_SPEECH_SPANS, False)
        ),
    )


_active: Optional[Settings] = None
_from_env: Optional[Settings] = None


def activate(settings: Optional[Settings]) -> None:
    """Make ``settings`` current (``None`` on uninstrument, so decorators fall back to the env)."""
    global _active
    _active = settings


def current() -> Settings:
    """The settings in force: the instrumentor's if active, else the environment's (read once)."""
    global _from_env
    if _active is not None:
        return _active
    if _from_env is None:
        _from_env = resolve()
    return _from_env
