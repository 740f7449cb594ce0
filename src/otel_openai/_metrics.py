"""The GenAI metrics: instruments with bucket advice, recorded with allow-listed attributes only.

Two shapes, chosen once per ``instrument()`` (``Settings.latest_metrics``):

- default: the v1.41 names dashboards key on today: ``gen_ai.client.operation.duration``,
  ``gen_ai.client.token.usage`` (histogram by ``gen_ai.token.type``, success only), and the two streaming
  histograms under ``gen_ai.client.operation.*``;
- ``OTEL_SEMCONV_STABILITY_OPT_IN=gen_ai_latest_experimental``: the newest conventions. Inference
  (``chat``, ``text_completion``, ``generate_content``) records ``gen_ai.client.inference.duration`` and the
  streaming histograms under ``gen_ai.client.inference.*``, token usage as five counters by
  ``gen_ai.token.modality`` (recorded on failure too, as 0 ``unknown``) plus the per-operation token
  histograms; embeddings record ``gen_ai.client.embeddings.*``; other operations (``fetch_response``,
  ``retrieval``) keep ``gen_ai.client.operation.duration`` and report no tokens.

Agent and tool durations are the same in both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Optional

from opentelemetry.metrics import Counter, Histogram, Meter
from opentelemetry.util.types import AttributeValue

from otel_openai import _semconv as sc

Attributes = dict[str, AttributeValue]

# Bucket advice from the GenAI metric conventions.
DURATION_BUCKETS = tuple(0.01 * 2**i for i in range(14))  # 0.01 … 81.92 s
TOKEN_BUCKETS = tuple(4**i for i in range(14))  # 1 … 67108864
AGENT_DURATION_BUCKETS = tuple(0.1 * 2**i for i in range(13))  # 0.1 … 409.6 s: agents run longer

# The allow-list as a tuple: building a point's attributes walks it once (no dict merges).
_ALLOWED = tuple(sorted(sc.METRIC_ATTRIBUTE_ALLOW_LIST))
METRIC_ATTRIBUTES = _ALLOWED_SET = sc.METRIC_ATTRIBUTE_ALLOW_LIST
INFERENCE_OPERATIONS = frozenset({sc.OP_CHAT, sc.OP_TEXT_COMPLETION, sc.OP_GENERATE_CONTENT})

# Latest mode: (counter metric, total attribute, {modality: split attribute}) per token category. Splits are
# subsets of the total; whatever the splits do not cover is counted under ``unknown``.
_USAGE_COUNTERS = (
    (sc.METRIC_USAGE_INPUT_TOKENS, sc.USAGE_INPUT_TOKENS, (
        (sc.MODALITY_TEXT, sc.USAGE_TEXT_INPUT_TOKENS), (sc.MODALITY_IMAGE, sc.USAGE_IMAGE_INPUT_TOKENS),
        (sc.MODALITY_AUDIO, sc.USAGE_AUDIO_INPUT_TOKENS))),
    (sc.METRIC_USAGE_OUTPUT_TOKENS, sc.USAGE_OUTPUT_TOKENS, (
        (sc.MODALITY_TEXT, sc.USAGE_TEXT_OUTPUT_TOKENS), (sc.MODALITY_IMAGE, sc.USAGE_IMAGE_OUTPUT_TOKENS),
        (sc.MODALITY_AUDIO, sc.USAGE_AUDIO_OUTPUT_TOKENS))),
    (sc.METRIC_USAGE_CACHE_READ_INPUT_TOKENS, sc.USAGE_CACHE_READ_INPUT_TOKENS, (
        (sc.MODALITY_TEXT, sc.USAGE_TEXT_CACHE_READ_INPUT_TOKENS),
        (sc.MODALITY_IMAGE, sc.USAGE_IMAGE_CACHE_READ_INPUT_TOKENS),
        (sc.MODALITY_AUDIO, sc.USAGE_AUDIO_CACHE_READ_INPUT_TOKENS))),
    (sc.METRIC_USAGE_CACHE_WRITE_INPUT_TOKENS, sc.USAGE_CACHE_WRITE_INPUT_TOKENS, ()),
    (sc.METRIC_USAGE_REASONING_OUTPUT_TOKENS, sc.USAGE_REASONING_OUTPUT_TOKENS, ()),
)


def metric_attributes(start: Mapping[str, AttributeValue],
                      end: Optional[Mapping[str, AttributeValue]] = None) -> Attributes:
    """The allow-listed attributes of a call, ``end`` (response) winning over ``start`` (request), built in
    one walk of the allow-list rather than by merging the two dicts."""
    out: Attributes = {}
    for key in _ALLOWED:
        value = end.get(key) if end is not None else None
        if value is None:
            value = start.get(key)
        if value is not None:
            out[key] = value
    return out


def allowed(attrs: Mapping[str, AttributeValue]) -> Attributes:
    """The allow-listed, set attributes of ``attrs``: a call's start attributes, computed once per client and
    model (see ``with_end``)."""
    return {key: value for key, value in attrs.items() if key in _ALLOWED_SET and value is not None}


def with_end(start: Attributes, end: Mapping[str, AttributeValue]) -> Attributes:
    """``metric_attributes`` for a ``start`` that is already ``allowed()``: a copy, then the few allow-listed
    keys the response set (a set intersection in C instead of a walk of the allow-list)."""
    out = start.copy()
    for key in end.keys() & _ALLOWED_SET:
        value = end[key]
        if value is not None:
            out[key] = value
    return out


def _without_error(attrs: Attributes) -> Attributes:
    """Attributes for the instruments whose conventions carry no ``error.type``."""
    if sc.ERROR_TYPE not in attrs:
        return attrs
    return {k: v for k, v in attrs.items() if k != sc.ERROR_TYPE}


class Profile:
    """The instruments one operation records into, and how it records tokens."""

    __slots__ = ("duration", "time_per_output_chunk", "time_to_first_chunk")

    def __init__(self, duration: Histogram, time_to_first_chunk: Optional[Histogram],
                 time_per_output_chunk: Optional[Histogram]) -> None:
        self.duration = duration
        self.time_to_first_chunk = time_to_first_chunk
        self.time_per_output_chunk = time_per_output_chunk

    def record_end(self, attrs: Attributes, duration: float, usage: Mapping[str, AttributeValue],
                   failed: bool, ttfc: Optional[float] = None) -> None:
        """One call's points: the duration (``attrs`` carries ``error.type`` on failure), time to first
        chunk for streams, then the tokens."""
        self.duration.record(duration, attrs)
        if ttfc is not None and self.time_to_first_chunk is not None:
            self.time_to_first_chunk.record(ttfc, _without_error(attrs))
        self.record_tokens(attrs, usage, failed)

    def record_tokens(self, attrs: Attributes, usage: Mapping[str, AttributeValue], failed: bool) -> None:
        """No tokens (fetch_response, retrieval)."""


class LegacyProfile(Profile):
    """Default mode: ``gen_ai.client.token.usage`` per token type, on success and only when known."""

    __slots__ = ("token_usage",)

    def __init__(self, duration: Histogram, time_to_first_chunk: Histogram, time_per_output_chunk: Histogram,
                 token_usage: Histogram) -> None:
        super().__init__(duration, time_to_first_chunk, time_per_output_chunk)
        self.token_usage = token_usage

    def record_tokens(self, attrs: Attributes, usage: Mapping[str, AttributeValue], failed: bool) -> None:
        if failed:
            return
        input_tokens = usage.get(sc.USAGE_INPUT_TOKENS)
        if input_tokens is not None:
            typed = attrs.copy()
            typed[sc.TOKEN_TYPE] = sc.TOKEN_TYPE_INPUT
            self.token_usage.record(input_tokens, typed)  # type: ignore[arg-type]
        output_tokens = usage.get(sc.USAGE_OUTPUT_TOKENS)
        if output_tokens is not None:
            typed = attrs.copy()
            typed[sc.TOKEN_TYPE] = sc.TOKEN_TYPE_OUTPUT
            self.token_usage.record(output_tokens, typed)  # type: ignore[arg-type]


class InferenceProfile(Profile):
    """Latest mode, inference: usage counters by modality and the per-operation token histograms, for every
    call (0 and ``unknown`` when no usage arrived, failures included)."""

    __slots__ = ("counters", "input_tokens", "output_tokens")

    def __init__(self, duration: Histogram, time_to_first_chunk: Histogram, time_per_output_chunk: Histogram,
                 counters: tuple[Counter, ...], input_tokens: Histogram, output_tokens: Histogram) -> None:
        super().__init__(duration, time_to_first_chunk, time_per_output_chunk)
        self.counters = counters
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens

    def record_tokens(self, attrs: Attributes, usage: Mapping[str, AttributeValue], failed: bool) -> None:
        # The per-operation histograms share the duration's attributes (error.type included).
        self.input_tokens.record(usage.get(sc.USAGE_INPUT_TOKENS) or 0, attrs)  # type: ignore[arg-type]
        self.output_tokens.record(usage.get(sc.USAGE_OUTPUT_TOKENS) or 0, attrs)  # type: ignore[arg-type]
        base = _without_error(attrs)
        by_modality: dict[str, Attributes] = {}  # one attribute dict per modality, shared by the counters
        for counter, (_, total_key, splits) in zip(self.counters, _USAGE_COUNTERS):
            total = usage.get(total_key)
            remainder = total if isinstance(total, int) else 0
            for modality, key in splits:
                count = usage.get(key)
                if isinstance(count, int) and count > 0:
                    counter.add(count, _modality(by_modality, base, modality))
                    remainder -= count
            if remainder > 0 or total is None or remainder == total:
                counter.add(max(remainder, 0), _modality(by_modality, base, sc.MODALITY_UNKNOWN))


def _modality(cache: dict[str, Attributes], base: Attributes, modality: str) -> Attributes:
    attrs = cache.get(modality)
    if attrs is None:
        attrs = base.copy()
        attrs[sc.TOKEN_MODALITY] = modality
        cache[modality] = attrs
    return attrs


class EmbeddingsProfile(Profile):
    """Latest mode, embeddings: ``gen_ai.client.embeddings.operation.input_tokens`` when the count is known."""

    __slots__ = ("input_tokens",)

    def __init__(self, duration: Histogram, input_tokens: Histogram) -> None:
        super().__init__(duration, None, None)
        self.input_tokens = input_tokens

    def record_tokens(self, attrs: Attributes, usage: Mapping[str, AttributeValue], failed: bool) -> None:
        count = usage.get(sc.USAGE_INPUT_TOKENS)
        if count is not None and not failed:
            # The conventions give this histogram no error.type; it is only recorded on success anyway.
            self.input_tokens.record(count, attrs)  # type: ignore[arg-type]


class AgentMetrics:
    """The agent and tool durations (the same in both metric modes). ``trace_agent``/``trace_tool`` record
    them; so can any integration that runs agents and tools itself (e.g. an Agents SDK processor)."""

    def __init__(self, meter: Meter) -> None:
        self.invoke_agent_duration = _histogram(meter, sc.METRIC_INVOKE_AGENT_DURATION, "s",
                                                AGENT_DURATION_BUCKETS, "Duration of one agent invocation.")
        self.execute_tool_duration = _histogram(meter, sc.METRIC_EXECUTE_TOOL_DURATION, "s", DURATION_BUCKETS,
                                                "Duration of one tool execution.")

    def record_agent(self, duration: float, attributes: Mapping[str, AttributeValue]) -> None:
        """``gen_ai.invoke_agent.duration`` in seconds, equal to the invoke_agent span's duration. Pass the
        span's attributes (or any superset): only ``gen_ai.agent.name``, ``gen_ai.request.model`` and
        ``error.type`` are kept."""
        self.invoke_agent_duration.record(duration, pick(attributes, AGENT_METRIC_ATTRIBUTES))

    def record_tool(self, duration: float, attributes: Mapping[str, AttributeValue]) -> None:
        """``gen_ai.execute_tool.duration`` in seconds, equal to the execute_tool span's duration. Pass the
        span's attributes (or any superset): only ``gen_ai.tool.name``, ``gen_ai.tool.type``,
        ``gen_ai.agent.name`` and ``error.type`` are kept."""
        self.execute_tool_duration.record(duration, pick(attributes, TOOL_METRIC_ATTRIBUTES))


class Metrics(AgentMetrics):
    """Every GenAI instrument of one meter, in the chosen shape."""

    def __init__(self, meter: Meter, latest: bool = False) -> None:
        super().__init__(meter)
        self.latest = latest
        operation_duration = _duration(meter, sc.METRIC_OPERATION_DURATION, "GenAI operation duration.")
        if latest:
            self._build_latest(meter, operation_duration)
        else:
            self._build_legacy(meter, operation_duration)

    def _build_legacy(self, meter: Meter, duration: Histogram) -> None:
        profile = LegacyProfile(
            duration,
            _duration(meter, sc.METRIC_TIME_TO_FIRST_CHUNK, "Time from the request to the first streamed chunk."),
            _duration(meter, sc.METRIC_TIME_PER_OUTPUT_CHUNK, "Time between streamed chunks."),
            _histogram(meter, sc.METRIC_TOKEN_USAGE, "{token}", TOKEN_BUCKETS,
                       "Number of input and output tokens used."),
        )
        self._profiles: dict[str, Profile] = {}
        self._default: Profile = profile

    def _build_latest(self, meter: Meter, duration: Histogram) -> None:
        counters = tuple(meter.create_counter(name, unit="{token}", description=f"Tokens counted by {key}.")
                         for name, key, _ in _USAGE_COUNTERS)
        inference = InferenceProfile(
            _duration(meter, sc.METRIC_INFERENCE_DURATION, "GenAI client inference operation duration."),
            _duration(meter, sc.METRIC_INFERENCE_TIME_TO_FIRST_CHUNK,
                      "Time from the request to the first streamed chunk."),
            _duration(meter, sc.METRIC_INFERENCE_TIME_PER_OUTPUT_CHUNK, "Time between streamed chunks."),
            counters,
            _tokens(meter, sc.METRIC_OPERATION_INPUT_TOKENS, "Input tokens per inference operation."),
            _tokens(meter, sc.METRIC_OPERATION_OUTPUT_TOKENS, "Output tokens per inference operation."),
        )
        embeddings = EmbeddingsProfile(
            _duration(meter, sc.METRIC_EMBEDDINGS_DURATION, "GenAI client embeddings operation duration."),
            _tokens(meter, sc.METRIC_EMBEDDINGS_INPUT_TOKENS, "Input tokens per embeddings operation."),
        )
        self._profiles = {op: inference for op in INFERENCE_OPERATIONS}
        self._profiles[sc.OP_EMBEDDINGS] = embeddings
        self._default = Profile(duration, None, None)

    def profile(self, operation: str) -> Profile:
        """The instruments for one operation; one dict lookup per call."""
        return self._profiles.get(operation, self._default)


# The attributes the agent and tool duration metrics allow (the conventions' lists, nothing else).
AGENT_METRIC_ATTRIBUTES = (sc.AGENT_NAME, sc.REQUEST_MODEL, sc.ERROR_TYPE)
TOOL_METRIC_ATTRIBUTES = (sc.TOOL_NAME, sc.TOOL_TYPE, sc.AGENT_NAME, sc.ERROR_TYPE)


def pick(attributes: Mapping[str, AttributeValue], keys: tuple[str, ...]) -> Attributes:
    """The ``keys`` of a span's attributes that are set: a tool or agent span's metric attributes."""
    return {key: attributes[key] for key in keys if attributes.get(key) is not None}


def _duration(meter: Meter, name: str, description: str) -> Histogram:
    return _histogram(meter, name, "s", DURATION_BUCKETS, description)


def _tokens(meter: Meter, name: str, description: str) -> Histogram:
    return _histogram(meter, name, "{token}", TOKEN_BUCKETS, description)


def _histogram(meter: Meter, name: str, unit: str, buckets: tuple[float, ...], description: str) -> Histogram:
    return meter.create_histogram(name, unit=unit, description=description,
                                  explicit_bucket_boundaries_advisory=list(buckets))
