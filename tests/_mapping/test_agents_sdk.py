"""Agents SDK mapping, pure: stand-ins shaped like the SDK's Trace and span data in, attributes out."""

from __future__ import annotations

from types import SimpleNamespace as Data

from otel_openai import _semconv as sc
from otel_openai._agent_run import AgentRun
from otel_openai._mapping import agents_sdk as mapping


def test_workflow_attributes_with_and_without_group() -> None:
    """A trace is an invoke_workflow; its group_id is the conversation, only when set."""
    assert mapping.workflow_attributes(Data(name="Support", group_id="thread_42")) == {
        sc.OPERATION_NAME: "invoke_workflow", sc.WORKFLOW_NAME: "Support", sc.CONVERSATION_ID: "thread_42"}
    assert sc.CONVERSATION_ID not in mapping.workflow_attributes(Data(name="Support", group_id=None))


def test_agent_attributes_have_no_provider_or_id() -> None:
    """An in-process agent carries its name; no provider name and no agent id (newest conventions)."""
    assert mapping.agent_attributes("triage") == {sc.OPERATION_NAME: "invoke_agent", sc.AGENT_NAME: "triage"}


def test_tool_attributes_leave_out_what_is_unknown() -> None:
    """Without an agent or a call id, those attributes are absent rather than empty."""
    assert mapping.tool_attributes("lookup", None, None) == {
        sc.OPERATION_NAME: "execute_tool", sc.TOOL_NAME: "lookup", sc.TOOL_TYPE: "function"}


def test_mcp_tool_is_an_extension_with_the_mcp_method() -> None:
    """A tool an MCP server answered (``mcp_data`` set) is an extension tool with ``mcp.method.name``."""
    assert mapping.tool_end_attributes(Data(mcp_data={"server": "files"})) == {
        sc.TOOL_TYPE: "extension", sc.MCP_METHOD_NAME: "tools/call"}
    assert mapping.tool_end_attributes(Data(mcp_data=None)) == {}


def test_tool_content_is_always_a_json_object() -> None:
    """JSON arguments are parsed and re-encoded as an object; a text result becomes ``{"value": ...}``
    (the schema wants an object); strings inside are bounded."""
    assert mapping.tool_content('{"city": "Paris"}', 100) == '{"city":"Paris"}'
    assert mapping.tool_content({"temp": 21, "sky": "clear"}, 100) == '{"temp":21,"sky":"clear"}'
    assert mapping.tool_content("x" * 10, 4) == '{"value":"xxxx…[truncated]"}'


def test_handoff_names_source_and_target() -> None:
    """A handoff's target is read from the ended span; its source falls back to the agent around it."""
    assert mapping.handoff_attributes(Data(from_agent=None, to_agent="billing"), "triage") == {
        sc.HANDOFF_FROM_AGENT: "triage", sc.HANDOFF_TO_AGENT: "billing"}


def test_guardrail_result_is_the_native_tripwire() -> None:
    """The guardrail's name and its tripwire as a string, per the conventions' OpenAI Agents example."""
    assert mapping.guardrail_attributes(Data(name="no_pii", triggered=True)) == {
        sc.GUARDRAIL_COMPONENT_NAME: "no_pii", sc.GUARDRAIL_RESULT_TYPE: "tripwire_triggered",
        sc.GUARDRAIL_RESULT_VALUE: "true"}


def test_error_description_is_the_message_only() -> None:
    """The SDK's error data can hold the user's exception text: only its message is used."""
    assert mapping.error_description({"message": "Error running tool", "data": {"error": "secret"}}) == (
        "Error running tool")


def test_model_span_from_a_generation() -> None:
    """An uncovered generation: model, config and usage; the provider only when certain."""
    data = Data(model="llama3", model_config={"temperature": 0.2, "max_tokens": 50, "base_url": "http://x/v1"},
                usage={"input_tokens": 9, "output_tokens": 4}, response=None)
    assert mapping.model_request_attributes(data, None) == {
        sc.OPERATION_NAME: "chat", sc.PROVIDER_NAME: "_OTHER", sc.REQUEST_MODEL: "llama3",
        sc.REQUEST_TEMPERATURE: 0.2, sc.REQUEST_MAX_TOKENS: 50}
    assert mapping.model_request_attributes(data, "vllm")[sc.PROVIDER_NAME] == "vllm"
    openai_data = Data(model="gpt-4o", model_config={"base_url": "https://api.openai.com/v1/"}, response=None)
    assert mapping.model_request_attributes(openai_data, None)[sc.PROVIDER_NAME] == "openai"
    assert mapping.model_response_attributes(data) == {sc.USAGE_INPUT_TOKENS: 9, sc.USAGE_OUTPUT_TOKENS: 4}


def test_model_content_from_a_generation() -> None:
    """A generation's chat-format input and output become GenAI messages."""
    data = Data(input=[{"role": "user", "content": "Hi"}], output=[{"role": "assistant", "content": "Hello"}],
                response=None)
    assert mapping.model_input_messages(data, False) == [{"role": "user", "parts": [
        {"type": "text", "content": "Hi"}]}]
    assert mapping.model_output_messages(data, False)[0]["parts"] == [{"type": "text", "content": "Hello"}]


def test_agent_run_hands_out_ids_in_order() -> None:
    """Tool-call ids go to tool spans by name, first listed first; namespaced trace names match too."""
    run = AgentRun("weather")
    run.model_call_ended([("c1", "get_weather"), ("c2", "get_weather"), ("c3", "lookup")])
    assert [run.claim("get_weather"), run.claim("ns.lookup"), run.claim("get_weather")] == ["c1", "c3", "c2"]
    assert run.claim("get_weather") is None
    run.model_call_ended([])  # a response without tool calls leaves what is unclaimed
    assert run.tool_calls == []
