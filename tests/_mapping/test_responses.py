"""Pure Responses mapping: request parameters, statuses, items as parts, and the event accumulator."""

from __future__ import annotations

import json
from typing import Any

import pytest

from otel_openai import _semconv as sc
from otel_openai._mapping import responses
from tests.conftest import fixture_json, fixture_text

types = pytest.importorskip("openai.types.responses", reason="the Responses API arrived in openai 1.66")
from openai._models import construct_type  # noqa: E402  (after the skip: the helper exists in every SDK)


def response(name: str = "responses/text.json", **changes: Any) -> Any:
    return types.Response.model_validate({**fixture_json(name), **changes})


def events(name: str) -> list[Any]:
    """SSE fixture events built the way the SDK builds them (no validation)."""
    return [construct_type(type_=types.ResponseStreamEvent, value=json.loads(line[6:]))
            for line in fixture_text(name).splitlines() if line.startswith("data: ")]


class Options:
    def __init__(self, params: Any) -> None:
        self.params = params


def test_request_attributes() -> None:
    """Nested and Responses-only parameters map to their GenAI names; service tier auto is absent."""
    attrs = responses.request_attributes({
        "max_output_tokens": 10, "reasoning": {"effort": "high"}, "conversation": "conv_9",
        "text": {"format": {"type": "json_schema", "name": "x", "schema": {}}}, "service_tier": "auto",
        "stream": True})
    assert attrs == {sc.OPENAI_API_TYPE: "responses", sc.REQUEST_MAX_TOKENS: 10,
                     sc.REQUEST_REASONING_LEVEL: "high", sc.CONVERSATION_ID: "conv_9", sc.OUTPUT_TYPE: "json",
                     sc.REQUEST_STREAM: True}


def test_retrieve_body() -> None:
    """A retrieve reports stream=True only when the query asks for a stream, and its cursor as text."""
    assert responses.retrieve_body(Options({"stream": True, "starting_after": 3})) == {
        "stream": True, "starting_after": "3"}
    assert responses.retrieve_body(Options({"starting_after": True})) == {}
    assert responses.retrieve_body(Options({})) == {}
    assert responses.retrieve_body(Options(None)) == {}


def test_failed_response() -> None:
    """A failed response carries error.type from its error code and finish reason ``error``."""
    attrs = responses.response_attributes(response(status="failed", error={"code": "server_error",
                                                                            "message": "x"}))
    assert attrs[sc.ERROR_TYPE] == "server_error"
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ["error"]


def test_background_response_has_no_finish_reason_yet() -> None:
    """A queued or running background response reports no finish reason; output messages never carry one."""
    for status in ("queued", "in_progress"):
        resp = response(status=status, background=True)
        assert sc.RESPONSE_FINISH_REASONS not in responses.response_attributes(resp)
        assert "finish_reason" not in responses.output_messages(resp, False)[0]


def test_conversation_from_response() -> None:
    """The response's conversation id is recorded."""
    if "conversation" not in types.Response.model_fields:
        pytest.skip("this SDK's Response has no conversation field")
    resp = response(conversation={"id": "conv_7"})
    assert responses.response_attributes(resp).get(sc.CONVERSATION_ID) == "conv_7"


def test_item_parts() -> None:
    """Every item kind becomes a part; nothing is dropped: items without a dedicated shape are generic."""
    items = [
        {"type": "custom_tool_call", "call_id": "c1", "name": "grep", "input": "foo"},
        {"type": "custom_tool_call_output", "call_id": "c1", "output": "bar"},
        {"type": "code_interpreter_call", "id": "ci_1", "code": "1+1", "status": "completed"},
        {"type": "item_reference", "id": "msg_0"},
        {"role": "developer", "content": [{"type": "input_text", "text": "rules"},
                                          {"type": "input_image", "image_url": "https://i.test/a.png"}]},
    ]
    messages = responses.input_messages({"input": items}, False)
    assert [m["role"] for m in messages] == ["assistant", "tool", "assistant", "assistant", "developer"]
    assert messages[0]["parts"] == [{"type": "tool_call", "id": "c1", "name": "grep", "arguments": {"value": "foo"}}]
    assert messages[1]["parts"] == [{"type": "tool_call_response", "id": "c1", "response": {"value": "bar"}}]
    assert messages[2]["parts"] == [{"type": "server_tool_call", "id": "ci_1", "name": "code_interpreter",
                                     "server_tool_call": {"type": "code_interpreter", "code": "1+1"}}]
    assert messages[3]["parts"] == [{"type": "generic", "generic_type": "item_reference", "id": "msg_0"}]
    assert messages[4]["parts"][1] == {"type": "uri", "modality": "image", "uri": "https://i.test/a.png"}


def test_generated_image_is_a_sized_blob() -> None:
    """An image_generation_call is a server tool call followed by its image: a blob with media capture on,
    else the withheld part with its size."""
    item = {"type": "image_generation_call", "id": "ig_1", "status": "completed", "result": "QUJD" * 10,
            "output_format": "png"}
    call, image = responses.item_parts(item, False)
    assert call == {"type": "server_tool_call", "id": "ig_1", "name": "image_generation",
                    "server_tool_call": {"type": "image_generation", "output_format": "png"}}
    assert image == {"type": "generic", "generic_type": "blob", "modality": "image", "mime_type": "image/png",
                     "byte_size": 30, "stripped_reason": "media_capture_off"}
    _, image = responses.item_parts(item, True)
    assert image == {"type": "blob", "modality": "image", "mime_type": "image/png", "content": "QUJD" * 10}


def test_built_in_tool_call_and_its_outputs() -> None:
    """A built-in tool's item becomes the call (what it was asked) and, when it produced something, the
    response (outputs, results, errors), both typed with the tool's name."""
    item = {"type": "code_interpreter_call", "id": "ci_1", "status": "completed", "code": "1+1",
            "container_id": "cntr_1", "outputs": [{"type": "logs", "logs": "2"}]}
    assert responses.item_parts(item, False) == [
        {"type": "server_tool_call", "id": "ci_1", "name": "code_interpreter",
         "server_tool_call": {"type": "code_interpreter", "code": "1+1", "container_id": "cntr_1"}},
        {"type": "server_tool_call_response", "id": "ci_1",
         "server_tool_call_response": {"type": "code_interpreter", "outputs": [{"type": "logs", "logs": "2"}]}}]


def test_function_call_output_with_media() -> None:
    """A function call's output given as content items becomes parts inside the response object, its images
    withheld like any other media."""
    item = {"type": "function_call_output", "call_id": "c", "output": [
        {"type": "input_text", "text": "chart:"}, {"type": "input_image", "image_url": "data:image/png;base64,QUJD"}]}
    (part,) = responses.item_parts(item, False)
    assert part == {"type": "tool_call_response", "id": "c", "response": {"value": [
        {"type": "text", "content": "chart:"},
        {"type": "generic", "generic_type": "blob", "modality": "image", "mime_type": "image/png", "byte_size": 3,
         "stripped_reason": "media_capture_off"}]}}


def test_reasoning_compaction_and_tool_definitions() -> None:
    """Reasoning summaries are reasoning parts (an unreadable one stays as generic); compaction items are
    compaction parts; built-in tools are named after their type and never carry MCP credentials."""
    assert responses.item_parts({"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "x"},
                                False) == [{"type": "generic", "generic_type": "reasoning", "id": "rs_1"}]
    assert responses.item_parts({"type": "reasoning", "summary": [{"type": "summary_text", "text": "hm"}]},
                                False) == [{"type": "reasoning", "content": "hm"}]
    assert responses.item_parts({"type": "compaction", "id": "cmp_1", "encrypted_content": "x"}, False) == [
        {"type": "compaction", "id": "cmp_1"}]
    tools = [{"type": "web_search", "search_context_size": "low"}, {"type": "file_search", "vector_store_ids": ["v"]},
             {"type": "mcp", "server_label": "s", "authorization": "secret", "headers": {"Authorization": "x"}},
             {"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}}]
    assert responses.tool_definitions({"tools": tools}) == [
        {"type": "web_search", "name": "web_search", "search_context_size": "low"},
        {"type": "file_search", "name": "file_search", "vector_store_ids": ["v"]},
        {"type": "mcp", "name": "mcp", "server_label": "s"},
        {"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}}]


def test_instructions_as_items() -> None:
    """Instructions given as input items (newer SDKs) become parts too."""
    body = {"instructions": [{"role": "developer", "content": "be kind"}]}
    assert responses.system_instructions(body, False) == [{"type": "text", "content": "be kind"}]
    assert responses.system_instructions({}, False) == []


def test_accumulator_completed_stream() -> None:
    """A full stream gives the completed response's attributes and output."""
    acc = responses.ResponsesAccumulator(True)
    for event in events("responses/stream_text.sse"):
        acc.add(event)
    attrs = acc.attributes()
    assert attrs[sc.RESPONSE_ID] == "resp_abc123"
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ["stop"]
    assert attrs[sc.USAGE_CACHE_READ_INPUT_TOKENS] == 4
    assert acc.output_messages(False)[0]["parts"] == [{"type": "text", "content": "Paris."}]


def test_accumulator_cut_stream_text_per_output_index() -> None:
    """A cut stream's text is joined per output index in index order, whatever order the deltas came in;
    deltas that are no text are dropped, and an index with only those gives no part."""
    acc = responses.ResponsesAccumulator(True)
    for index, delta in [(1, "b1"), (0, "a1"), (0, None), (1, "b2"), (2, 7), (0, "a2")]:
        acc.add(construct_type(type_=types.ResponseStreamEvent, value={
            "type": "response.output_text.delta", "output_index": index, "delta": delta, "item_id": "m",
            "content_index": 0}))
    assert acc.output_messages(False) == [{"role": "assistant", "parts": [
        {"type": "text", "content": "a1a2"}, {"type": "text", "content": "b1b2"}]}]


def test_accumulator_cut_stream_without_capture() -> None:
    """Without capture a cut stream keeps no text, and reports id, model and finish reason ``error``."""
    acc = responses.ResponsesAccumulator(False)
    for event in events("responses/stream_cut.sse"):
        acc.add(event)
    assert acc.output_messages(False) == []
    attrs = acc.attributes()
    assert attrs[sc.RESPONSE_MODEL] == "gpt-4o-2024-08-06"
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ["error"]


def test_accumulator_error_event() -> None:
    """An `error` event's code becomes error.type."""
    acc = responses.ResponsesAccumulator(False)
    for event in events("responses/stream_error_event.sse"):
        acc.add(event)
    assert acc.attributes()[sc.ERROR_TYPE] == "rate_limit_exceeded"


def test_accumulator_counts_only_deltas_as_output() -> None:
    """Lifecycle events (created, in_progress, completed) are not output chunks; text deltas are, so the
    time to first chunk starts at the first token rather than at ``response.created``."""
    acc = responses.ResponsesAccumulator(False)
    flags = {event.type: acc.add(event) for event in events("responses/stream_text.sse")}
    assert flags["response.created"] is False
    assert flags["response.completed"] is False
    assert flags["response.output_text.delta"] is True


def test_auto_tier_and_unknown_format_leave_no_attribute() -> None:
    """``service_tier="auto"`` and a ``text.format`` type that is neither text nor JSON are not recorded."""
    attrs = responses.request_attributes({"model": "m", "service_tier": "auto",
                                          "text": {"format": {"type": "grammar"}}})
    assert sc.OPENAI_REQUEST_SERVICE_TIER not in attrs
    assert sc.OUTPUT_TYPE not in attrs


# --- fetch_response, compact, finish reasons -----------------------------------------------------------


class UrlOptions:
    def __init__(self, url: str, params: Any = None) -> None:
        self.url = url
        self.params = params


def test_fetch_request_attributes() -> None:
    """A fetch names the response from its path (query strings ignored), the stream flag and the cursor."""
    body = responses.retrieve_body(UrlOptions("/responses/resp_1?beta=true", {"stream": "true",
                                                                              "starting_after": 7}))
    assert responses.fetch_request_attributes(body) == {
        sc.OPENAI_API_TYPE: "responses", sc.RESPONSE_ID: "resp_1", sc.REQUEST_STREAM: True,
        sc.REQUEST_STREAM_CURSOR: "7"}


def test_fetch_attributes_have_status_and_no_usage() -> None:
    """A fetched response reports its status and outcome but none of its usage."""
    attrs = responses.fetch_attributes(response())
    assert attrs[sc.RESPONSE_STATUS] == "completed"
    assert attrs[sc.RESPONSE_FINISH_REASONS] == ["stop"]
    assert not [key for key in attrs if key.startswith("gen_ai.usage.")]


@pytest.mark.parametrize(("changes", "reason"), [
    ({"status": "completed"}, "stop"),
    ({"status": "incomplete", "incomplete_details": {"reason": "max_output_tokens"}}, "length"),
    ({"status": "incomplete", "incomplete_details": {"reason": "content_filter"}}, "content_filter"),
    ({"status": "incomplete", "incomplete_details": None}, "error"),
    ({"status": "failed"}, "error"),
    ({"status": "cancelled"}, "error"),
    ({"status": "queued"}, None),
    ({"status": "in_progress"}, None),
])
def test_finish_reason_from_status(changes: dict[str, Any], reason: Any) -> None:
    """Statuses map to the chat vocabulary; an abnormal end is `error`; an unfinished response has none."""
    assert responses.finish_reason(response(**changes)) == reason


def test_compact_attributes() -> None:
    """A compacted response gives its id and usage (cache writes included) and no finish reason."""
    body = fixture_json("responses/compacted.json")
    # Built as the SDK builds it (no validation), where the SDK has the model (openai >= 2.9).
    compacted = construct_type(type_=types.CompactedResponse, value=body) if hasattr(types, "CompactedResponse") \
        else body
    assert responses.compact_attributes(compacted) == {
        sc.RESPONSE_ID: "resp_cmp_1", sc.USAGE_INPUT_TOKENS: 1200, sc.USAGE_OUTPUT_TOKENS: 150,
        sc.USAGE_CACHE_READ_INPUT_TOKENS: 800, sc.USAGE_CACHE_WRITE_INPUT_TOKENS: 300,
        sc.USAGE_REASONING_OUTPUT_TOKENS: 64}


def test_fetch_accumulator_drops_usage() -> None:
    """A resumed stream reports what the final event says, except its usage."""
    acc = responses.FetchAccumulator(False)
    for event in events("responses/stream_text.sse"):
        acc.add(event)
    attrs = acc.attributes()
    assert (attrs[sc.RESPONSE_STATUS], attrs[sc.RESPONSE_FINISH_REASONS]) == ("completed", ["stop"])
    assert sc.USAGE_OUTPUT_TOKENS not in attrs
    plain = responses.ResponsesAccumulator(False)
    for event in events("responses/stream_text.sse"):
        plain.add(event)
    assert plain.attributes()[sc.USAGE_OUTPUT_TOKENS] == 87
def test_tool_calls_of_a_response() -> None:
    """A response's function calls as (call_id, name); a text response has none."""
    assert responses.tool_calls(response("responses/function_call.json")) == [("call_1", "get_weather")]
    assert responses.tool_calls(response()) == []
