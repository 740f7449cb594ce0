"""The GenAI client metrics: instruments with bucket advice, recorded with allow-listed attributes only."""

from __future__ import annotations

from typing import Optional

from opentelemetry.metrics import Histogram, Meter
from opentelemetry.util.types import AttributeValue

from otel_openai import _semconv as sc

Attributes = dict[str, AttributeValue]

# Bucket advice from the GenAI metric conventions.
DURATION_BUCKETS = tuple(0.01 * 2**i for i in range(14))  # 0.01 … 81.92 s
TOKEN_BUCKETS = tuple(4**i for i in range(14))  # 1 … 67108864


class Metrics:
    """The four GenAI client histograms of one meter."""

    def __init__(self, meter: Meter) -> None:
        self.duration = _histogram(meter, sc.METRIC_OPERATION_DURATION, "s", DURATION_BUCKETS,
                                   "GenAI operation duration.")
        self.token_usage = _histogram(meter, sc.METRIC_TOKEN_USAGE, "{token}", TOKEN_BUCKETS,
                                      "Number of input and output tokens used.")
        self.time_to_first_chunk = _histogram(meter, sc.METRIC_TIME_TO_FIRST_CHUNK, "s", DURATION_BUCKETS,
                                              "Time from the request to the first streamed chunk.")
        self.time_per_output_chunk = _histogram(meter, sc.METRIC_TIME_PER_OUTPUT_CHUNK, "s",
                                                DURATION_BUCKETS, "Time between streamed chunks.")

    def record_end(self, attributes: Attributes, duration: float, input_tokens: Optional[int],
                   output_tokens: Optional[int], failed: bool) -> None:
        """Record the per-call points: duration always, token usage only on success and when known."""
        self.duration.record(duration, attributes)
        if failed:
            return
        if input_tokens is not None:
            self.token_usage.record(input_tokens, {**attributes, sc.TOKEN_TYPE: sc.TOKEN_TYPE_INPUT})
        if output_tokens is not None:
            self.token_usage.record(output_tokens, {**attributes, sc.TOKEN_TYPE: sc.TOKEN_TYPE_OUTPUT})


def _histogram(meter: Meter, name: str, unit: str, buckets: tuple[float, ...], description: str) -> Histogram:
    return meter.create_histogram(name, unit=unit, description=description,
                                  explicit_bucket_boundaries_advisory=list(buckets))


def metric_attributes(span_attributes: Attributes) -> Attributes:
    """Keep only the low-cardinality attributes the metric conventions allow."""
    return {k: v for k, v in span_attributes.items() if k in sc.METRIC_ATTRIBUTE_ALLOW_LIST}
