"""Settings resolved once, in ``instrument()``: keyword arguments beat environment variables."""

from __future__ import annotations

import dataclasses
import enum
import importlib
import logging
import os
from collections.abc import Mapping
from typing import Any, Callable, Optional, Union

from otel_openai import _semconv as sc

_logger = logging.getLogger(__name__)

ENV_CAPTURE_CONTENT = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
ENV_PROVIDER_NAME = "OTEL_INSTRUMENTATION_OPENAI_PROVIDER_NAME"
ENV_MAX_CONTENT_LENGTH = "OTEL_INSTRUMENTATION_OPENAI_MAX_CONTENT_LENGTH"
ENV_CAPTURE_MEDIA = "OTEL_INSTRUMENTATION_OPENAI_CAPTURE_MEDIA"
ENV_STREAM_CHUNK_EVENTS = "OTEL_INSTRUMENTATION_OPENAI_STREAM_CHUNK_EVENTS"
ENV_CHUNK_METRIC = "OTEL_INSTRUMENTATION_OPENAI_TIME_PER_CHUNK_METRIC"
# OpenTelemetry's own switch: a comma-separated list; ``gen_ai_latest_experimental`` selects the newest metric
# names and shapes (see _metrics.py).
ENV_SEMCONV_OPT_IN = "OTEL_SEMCONV_STABILITY_OPT_IN"
ENV_AGENTS_SDK = "OTEL_INSTRUMENTATION_OPENAI_AGENTS_SDK"
# The content upload hook: ``package.module:attribute`` naming the callable, or a directory / fsspec URL for the
# shipped MediaUploader. Our own names: util-genai's OTEL_INSTRUMENTATION_GENAI_COMPLETION_HOOK /
# _UPLOAD_BASE_PATH upload whole completions, and ours hands over media only.
ENV_UPLOAD_HOOK = "OTEL_INSTRUMENTATION_OPENAI_UPLOAD_HOOK"
ENV_UPLOAD_BASE_PATH = "OTEL_INSTRUMENTATION_OPENAI_UPLOAD_BASE_PATH"
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
    # False: today's metric names (gen_ai.client.operation.duration, gen_ai.client.token.usage, ...), which
    # dashboards key on; True: the newest ones, opted into with OTEL_SEMCONV_STABILITY_OPT_IN.
    latest_metrics: bool = False
    # Trace OpenAI Agents SDK runs (workflow, agent, tool spans) when ``openai-agents`` is installed.
    agents_sdk: bool = True
    # ``hook(MediaContent) -> uri or None`` (otel_openai._upload.UploadHook): media in captured content
    # becomes a ``uri`` part with the reference it returns.
    upload_hook: Optional[Callable[[Any], Optional[str]]] = None
    # Opt-in, as the conventions make it: a realtime session's user_speech span per utterance its server VAD
    # detects (input_audio_buffer.speech_started -> speech_stopped).
    user_speech_spans: bool = False
    # Derived flags, so the hot path reads one attribute instead of comparing enums.
    content_on_span: bool = dataclasses.field(init=False)
    content_on_event: bool = dataclasses.field(init=False)
    capture_content: bool = dataclasses.field(init=False)
    # Whether the mapping keeps media bytes in parts: to export them, or to hand them to the upload hook.
    map_media: bool = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        on_span = self.capture in (ContentCapture.SPAN_ONLY, ContentCapture.SPAN_AND_EVENT)
        on_event = self.capture in (ContentCapture.EVENT_ONLY, ContentCapture.SPAN_AND_EVENT)
        object.__setattr__(self, "content_on_span", on_span)
        object.__setattr__(self, "content_on_event", on_event)
        object.__setattr__(self, "capture_content", on_span or on_event)
        object.__setattr__(self, "map_media", self.capture_media or self.upload_hook is not None)


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


def _opted_in(env: Mapping[str, str]) -> bool:
    """Whether ``OTEL_SEMCONV_STABILITY_OPT_IN`` lists ``gen_ai_latest_experimental`` (case and spaces ignored)."""
    entries = env.get(ENV_SEMCONV_OPT_IN, "").lower().split(",")
    return any(entry.strip() == sc.OPT_IN_GEN_AI_LATEST for entry in entries)
def _upload_hook(value: Any, env: Mapping[str, str]) -> Optional[Callable[[Any], Optional[str]]]:
    """The ``upload_hook`` argument, else the callable named by the env var, else the shipped uploader for the
    base path. A value that cannot be used logs a warning and means no hook."""
    if value is not None:
        if callable(value):
            return value  # type: ignore[no-any-return]
        _logger.warning("upload_hook=%r is not callable; no upload hook", value)
        return None
    name = env.get(ENV_UPLOAD_HOOK, "").strip()
    base_path = env.get(ENV_UPLOAD_BASE_PATH, "").strip()
    try:
        if name:
            return _import_hook(name)
        if base_path:
            from otel_openai._upload import MediaUploader

            return MediaUploader(base_path)
    except Exception as exc:
        _logger.warning("%s: no upload hook (%s)", ENV_UPLOAD_HOOK if name else ENV_UPLOAD_BASE_PATH, exc)
    return None


def _import_hook(name: str) -> Callable[[Any], Optional[str]]:
    """``package.module:attribute`` (dots after the colon reach nested attributes) as a callable."""
    module, _, attribute = name.partition(":")
    found: Any = importlib.import_module(module)
    for part in attribute.split(".") if attribute else ():
        found = getattr(found, part)
    if not callable(found):
        raise TypeError(f"{name} is not callable")
    return found  # type: ignore[no-any-return]


def resolve(env: Optional[Mapping[str, str]] = None, **kwargs: Any) -> Settings:
    """Build Settings from ``instrument()`` keyword arguments, falling back to the environment."""
    env = os.environ if env is None else env
    capture = kwargs.get("capture_content")
    provider = kwargs.get("provider_name")
    max_len = kwargs.get("max_content_length")
    media = kwargs.get("capture_media")
    chunk_events = kwargs.get("stream_chunk_events")
    chunk_metric = kwargs.get("time_per_chunk_metric")
    agents_sdk = kwargs.get("agents_sdk")
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
        latest_metrics=_opted_in(env),
        agents_sdk=bool(agents_sdk) if agents_sdk is not None else _env_bool(env, ENV_AGENTS_SDK, True),
        upload_hook=_upload_hook(kwargs.get("upload_hook"), env),
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
