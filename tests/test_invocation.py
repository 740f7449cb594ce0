"""The span lifecycle on its own: start attributes, ending exactly once, events, and guarded steps."""

from __future__ import annotations

import dataclasses
import types
from typing import Any

import openai
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, StatusCode

from otel_openai import _mapping as m
from otel_openai import _semconv as sc
from otel_openai._config import ContentCapture, Settings
from otel_openai._content import JsonMemo, bounded_json
from otel_openai._invocation import Invocation, Telemetry, error_type, input_json, start_attributes
from otel_openai._mapping import CHAT, Api
from otel_openai._metrics import Metrics
from tests.conftest import event_value, fixture_json, http


def client(url: str = "https://api.openai.com/v1") -> Any:
    return types.SimpleNamespace(base_url=http.URL(url))


def make(telemetry: Any, settings: Settings | None = None, api: Api = CHAT,
         body: dict[str, Any] | None = None) -> Invocation:
    t = Telemetry(
        tracer=telemetry.tracer_provider.get_tracer("test"),
        metrics=Metrics(telemetry.meter_provider.get_meter("test")),
        events=telemetry.logger_provider.get_logger("test"),
        settings=settings or Settings(),
    )
    return Invocation(t, api, client(), body if body is not None else {"model": "gpt-4o-mini", "messages": []})


def completion() -> Any:
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate(fixture_json("chat/plain.json"))


# --- error.type -------------------------------------------------------------------------------------


class CustomError(Exception):
    pass


def test_error_type_names() -> None:
    """SDK errors are ``openai.<Class>``, builtins their bare name, anything else module-qualified."""
    request = http.Request("POST", "https://api.openai.com/v1/chat/completions")
    assert error_type(openai.APIConnectionError(request=request)) == "openai.APIConnectionError"
    assert error_type(openai.APITimeoutError(request=request)) == "openai.APITimeoutError"
    assert error_type(ValueError("x")) == "ValueError"
    assert error_type(CustomError()) == f"{__name__}.CustomError"
    nameless = type("Nameless", (Exception,), {"__module__": ""})
    assert error_type(nameless()) == "_OTHER"


# --- start ----------------------------------------------------------------------------------------------


def test_start_attributes_without_model() -> None:
    """No model in the body: no request model attribute, and nothing invented."""
    attrs = start_attributes(CHAT, client("http://localhost:11434/v1"), {}, Settings())
    assert attrs == {sc.OPERATION_NAME: "chat", sc.PROVIDER_NAME: "openai", sc.SERVER_ADDRESS: "localhost",
                     sc.SERVER_PORT: 11434}


def test_span_name_without_model(telemetry: Any) -> None:
    """The span is named after the operation alone when there is no model."""
    make(telemetry, body={}).end_response(completion())
    assert telemetry.only_span().name == "chat"
    assert telemetry.only_span().kind is SpanKind.CLIENT


def test_provider_name_override(telemetry: Any) -> None:
    """``provider_name`` in the settings replaces the detected provider."""
    make(telemetry, Settings(provider_name="vllm")).end_unread()
    assert telemetry.only_span().attributes[sc.PROVIDER_NAME] == "vllm"


# --- ending exactly once ---------------------------------------------------------------------------------


def test_first_end_wins(telemetry: Any) -> None:
    """Only the first ``end_*`` call counts; later ones record nothing more."""
    invocation = make(telemetry)
    invocation.end_response(completion())
    invocation.end_error(RuntimeError("late"))
    invocation.end_stream(RuntimeError("later"))
    invocation.end_unread()
    span = telemetry.only_span()
    assert span.status.status_code is StatusCode.UNSET
    assert sc.ERROR_TYPE not in span.attributes
    assert len(telemetry.metric_points(sc.METRIC_OPERATION_DURATION)) == 1
    assert telemetry.log_records() == []


def test_stream_without_chunks(telemetry: Any) -> None:
    """A stream closed before any chunk ends with the start attributes only and no first-chunk time."""
    invocation = make(telemetry)
    invocation.begin_stream()
    invocation.end_stream()
    span = telemetry.only_span()
    assert sc.RESPONSE_TIME_TO_FIRST_CHUNK not in span.attributes
    assert telemetry.metric_points(sc.METRIC_TIME_TO_FIRST_CHUNK) == []
    assert telemetry.metric_points(sc.METRIC_TOKEN_USAGE) == []


def test_bad_chunk_is_swallowed(telemetry: Any) -> None:
    """A chunk the accumulator cannot read is skipped; the span still ends normally."""
    invocation = make(telemetry, Settings(capture=ContentCapture.SPAN_ONLY))
    invocation.begin_stream()
    invocation.on_chunk(object())
    invocation.on_chunk(None)
    invocation.end_stream()
    assert telemetry.only_span().status.status_code is StatusCode.UNSET


# --- events ----------------------------------------------------------------------------------------------


def test_exception_record(telemetry: Any) -> None:
    """A failure emits one WARN exception record in the span's trace, with type, message and stack trace."""
    invocation = make(telemetry)
    try:
        raise CustomError("it broke")
    except CustomError as exc:
        invocation.end_error(exc)
    span = telemetry.only_span()
    (record,) = telemetry.log_records()
    assert record.event_name == sc.EVENT_OPERATION_EXCEPTION
    assert record.severity_number.name == "WARN"
    assert record.attributes[sc.EXCEPTION_MESSAGE] == "it broke"
    stacktrace = record.attributes[sc.EXCEPTION_STACKTRACE]
    assert stacktrace.startswith("Traceback (most recent call last):")
    assert "test_exception_record" in stacktrace and stacktrace.rstrip().endswith("it broke")
    assert (record.trace_id, record.span_id) == (span.context.trace_id, span.context.span_id)
    assert record.attributes[sc.EXCEPTION_TYPE] == f"{__name__}.CustomError"
    assert record.attributes[sc.EXCEPTION_MESSAGE] == "it broke"
    assert span.status.description == "it broke"


def test_details_record_trace_context(telemetry: Any) -> None:
    """The details record carries the span's trace context, start attributes and structured content."""
    invocation = make(telemetry, Settings(capture=ContentCapture.EVENT_ONLY),
                      body={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
    invocation.end_response(completion())
    span = telemetry.only_span()
    (record,) = telemetry.log_records()
    assert record.event_name == sc.EVENT_OPERATION_DETAILS
    assert (record.trace_id, record.span_id) == (span.context.trace_id, span.context.span_id)
    assert record.attributes[sc.REQUEST_MODEL] == "gpt-4o-mini"
    assert event_value(record.attributes[sc.INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "hi"}]}]
    assert record.body is None


# --- guards and sampling -------------------------------------------------------------------------------


def _raising(*args: Any) -> Any:
    raise RuntimeError("mapping bug")


@pytest.mark.parametrize("field", ["request_attributes", "response_attributes", "input_messages",
                                   "output_messages", "tool_definitions"])
def test_each_mapping_step_guarded(telemetry: Any, field: str) -> None:
    """Any one mapping function raising costs only its own attributes; the span still ends once."""
    api = dataclasses.replace(CHAT, **{field: _raising})
    invocation = make(telemetry, Settings(capture=ContentCapture.SPAN_AND_EVENT), api=api)
    invocation.end_response(completion())
    span = telemetry.only_span()
    assert span.attributes[sc.REQUEST_MODEL] == "gpt-4o-mini"
    assert len(telemetry.metric_points(sc.METRIC_OPERATION_DURATION)) == 1


def tool_call_completion() -> Any:
    from openai.types.chat import ChatCompletion

    return ChatCompletion.model_validate(fixture_json("chat/tool_calls.json"))


def spied_output_json(calls: list[Any], fail: bool = False) -> Api:
    def output_json(response: Any, limit: int) -> Any:
        calls.append(limit)
        if fail:
            raise RuntimeError("mapping bug")
        return CHAT.output_json(response, limit)  # type: ignore[misc]

    return dataclasses.replace(CHAT, output_json=output_json)


@pytest.mark.parametrize("fail", [False, True])
def test_output_json_on_the_span(telemetry: Any, fail: bool) -> None:
    """With content on the span only, the output messages are written directly (with the content limit), and
    are what the messages would have given; a direct writer that raises costs nothing: they are built."""
    calls: list[Any] = []
    settings = Settings(capture=ContentCapture.SPAN_ONLY, max_content_length=1000)
    make(telemetry, settings, api=spied_output_json(calls, fail)).end_response(tool_call_completion())
    expected = bounded_json(CHAT.output_messages(tool_call_completion(), False), 1000)
    assert telemetry.only_span().attributes[sc.OUTPUT_MESSAGES] == expected
    assert calls == [1000]


@pytest.mark.parametrize("settings", [
    Settings(capture=ContentCapture.SPAN_AND_EVENT),
    Settings(capture=ContentCapture.SPAN_ONLY, upload_hook=lambda value: None),
    Settings(capture=ContentCapture.NO_CONTENT),
], ids=["event", "upload hook", "no content"])
def test_output_json_only_for_the_span_alone(telemetry: Any, settings: Settings) -> None:
    """Where the messages are wanted as messages (an event, the upload hook) or not at all, they are not
    written directly."""
    calls: list[Any] = []
    make(telemetry, settings, api=spied_output_json(calls)).end_response(tool_call_completion())
    assert calls == []
    assert (sc.OUTPUT_MESSAGES in telemetry.only_span().attributes) == settings.content_on_span


def test_sampled_out_skips_request_mapping(telemetry: Any) -> None:
    """A sampled-out call computes no request attributes but still records its metrics."""
    calls: list[Any] = []

    def spy(body: Any) -> Any:
        calls.append(body)
        return {}

    telemetry.tracer_provider = TracerProvider(sampler=ALWAYS_OFF)
    telemetry.tracer_provider.add_span_processor(SimpleSpanProcessor(telemetry.spans))
    invocation = make(telemetry, api=dataclasses.replace(CHAT, request_attributes=spy))
    invocation.end_response(completion())
    assert calls == []
    assert telemetry.finished_spans() == []
    assert len(telemetry.metric_points(sc.METRIC_OPERATION_DURATION)) == 1
    assert len(telemetry.metric_points(sc.METRIC_TOKEN_USAGE)) == 2


# --- input content through the JSON memo --------------------------------------------------------------

# Every Api with content fields, by its name in the mapping table.
MEMO_APIS = {name: api for name, api in sorted(vars(m).items()) if isinstance(api, Api) and api.content_fields}
MCP = {"type": "mcp", "server_label": "s", "server_url": "https://mcp.example", "authorization": "secret-token",
       "headers": {"Authorization": "Bearer secret-header"}}
FUNCTION = {"type": "function", "function": {"name": "f", "description": "d", "strict": True,
                                             "parameters": {"type": "object", "properties": {"n": {"minimum": 1}}}}}
FLAT_FUNCTION = {"type": "function", "name": "f", "parameters": {"type": "object", "additionalProperties": False}}
MEMO_BODIES: list[dict[str, Any]] = [
    {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "x" * 40}],
     "tools": [FUNCTION, {"type": "custom", "custom": {"name": "c", "format": {"type": "text"}}}]},
    {"messages": [
        {"role": "user", "name": "ada", "content": [
            {"type": "text", "text": "look"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}]},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"n": 1}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "done"},
        {"role": 7, "content": 3}, "not a message", None]},
    {"messages": ({"role": "user", "content": "a tuple"},), "tools": []},
    {"messages": "malformed", "tools": "malformed"},
    {"input": "hello " * 10, "instructions": "be brief " * 5, "tools": [FLAT_FUNCTION, MCP, {"type": "web_search"}]},
    {"input": [{"role": "user", "content": "hi"}, {"type": "function_call", "call_id": "c", "name": "f",
                                                   "arguments": "{}"},
               {"type": "function_call_output", "call_id": "c", "output": "ok"},
               {"role": "user", "content": [{"type": "input_image", "image_url": "data:image/png;base64,AAAA"}]}],
     "instructions": [{"role": "developer", "content": "rules"}]},
    {"input": [], "instructions": "", "tools": None},
    {},
]


def whole_json(api: Api, body: dict[str, Any], media: bool, limit: int) -> dict[str, Any]:
    """What the span got before the memo: each of the Api's functions, bounded JSON, empty ones left out."""
    content = {sc.INPUT_MESSAGES: api.input_messages(body, media),
               sc.SYSTEM_INSTRUCTIONS: api.system_instructions(body, media),
               sc.TOOL_DEFINITIONS: api.tool_definitions(body)}
    return {k: bounded_json(v, limit) for k, v in content.items() if v}


@pytest.mark.parametrize("name", MEMO_APIS)
@pytest.mark.parametrize("limit", [0, 3, 32_768])
@pytest.mark.parametrize("media", [False, True])
def test_input_json_is_the_whole_mapping_encoded(name: str, limit: int, media: bool) -> None:
    """Through the memo, first and second time alike, each attribute is the bounded JSON of the Api's own
    function: the item-by-item mapping is the whole one, and joining bounded items is bounding the list."""
    api, memo = MEMO_APIS[name], JsonMemo()
    for body in MEMO_BODIES:
        expected = whole_json(api, body, media, limit)
        assert input_json(api, body, memo, media, limit) == expected, body
        assert input_json(api, body, memo, media, limit) == expected, body


def test_content_fields_cover_the_input_functions() -> None:
    """Every input function an Api with content fields has is in them (or the span would lose that attribute),
    with the same function; chat and Responses have them."""
    assert {"CHAT", "RESPONSES", "COMPACT"} <= set(MEMO_APIS)
    for api in MEMO_APIS.values():
        check_content_fields(api)


def check_content_fields(api: Api) -> None:
    functions = {sc.INPUT_MESSAGES: api.input_messages, sc.SYSTEM_INSTRUCTIONS: api.system_instructions,
                 sc.TOOL_DEFINITIONS: api.tool_definitions}
    bare = Api(operation="x", request_attributes=dict, response_attributes=dict)
    defaults = {sc.INPUT_MESSAGES: bare.input_messages, sc.SYSTEM_INSTRUCTIONS: bare.system_instructions,
                sc.TOOL_DEFINITIONS: bare.tool_definitions}
    fields = dict(api.content_fields)
    assert set(fields) == {k for k, f in functions.items() if f is not defaults[k]}
    for attribute, field in fields.items():
        assert field.whole is functions[attribute]


def test_credentials_are_not_kept() -> None:
    """A built-in Responses tool can carry credentials: mapped without them, and never kept by the memo."""
    memo = JsonMemo()
    attrs = input_json(m.RESPONSES, {"tools": [MCP, FLAT_FUNCTION]}, memo, False, 0)
    assert "secret" not in attrs[sc.TOOL_DEFINITIONS]
    assert not any(b"secret" in key[3] for key in memo._texts)
    assert memo.size() > 0  # the function tool is kept
