"""End to end: a real openai client over a mock transport, traced through the request choke point."""

from __future__ import annotations

import copy
import inspect
import json
from typing import Any

import openai
import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_ON, Sampler, SamplingResult
from opentelemetry.trace import SpanKind, StatusCode

from otel_openai import _semconv as sc
from otel_openai import _wrap
from tests.conftest import (
    OPENAI_MAJOR,
    completions_parse,
    fixture_json,
    http,
    json_response,
    make_client,
    resolve,
    sse_fixture,
)

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
START_KEYS = {sc.OPERATION_NAME, sc.PROVIDER_NAME, sc.REQUEST_MODEL, sc.SERVER_ADDRESS, sc.SERVER_PORT}


def respond(name: str, seen: list[Any] | None = None) -> Any:
    """A transport handler serving one canned JSON fixture, remembering each request."""
    def handler(request: Any) -> Any:
        if seen is not None:
            seen.append(request)
        return json_response(fixture_json(name))
    return handler


def sdk_kwargs(client: Any, kwargs: dict[str, Any], absent: bool = False) -> dict[str, Any]:
    """Parameters this SDK's ``create()`` does not know (e.g. ``max_completion_tokens`` on openai 1.40) go
    in ``extra_body``, as users of such SDKs send them; ``absent`` drops them instead."""
    known = inspect.signature(client.chat.completions.create).parameters
    out = {k: v for k, v in kwargs.items() if k in known}
    extra = {k: v for k, v in kwargs.items() if k not in known}
    if extra and not absent:
        out["extra_body"] = extra
    return out


# --- the whole span --------------------------------------------------------------------------------


async def test_plain_chat_whole_span(instrument: Any, async_client: bool) -> None:
    """A plain chat call produces exactly the span the conventions describe, and the same response object."""
    t = instrument()
    client = make_client(respond("chat/plain.json"), async_client=async_client)
    result = await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    assert type(result).__name__ == "ChatCompletion"
    assert result.choices[0].message.content == "The capital of France is Paris."
    span = t.only_span()
    assert span.name == "chat gpt-4o-mini"
    assert span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes) == {
        sc.OPERATION_NAME: "chat",
        sc.PROVIDER_NAME: "openai",
        sc.REQUEST_MODEL: "gpt-4o-mini",
        sc.SERVER_ADDRESS: "openai.test",
        sc.SERVER_PORT: 8080,
        sc.OPENAI_API_TYPE: "chat_completions",
        sc.RESPONSE_ID: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        sc.RESPONSE_MODEL: "gpt-4o-mini-2024-07-18",
        sc.RESPONSE_FINISH_REASONS: ("stop",),
        sc.OPENAI_RESPONSE_SYSTEM_FINGERPRINT: "fp_06737a9306",
        sc.OPENAI_RESPONSE_SERVICE_TIER: "default",
        sc.USAGE_INPUT_TOKENS: 24,
        sc.USAGE_OUTPUT_TOKENS: 8,
        sc.USAGE_CACHE_READ_INPUT_TOKENS: 0,
        sc.USAGE_REASONING_OUTPUT_TOKENS: 0,
    }
    assert not span.events
    assert t.log_records() == []


class RecordingSampler(Sampler):
    """Samples everything and remembers the attributes each span started with."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

    def should_sample(self, parent_context: Any, trace_id: int, name: str, kind: Any = None,
                      attributes: Any = None, links: Any = None, trace_state: Any = None) -> SamplingResult:
        self.seen.append({"name": name, **dict(attributes or {})})
        return ALWAYS_ON.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return "RecordingSampler"


async def test_sampler_sees_start_attributes(telemetry: Any, instrument: Any, async_client: bool) -> None:
    """Operation, provider, request model, server address and port are set at span start."""
    sampler = RecordingSampler()
    telemetry.tracer_provider = TracerProvider(sampler=sampler)
    telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(telemetry.spans))
    instrument()
    client = make_client(respond("chat/plain.json"), async_client=async_client)
    await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, temperature=0.2))
    assert sampler.seen == [{
        "name": "chat gpt-4o-mini",
        sc.OPERATION_NAME: "chat",
        sc.PROVIDER_NAME: "openai",
        sc.REQUEST_MODEL: "gpt-4o-mini",
        sc.SERVER_ADDRESS: "openai.test",
        sc.SERVER_PORT: 8080,
    }]


async def test_request_parameters(instrument: Any, async_client: bool) -> None:
    """Every request parameter the conventions name is recorded, with the right type."""
    t = instrument()
    client = make_client(respond("chat/usage_details.json"), async_client=async_client)
    await resolve(client.chat.completions.create(model="o3-mini", messages=MESSAGES, **sdk_kwargs(client, dict(
        temperature=0.5, top_p=1, frequency_penalty=0.25, presence_penalty=-0.5, max_completion_tokens=300,
        max_tokens=50, stop="END", seed=7, n=2, response_format={"type": "json_object"},
        reasoning_effort="low", service_tier="flex",
    ))))
    attrs = t.only_span().attributes
    expected = {
        sc.REQUEST_TEMPERATURE: 0.5, sc.REQUEST_TOP_P: 1.0, sc.REQUEST_FREQUENCY_PENALTY: 0.25,
        sc.REQUEST_PRESENCE_PENALTY: -0.5, sc.REQUEST_MAX_TOKENS: 300, sc.REQUEST_STOP_SEQUENCES: ("END",),
        sc.REQUEST_SEED: 7, sc.REQUEST_CHOICE_COUNT: 2, sc.OUTPUT_TYPE: "json",
        sc.REQUEST_REASONING_LEVEL: "low", sc.OPENAI_REQUEST_SERVICE_TIER: "flex",
        sc.OPENAI_RESPONSE_SERVICE_TIER: "flex", sc.OPENAI_RESPONSE_SYSTEM_FINGERPRINT: "fp_42bfad963b",
        sc.USAGE_INPUT_TOKENS: 2006, sc.USAGE_OUTPUT_TOKENS: 300, sc.USAGE_CACHE_READ_INPUT_TOKENS: 1920,
        sc.USAGE_REASONING_OUTPUT_TOKENS: 256,
    }
    assert {k: attrs.get(k) for k in expected} == expected
    assert isinstance(attrs[sc.REQUEST_TOP_P], float)
    assert sc.REQUEST_STREAM not in attrs


async def test_max_tokens_and_stop_list(instrument: Any, async_client: bool) -> None:
    """``max_tokens`` is used when ``max_completion_tokens`` is absent; a stop list keeps its order; n=1 and
    service_tier=auto are not recorded."""
    t = instrument()
    client = make_client(respond("chat/plain.json"), async_client=async_client)
    await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=64,
                                                 stop=["\n", "END"], n=1, service_tier="auto",
                                                 response_format={"type": "text"}))
    attrs = t.only_span().attributes
    assert attrs[sc.REQUEST_MAX_TOKENS] == 64
    assert attrs[sc.REQUEST_STOP_SEQUENCES] == ("\n", "END")
    assert attrs[sc.OUTPUT_TYPE] == "text"
    assert sc.REQUEST_CHOICE_COUNT not in attrs
    assert sc.OPENAI_REQUEST_SERVICE_TIER not in attrs


async def test_extra_body_parameters(instrument: Any, async_client: bool) -> None:
    """Parameters sent through ``extra_body`` are part of the request body and are recorded too."""
    t = instrument()
    seen: list[Any] = []
    client = make_client(respond("chat/plain.json", seen), async_client=async_client)
    await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, max_tokens=10,
                                                 extra_body={"max_completion_tokens": 99, "seed": 3}))
    assert json.loads(seen[0].content)["max_completion_tokens"] == 99
    attrs = t.only_span().attributes
    assert (attrs[sc.REQUEST_MAX_TOKENS], attrs[sc.REQUEST_SEED]) == (99, 3)


def _omitted() -> list[Any]:
    values = [None]
    for name in ("NOT_GIVEN", "omit"):
        if hasattr(openai, name):
            values.append(getattr(openai, name))
    return values


@pytest.mark.parametrize("absent", _omitted(), ids=lambda value: type(value).__name__)
async def test_omitted_parameters_are_absent(instrument: Any, async_client: bool, absent: Any) -> None:
    """``NOT_GIVEN`` / ``omit`` parameters never become attributes (``None`` ones the SDK sends as null)."""
    t = instrument()
    client = make_client(respond("chat/plain.json"), async_client=async_client)
    kwargs: dict[str, Any] = {k: absent for k in (
        "temperature", "top_p", "frequency_penalty", "presence_penalty", "max_tokens", "max_completion_tokens",
        "stop", "seed", "n", "response_format", "reasoning_effort", "service_tier")}
    if absent is None:
        # ``None`` is sent as JSON null for most params; response_format=None is rejected by some SDKs.
        kwargs.pop("response_format")
    await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES,
                                                 **sdk_kwargs(client, kwargs, absent=True)))
    span = t.only_span()
    request_keys = {k for k in span.attributes if k.startswith("gen_ai.request.")} - {sc.REQUEST_MODEL}
    assert request_keys == set()
    assert sc.OUTPUT_TYPE not in span.attributes
    assert sc.OPENAI_REQUEST_SERVICE_TIER not in span.attributes


async def test_previous_message_object_passed_back(instrument: Any, async_client: bool) -> None:
    """A ``ChatCompletionMessage`` from an earlier response can be passed back in ``messages``."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(respond("chat/tool_calls.json"), async_client=async_client)
    first = await resolve(client.chat.completions.create(model="gpt-4o", messages=MESSAGES))
    previous = first.choices[0].message
    follow_up = [*MESSAGES, previous, {"role": "tool", "tool_call_id": previous.tool_calls[0].id,
                                       "content": "18C and sunny"}]
    await resolve(client.chat.completions.create(model="gpt-4o", messages=follow_up))
    second = t.finished_spans()[1]
    messages = json.loads(second.attributes[sc.INPUT_MESSAGES])
    assert messages[1] == {"role": "assistant", "parts": [{
        "type": "tool_call", "id": "call_baX7cP6fq4TLnOcvSMCsmU0S", "name": "get_weather",
        "arguments": {"location": "Paris, France"}}]}
    assert messages[2] == {"role": "tool", "parts": [{
        "type": "tool_call_response", "id": "call_baX7cP6fq4TLnOcvSMCsmU0S",
        "response": {"value": "18C and sunny"}}]}


async def test_n2_finish_reasons_in_index_order(instrument: Any, async_client: bool) -> None:
    """Finish reasons and output messages follow choice index, not the order choices arrive in."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(respond("chat/n2.json"), async_client=async_client)
    await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, n=2))
    attrs = t.only_span().attributes
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ("stop", "length")
    assert json.loads(attrs[sc.OUTPUT_MESSAGES]) == [
        {"role": "assistant", "parts": [{"type": "text", "content": "Salut!"}]},
        {"role": "assistant", "parts": [{"type": "text", "content": "Bonjour"}]},
    ]


async def test_implicit_https_port(instrument: Any, async_client: bool) -> None:
    """The default base URL reports api.openai.com and the implicit port 443."""
    t = instrument()
    client = make_client(respond("chat/plain.json"), async_client=async_client, base_url=None)
    await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    attrs = t.only_span().attributes
    assert (attrs[sc.SERVER_ADDRESS], attrs[sc.SERVER_PORT]) == ("api.openai.com", 443)


# --- structured outputs ----------------------------------------------------------------------------


async def test_parse_structured_output(instrument: Any, async_client: bool) -> None:
    """``chat.completions.parse()`` is one chat span with ``gen_ai.output.type=json``; the user still gets
    the parsed model."""
    pydantic = pytest.importorskip("pydantic")

    class Event(pydantic.BaseModel):
        name: str
        date: str
        participants: list[str]

    t = instrument()
    client = make_client(respond("chat/structured.json"), async_client=async_client)
    result = await resolve(completions_parse(client)(model="gpt-4o-2024-08-06", messages=MESSAGES,
                                                     response_format=Event))
    assert result.choices[0].message.parsed == Event(name="Science Fair", date="Friday",
                                                      participants=["Alice", "Bob"])
    span = t.only_span()
    assert span.name == "chat gpt-4o-2024-08-06"
    assert span.attributes[sc.OUTPUT_TYPE] == "json"
    assert span.attributes[sc.RESPONSE_ID] == "chatcmpl-BStructuredOutputs4W9lXgQ"
    assert span.attributes[sc.USAGE_OUTPUT_TOKENS] == 17


# --- failures ---------------------------------------------------------------------------------------


def _status_handler(status: int, fixture: str) -> Any:
    def handler(request: Any) -> Any:
        return json_response(fixture_json(fixture), status=status)
    return handler


def _raising_handler(exc: Exception) -> Any:
    def handler(request: Any) -> Any:
        raise exc
    return handler


FAILURES = [
    ("rate_limit", lambda: _status_handler(429, "chat/rate_limit_error.json"), openai.RateLimitError,
     "openai.RateLimitError"),
    ("server_error", lambda: _status_handler(500, "chat/server_error.json"), openai.InternalServerError,
     "openai.InternalServerError"),
    ("connection", lambda: _raising_handler(http.ConnectError("connection refused")),
     openai.APIConnectionError, "openai.APIConnectionError"),
    ("timeout", lambda: _raising_handler(http.ReadTimeout("timed out")), openai.APITimeoutError,
     "openai.APITimeoutError"),
]


@pytest.mark.parametrize(("case", "make_handler", "exc_class", "error_type"), FAILURES,
                         ids=[f[0] for f in FAILURES])
async def test_failure(instrument: Any, async_client: bool, case: str, make_handler: Any, exc_class: type,
                       error_type: str) -> None:
    """A failed call: one span, status ERROR with the message, ``error.type``, an exception event on the span,
    a ``gen_ai.client.operation.exception`` log record in the span's trace, and the exception unchanged."""
    t = instrument()
    client = make_client(make_handler(), async_client=async_client)
    caught: list[BaseException] = []
    raised: list[BaseException] = []
    original = _wrap.Invocation.end_error

    def spy(self: Any, exc: BaseException) -> None:
        caught.append(exc)
        original(self, exc)

    _wrap.Invocation.end_error = spy  # type: ignore[method-assign]
    try:
        with pytest.raises(exc_class) as info:
            await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
        raised.append(info.value)
    finally:
        _wrap.Invocation.end_error = original  # type: ignore[method-assign]
    assert caught == raised and caught[0] is raised[0]
    span = t.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == str(raised[0])
    assert span.attributes[sc.ERROR_TYPE] == error_type
    assert [e.name for e in span.events] == ["exception"]
    assert span.events[0].attributes["exception.type"].endswith(exc_class.__name__)
    records = t.log_records()
    assert [r.event_name for r in records] == [sc.EVENT_OPERATION_EXCEPTION]
    record = records[0]
    assert record.attributes[sc.EXCEPTION_TYPE] == error_type
    assert record.attributes[sc.EXCEPTION_MESSAGE] == str(raised[0])
    assert record.severity_number.name == "WARN"
    assert record.trace_id == span.context.trace_id
    assert record.span_id == span.context.span_id
    assert sc.RESPONSE_ID not in span.attributes


# --- raw and streaming responses --------------------------------------------------------------------


async def test_with_raw_response(instrument: Any, async_client: bool) -> None:
    """``with_raw_response`` still returns the raw response with headers; ``parse()`` gives the same object
    each time, and the span carries the response attributes."""
    t = instrument()
    client = make_client(respond("chat/plain.json"), async_client=async_client)
    raw = await resolve(client.chat.completions.with_raw_response.create(model="gpt-4o-mini",
                                                                          messages=MESSAGES))
    assert type(raw).__name__ == "LegacyAPIResponse"
    assert raw.headers["x-request-id"] == "req_123"
    parsed = raw.parse()
    assert parsed is raw.parse()
    assert parsed.id == "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    span = t.only_span()
    assert span.attributes[sc.RESPONSE_ID] == parsed.id
    assert span.attributes[sc.USAGE_INPUT_TOKENS] == 24


async def test_with_raw_response_stream(instrument: Any, async_client: bool) -> None:
    """A raw stream keeps its headers; its parsed stream is a real Stream whose span ends after iteration."""
    t = instrument()
    client = make_client(lambda r: sse_fixture("chat/stream_usage.sse"), async_client=async_client)
    raw = await resolve(client.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True}))
    assert raw.headers["content-type"] == "text/event-stream"
    stream = raw.parse()
    assert raw.parse() is stream
    if async_client:
        assert isinstance(stream, openai.AsyncStream)
        chunks = [c async for c in stream]
    else:
        assert isinstance(stream, openai.Stream)
        chunks = list(stream)
    assert len(chunks) == 10
    span = t.only_span()
    assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("stop",)
    assert span.attributes[sc.USAGE_OUTPUT_TOKENS] == 7


class LazyJson:
    """A JSON body served from a generator, so we can tell whether anyone read it."""

    def __init__(self, name: str, async_client: bool) -> None:
        self.data = json.dumps(fixture_json(name)).encode()
        self.async_client = async_client
        self.read = False

    def _sync(self) -> Any:
        self.read = True
        yield self.data

    async def _async(self) -> Any:
        self.read = True
        yield self.data

    def __call__(self, request: Any) -> Any:
        content = self._async() if self.async_client else self._sync()
        return http.Response(200, content=content, headers={"content-type": "application/json",
                                                            "x-request-id": "req_123"})


async def test_with_streaming_response_parsed(instrument: Any, async_client: bool) -> None:
    """``with_streaming_response``: the body is left for the user; the span ends once on close, with the
    response attributes because the user parsed."""
    t = instrument()
    body = LazyJson("chat/plain.json", async_client)
    client = make_client(body, async_client=async_client)
    manager = client.chat.completions.with_streaming_response.create(model="gpt-4o-mini", messages=MESSAGES)
    if async_client:
        async with manager as response:
            assert not body.read
            assert t.finished_spans() == []
            completion = await response.parse()
    else:
        with manager as response:
            assert not body.read
            assert t.finished_spans() == []
            completion = response.parse()
    assert completion.id == "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    span = t.only_span()
    assert span.attributes[sc.RESPONSE_ID] == completion.id
    assert span.attributes[sc.USAGE_OUTPUT_TOKENS] == 8
    assert len(t.metric_points(sc.METRIC_OPERATION_DURATION)) == 1


async def test_with_streaming_response_unread(instrument: Any, async_client: bool) -> None:
    """``with_streaming_response`` closed without reading: we never read the body; the span ends once,
    with what was knowable."""
    t = instrument()
    body = LazyJson("chat/plain.json", async_client)
    client = make_client(body, async_client=async_client)
    manager = client.chat.completions.with_streaming_response.create(model="gpt-4o-mini", messages=MESSAGES)
    if async_client:
        async with manager as response:
            assert response.headers["x-request-id"] == "req_123"
    else:
        with manager as response:
            assert response.headers["x-request-id"] == "req_123"
    assert response.is_closed
    assert not body.read, "the body was read by the instrumentation"
    span = t.only_span()
    assert span.attributes[sc.REQUEST_MODEL] == "gpt-4o-mini"
    assert sc.RESPONSE_ID not in span.attributes
    assert span.status.status_code is StatusCode.UNSET
    assert len(t.metric_points(sc.METRIC_OPERATION_DURATION)) == 1
    assert t.metric_points(sc.METRIC_TOKEN_USAGE) == []


async def test_with_streaming_response_stream(instrument: Any, async_client: bool) -> None:
    """``with_streaming_response`` over a stream: the span ends once, with streamed attributes, on close."""
    t = instrument()
    client = make_client(lambda r: sse_fixture("chat/stream_usage.sse"), async_client=async_client)
    manager = client.chat.completions.with_streaming_response.create(
        model="gpt-4o-mini", messages=MESSAGES, stream=True, stream_options={"include_usage": True})
    if async_client:
        async with manager as response:
            chunks = [c async for c in await response.parse()]
    else:
        with manager as response:
            chunks = list(response.parse())
    assert len(chunks) == 10
    span = t.only_span()
    assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("stop",)
    assert span.attributes[sc.USAGE_INPUT_TOKENS] == 24


# --- context and duplicates --------------------------------------------------------------------------


async def test_suppressed_records_nothing(instrument: Any, async_client: bool) -> None:
    """A call under ``suppress_instrumentation()`` records no span, metric or log."""
    t = instrument()
    client = make_client(respond("chat/plain.json"), async_client=async_client)
    with suppress_instrumentation():
        await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    assert t.finished_spans() == []
    assert t.metric_points(sc.METRIC_OPERATION_DURATION) == []
    assert t.log_records() == []


async def test_no_duplicate_under_other_instrumentation(instrument: Any, async_client: bool) -> None:
    """A current CLIENT span for the same operation and model (another instrumentor) prevents a duplicate."""
    t = instrument()
    client = make_client(respond("chat/plain.json"), async_client=async_client)
    tracer = t.tracer_provider.get_tracer("other")
    with tracer.start_as_current_span("chat gpt-4o-mini", kind=SpanKind.CLIENT,
                                      attributes={sc.OPERATION_NAME: "chat", sc.REQUEST_MODEL: "gpt-4o-mini"}):
        await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    assert [s.instrumentation_scope.name for s in t.finished_spans()] == ["other"]


async def test_other_client_span_different_model_still_traced(instrument: Any, async_client: bool) -> None:
    """A current CLIENT span for another model is a parent, not a duplicate."""
    t = instrument()
    client = make_client(respond("chat/plain.json"), async_client=async_client)
    tracer = t.tracer_provider.get_tracer("other")
    with tracer.start_as_current_span("chat gpt-4o", kind=SpanKind.CLIENT,
                                      attributes={sc.OPERATION_NAME: "chat", sc.REQUEST_MODEL: "gpt-4o"}) as outer:
        await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    ours, _other = t.finished_spans()
    assert ours.name == "chat gpt-4o-mini"
    assert ours.parent.span_id == outer.get_span_context().span_id


async def test_span_current_while_sending(instrument: Any, async_client: bool) -> None:
    """The GenAI span is current while the transport sends the request and is not current afterwards."""
    t = instrument()
    during: list[Any] = []

    def handler(request: Any) -> Any:
        during.append(trace.get_current_span())
        return json_response(fixture_json("chat/plain.json"))

    client = make_client(handler, async_client=async_client)
    before = trace.get_current_span()
    await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    span = t.only_span()
    assert during[0].get_span_context().span_id == span.context.span_id
    assert trace.get_current_span() is before


async def test_span_not_current_after_stream(instrument: Any, async_client: bool) -> None:
    """A stream's span was current while sending, and is not current after the stream is returned."""
    t = instrument()
    during: list[Any] = []

    def handler(request: Any) -> Any:
        during.append(trace.get_current_span().get_span_context().span_id)
        return sse_fixture("chat/stream_usage.sse")

    client = make_client(handler, async_client=async_client)
    stream = await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert not trace.get_current_span().get_span_context().is_valid
    if async_client:
        [c async for c in stream]
    else:
        list(stream)
    assert during == [t.only_span().context.span_id]


# --- lifecycle ----------------------------------------------------------------------------------------


def test_uninstrument_restores_request_exactly(instrument: Any) -> None:
    """After ``uninstrument()`` every wrapped SDK attribute is the original function again."""
    import openai._base_client as base

    originals = {name: base.__dict__[name.split(".")[0]].__dict__[name.split(".")[1]]
                 for name in ("SyncAPIClient.request", "AsyncAPIClient.request")}
    from otel_openai import OpenAIInstrumentor

    instrumentor = OpenAIInstrumentor()
    t = instrument()
    assert base.SyncAPIClient.__dict__["request"] is not originals["SyncAPIClient.request"]
    instrumentor.uninstrument()
    assert base.SyncAPIClient.__dict__["request"] is originals["SyncAPIClient.request"]
    assert base.AsyncAPIClient.__dict__["request"] is originals["AsyncAPIClient.request"]
    client = make_client(respond("chat/plain.json"))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert t.finished_spans() == []


def test_cached_raw_response_wrapper_after_uninstrument(instrument: Any) -> None:
    """A ``with_raw_response`` wrapper fetched while instrumented passes straight through afterwards."""
    from otel_openai import OpenAIInstrumentor

    t = instrument()
    client = make_client(respond("chat/plain.json"))
    create = client.chat.completions.with_raw_response.create
    OpenAIInstrumentor().uninstrument()
    raw = create(model="gpt-4o-mini", messages=MESSAGES)
    assert raw.parse().id == "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    assert t.finished_spans() == []


def test_instrument_twice_one_span(instrument: Any) -> None:
    """Instrumenting twice never doubles spans."""
    t = instrument()
    instrument()
    client = make_client(respond("chat/plain.json"))
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert len(t.finished_spans()) == 1
    assert len(t.metric_points(sc.METRIC_OPERATION_DURATION)) == 1


async def test_caller_dicts_not_mutated(instrument: Any, async_client: bool) -> None:
    """The caller's ``extra_headers`` and ``messages`` are left exactly as they were; no traceparent is added."""
    instrument(capture_content="SPAN_AND_EVENT")
    seen: list[Any] = []
    client = make_client(respond("chat/plain.json", seen), async_client=async_client)
    headers = {"X-Custom": "1"}
    messages = [{"role": "system", "content": "Be brief."},
                {"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    snapshot = (copy.deepcopy(headers), copy.deepcopy(messages))
    await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=messages, extra_headers=headers))
    assert (headers, messages) == snapshot
    assert "traceparent" not in seen[0].headers


async def test_api_key_never_recorded(instrument: Any, async_client: bool) -> None:
    """The API key never appears in any span, event or log attribute, even with everything captured."""
    t = instrument(capture_content="SPAN_AND_EVENT", stream_chunk_events=100)
    client = make_client(lambda r: json_response(fixture_json("chat/rate_limit_error.json"), status=429),
                         async_client=async_client)
    with pytest.raises(openai.RateLimitError):
        await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    client = make_client(respond("chat/plain.json"), async_client=async_client)
    await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    dumped = [s.to_json() for s in t.finished_spans()]
    dumped += [json.dumps({"a": dict(r.attributes or {}), "b": r.body}, default=str) for r in t.log_records()]
    assert len(dumped) == 5  # two spans; the failure's details and exception records; the success's details
    assert not any("sk-test-secret" in d for d in dumped)
    assert not any("authorization" in d.lower() for d in dumped)


async def test_telemetry_error_swallowed(instrument: Any, async_client: bool, monkeypatch: Any) -> None:
    """A mapping function that raises never reaches the user: the call returns normally, the span still ends."""
    def boom(*args: Any) -> Any:
        raise RuntimeError("mapping bug")

    monkeypatch.setattr(_wrap, "route", lambda m, u: _broken_api(boom))
    t = instrument(capture_content="SPAN_AND_EVENT")
    client = make_client(respond("chat/plain.json"), async_client=async_client)
    result = await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    assert result.id == "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    span = t.only_span()
    assert span.name == "chat gpt-4o-mini"
    assert span.status.status_code is StatusCode.UNSET


def _broken_api(boom: Any) -> Any:
    import dataclasses

    from otel_openai._mapping import CHAT

    return dataclasses.replace(CHAT, request_attributes=boom, response_attributes=boom, input_messages=boom,
                               output_messages=boom, tool_definitions=boom)


async def test_routing_error_swallowed(instrument: Any, async_client: bool, monkeypatch: Any) -> None:
    """Even a failure before the span starts (routing) lets the call through untraced."""
    def boom(method: str, url: str) -> Any:
        raise RuntimeError("router bug")

    monkeypatch.setattr(_wrap, "route", boom)
    t = instrument()
    client = make_client(respond("chat/plain.json"), async_client=async_client)
    result = await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    assert result.id == "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    assert t.finished_spans() == []


async def test_unrouted_endpoint_passes_through(instrument: Any, async_client: bool) -> None:
    """An endpoint with no mapping (models.list) is not traced and works unchanged."""
    t = instrument()
    body = {"object": "list", "data": [{"id": "gpt-4o", "object": "model", "created": 1, "owned_by": "openai"}]}
    client = make_client(lambda r: json_response(body), async_client=async_client)
    page = await resolve(client.models.list())
    assert [m.id for m in page.data] == ["gpt-4o"]
    assert [s for s in t.finished_spans() if s.attributes.get(sc.OPERATION_NAME) == "chat"] == []


def test_openai_major_is_known() -> None:
    """The suite runs against a supported openai major (1, 2 or 3)."""
    assert OPENAI_MAJOR in (1, 2, 3)


# --- retries and failing streams --------------------------------------------------------------------------


def _flaky(failures: int, status: int = 500) -> Any:
    """Fails ``failures`` times (asking for a 1 ms retry delay), then serves the plain completion."""
    attempts: list[int] = []

    def handler(request: Any) -> Any:
        attempts.append(1)
        if len(attempts) <= failures:
            return json_response(fixture_json("chat/server_error.json"), status=status,
                                 headers={"retry-after-ms": "1"})
        return json_response(fixture_json("chat/plain.json"))

    handler.attempts = attempts  # type: ignore[attr-defined]
    return handler


async def test_retries_are_one_span(instrument: Any, async_client: bool) -> None:
    """The SDK's retries happen inside one logical call: one span, one duration point, success."""
    t = instrument()
    handler = _flaky(2)
    client = make_client(handler, async_client=async_client, max_retries=2)
    result = await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    assert len(handler.attempts) == 3
    assert result.id == "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    span = t.only_span()
    assert span.status.status_code is StatusCode.UNSET
    assert sc.ERROR_TYPE not in span.attributes
    assert len(t.metric_points(sc.METRIC_OPERATION_DURATION)) == 1


async def test_retries_exhausted_one_error_span(instrument: Any, async_client: bool) -> None:
    """A call that fails after all retries is one ERROR span."""
    t = instrument()
    handler = _flaky(5)
    client = make_client(handler, async_client=async_client, max_retries=1)
    with pytest.raises(openai.InternalServerError):
        await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    assert len(handler.attempts) == 2
    assert t.only_span().attributes[sc.ERROR_TYPE] == "openai.InternalServerError"


async def test_stream_request_rejected(instrument: Any, async_client: bool) -> None:
    """A streaming request rejected with 429 is one ERROR span marked as a stream; no stream is returned."""
    t = instrument()
    client = make_client(_status_handler(429, "chat/rate_limit_error.json"), async_client=async_client)
    with pytest.raises(openai.RateLimitError):
        await resolve(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    span = t.only_span()
    assert span.attributes[sc.REQUEST_STREAM] is True
    assert span.attributes[sc.ERROR_TYPE] == "openai.RateLimitError"
    assert t.metric_points(sc.METRIC_TIME_TO_FIRST_CHUNK) == []


async def test_parse_length_error_reaches_user(instrument: Any, async_client: bool) -> None:
    """``parse()`` hitting the token limit raises the SDK's own error unchanged; the span records it."""
    pydantic = pytest.importorskip("pydantic")

    class Event(pydantic.BaseModel):
        name: str

    body = fixture_json("chat/structured.json")
    body["choices"][0]["finish_reason"] = "length"
    body["choices"][0]["message"]["content"] = "{\"name\": \"Sci"
    t = instrument()
    client = make_client(lambda r: json_response(body), async_client=async_client)
    with pytest.raises(openai.LengthFinishReasonError):
        await resolve(completions_parse(client)(model="gpt-4o", messages=MESSAGES, response_format=Event))
    span = t.only_span()
    if hasattr(client.chat.completions, "parse"):
        # openai >= 1.92 parses inside request(): the call failed as far as the user is concerned.
        assert span.status.status_code is StatusCode.ERROR
        assert span.attributes[sc.ERROR_TYPE] == "openai.LengthFinishReasonError"
    else:
        # Older SDKs parse after request() returned: the HTTP call itself succeeded, and says why it stopped.
        assert span.status.status_code is StatusCode.UNSET
        assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("length",)


async def test_cancelled_while_waiting_for_response(instrument: Any) -> None:
    """Cancelling the task while the request is in flight ends the span once and re-raises the cancellation."""
    import asyncio

    t = instrument()
    sent = asyncio.Event()

    async def handler(request: Any) -> Any:
        sent.set()
        await asyncio.Event().wait()  # the server never answers

    client = openai.AsyncOpenAI(api_key="sk-test-secret", base_url="http://openai.test:8080/v1", max_retries=0,
                                http_client=http.AsyncClient(transport=http.MockTransport(handler)))
    task = asyncio.create_task(client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES))
    await sent.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    span = t.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes[sc.ERROR_TYPE].endswith("CancelledError")
    assert not trace.get_current_span().get_span_context().is_valid


async def test_with_streaming_response_parse_error(instrument: Any, async_client: bool) -> None:
    """A body the user's ``parse()`` cannot decode: the SDK's error reaches the user, and the span ends once
    with ERROR."""
    t = instrument()

    def handler(request: Any) -> Any:
        return http.Response(200, content=b"{not json", headers={"content-type": "application/json"})

    client = make_client(handler, async_client=async_client)
    manager = client.chat.completions.with_streaming_response.create(model="gpt-4o-mini", messages=MESSAGES)
    with pytest.raises(Exception) as info:  # the decode error's type differs by SDK version
        if async_client:
            async with manager as response:
                await response.parse()
        else:
            with manager as response:
                response.parse()
    span = t.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == str(info.value)
    assert len(t.metric_points(sc.METRIC_OPERATION_DURATION)) == 1


async def test_raw_stream_never_parsed_ends_when_collected(instrument: Any, async_client: bool) -> None:
    """A ``with_raw_response`` stream the user never parses still ends its span when the response is collected."""
    import gc

    t = instrument()
    client = make_client(lambda r: sse_fixture("chat/stream_usage.sse"), async_client=async_client)
    raw = await resolve(client.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES,
                                                                          stream=True))
    assert raw.headers["content-type"] == "text/event-stream"
    assert t.finished_spans() == []
    del raw
    gc.collect()
    span = t.only_span()
    assert span.attributes[sc.REQUEST_STREAM] is True
    assert span.status.status_code is StatusCode.UNSET
