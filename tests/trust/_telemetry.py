"""A reusable in-memory pipeline for ``@given`` tests, which cannot use function-scoped fixtures."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from opentelemetry._logs import get_logger
from opentelemetry.metrics import get_meter
from opentelemetry.trace import get_tracer

from otel_openai._config import Settings
from otel_openai._invocation import Telemetry as InvocationTelemetry
from otel_openai._metrics import Metrics
from tests.conftest import Telemetry, json_response, make_client
from tests.trust._support import attribute_problems, is_json_text, log_attribute_problems


class FuzzPipeline(Telemetry):
    """In-memory pipelines plus a client, reused across hypothesis examples."""

    def __init__(self) -> None:
        super().__init__()
        self.client = make_client(lambda request: json_response({}))
        self._tracer = get_tracer("fuzz", tracer_provider=self.tracer_provider)
        self._metrics = Metrics(get_meter("fuzz", meter_provider=self.meter_provider))
        self._events = get_logger("fuzz", logger_provider=self.logger_provider)

    def telemetry(self, settings: Settings) -> InvocationTelemetry:
        return InvocationTelemetry(self._tracer, self._metrics, self._events, settings)

    def reset(self) -> None:
        self.spans.clear()
        self.logs.clear()

    def check(self, content_keys: Iterable[str]) -> None:
        """Exactly one span; every span, span-event and log-record attribute valid; content is JSON."""
        span = self.only_span()
        problems = attribute_problems(span.attributes)
        for event in span.events:
            problems += attribute_problems(event.attributes)
        for record in self.log_records():
            problems += log_attribute_problems(record.attributes)
        assert problems == []
        for key in content_keys:
            value: Any = span.attributes.get(key)
            assert value is None or is_json_text(value), key
