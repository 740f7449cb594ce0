"""OpenTelemetry instrumentation for the OpenAI Python SDK, following the GenAI semantic conventions."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry._logs import get_logger
from opentelemetry.instrumentation.instrumentor import BaseInstrumentor  # type: ignore[attr-defined]
from opentelemetry.metrics import get_meter
from opentelemetry.trace import get_tracer

from otel_openai import _agents_sdk, _config, _wrap
from otel_openai._agents import run_tool_call, trace_agent, trace_tool
from otel_openai._config import ContentCapture
from otel_openai._invocation import Telemetry
from otel_openai._metrics import Metrics
from otel_openai._semconv import LEGACY_METRICS_SCHEMA_URL, SCHEMA_URL
from otel_openai._upload import MediaContent, MediaUploader
from otel_openai.package import _instruments
from otel_openai.version import __version__

__all__ = ["ContentCapture", "MediaContent", "MediaUploader", "OpenAIInstrumentor", "__version__", "run_tool_call",
           "trace_agent", "trace_tool"]


class OpenAIInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Traces every OpenAI SDK call as a GenAI span, with the GenAI client metrics and events.

    ``instrument()`` accepts ``tracer_provider``, ``meter_provider``, ``logger_provider`` and the settings
    documented in docs/configuration.md (``capture_content``, ``provider_name``, ``max_content_length``,
    ``capture_media``, ``stream_chunk_events``, ``time_per_chunk_metric``, ``agents_sdk``, ``upload_hook``,
    ``user_speech_spans``); arguments beat env vars.
    """

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        settings = _config.resolve(**kwargs)
        telemetry = Telemetry(
            tracer=get_tracer(__name__, __version__, kwargs.get("tracer_provider"), schema_url=SCHEMA_URL),
            metrics=Metrics(get_meter(__name__, __version__, kwargs.get("meter_provider"),
                                      schema_url=SCHEMA_URL if settings.latest_metrics
                                      else LEGACY_METRICS_SCHEMA_URL),
                            latest=settings.latest_metrics),
            events=get_logger(__name__, __version__, kwargs.get("logger_provider"), schema_url=SCHEMA_URL),
            settings=settings,
        )
        if _wrap.install(telemetry):
            _config.activate(settings)
            if settings.agents_sdk:
                _agents_sdk.install(telemetry)

    def _uninstrument(self, **kwargs: Any) -> None:
        _agents_sdk.uninstall()
        _wrap.uninstall()
        _config.activate(None)
