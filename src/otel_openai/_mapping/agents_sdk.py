"""OpenAI Agents SDK span data -> GenAI attributes: workflows, agents, tools, handoffs, guardrails, model calls.

Pure functions over the SDK's ``Trace`` and ``*SpanData`` objects (openai-agents 0.3.x to 0.24), read by field
name through ``get`` so no SDK class is imported and a field a release lacks reads as absent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional
from urllib.parse import urlsplit

from otel_openai import _content
from otel_openai import _semconv as sc
from otel_openai._mapping import chat, responses
from otel_openai._mapping._common import Attributes, as_float, as_int, as_str, get, put

# The SDK's model_config keys that match a request attribute.
_CONFIG_FLOATS = (
    ("temperature", sc.REQUEST_TEMPERATURE),
    ("top_p", sc.REQUEST_TOP_P),
    ("frequency_penalty", sc.REQUEST_FREQUENCY_PENALTY),
    ("presence_penalty", sc.REQUEST_PRESENCE_PENALTY),
)


def span_name(operation: str, name: Optional[str]) -> str:
    return f"{operation} {name}" if name else operation


def workflow_attributes(trace: Any) -> Attributes:
    """A trace: the workflow's name, and its ``group_id`` as the conversation."""
    attrs: Attributes = {sc.OPERATION_NAME: sc.OP_INVOKE_WORKFLOW}
    put(attrs, sc.WORKFLOW_NAME, as_str(get(trace, "name")))
    put(attrs, sc.CONVERSATION_ID, as_str(get(trace, "group_id")))
    return attrs


def agent_attributes(name: str) -> Attributes:
    """An in-process agent (INTERNAL): per the newest conventions, no provider name and no agent id."""
    return {sc.OPERATION_NAME: sc.OP_INVOKE_AGENT, sc.AGENT_NAME: name}


def tool_attributes(name: str, agent: Optional[str], call_id: Optional[str]) -> Attributes:
    """A function tool at its start: what a sampler may want, and the model's call id when we have it."""
    attrs: Attributes = {sc.OPERATION_NAME: sc.OP_EXECUTE_TOOL, sc.TOOL_NAME: name,
                         sc.TOOL_TYPE: sc.TOOL_TYPE_FUNCTION}
    put(attrs, sc.AGENT_NAME, agent)
    put(attrs, sc.TOOL_CALL_ID, call_id)
    return attrs


def tool_end_attributes(data: Any) -> Attributes:
    """What is known only when the tool is done: an MCP server answered it (the SDK sets ``mcp_data`` then).
    An MCP tool runs on the agent's side against an external server: an ``extension`` in the conventions'
    terms, and the MCP conventions' method name joins the execute_tool span instead of a second span."""
    if not get(data, "mcp_data"):
        return {}
    return {sc.TOOL_TYPE: sc.TOOL_TYPE_EXTENSION, sc.MCP_METHOD_NAME: sc.MCP_METHOD_TOOLS_CALL}


def tool_content(value: Any, limit: int) -> str:
    """A tool's arguments or result as recorded: a JSON object (``_content.json_object``: the model's JSON
    arguments parsed, a text result as ``{"value": ...}``), pydantic models dumped first; strings bounded."""
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        value = dump(mode="json", warnings=False)
    return _content.to_json(_content.bounded(_content.json_object(value), limit))


def error_description(error: Any) -> str:
    """The SDK's ``SpanError`` message; its ``data`` may hold the user's exception text, which is content."""
    return as_str(get(error, "message")) or "error"


def handoff_attributes(data: Any, source: Optional[str]) -> Attributes:
    """Source and target of a handoff, read when it ends (the target is unknown until then)."""
    attrs: Attributes = {}
    put(attrs, sc.HANDOFF_FROM_AGENT, as_str(get(data, "from_agent")) or source)
    put(attrs, sc.HANDOFF_TO_AGENT, as_str(get(data, "to_agent")))
    return attrs


def guardrail_attributes(data: Any) -> Attributes:
    """The conventions' OpenAI Agents mapping: the guardrail's name and its tripwire, as the SDK reports
    them. The SDK's guardrail span does not say whether it guarded input or output, so no source."""
    attrs: Attributes = {sc.GUARDRAIL_RESULT_TYPE: sc.GUARDRAIL_RESULT_TRIPWIRE,
                         sc.GUARDRAIL_RESULT_VALUE: "true" if get(data, "triggered") else "false"}
    put(attrs, sc.GUARDRAIL_COMPONENT_NAME, as_str(get(data, "name")))
    return attrs


# --- model calls no otel-openai span covered -----------------------------------------------------------------


def model_request_attributes(data: Any, provider: Optional[str]) -> Attributes:
    """Start attributes of a ``chat`` span built from a ``generation`` or ``response`` span: a model the
    openai SDK never saw (LiteLLM and other ``Model`` implementations)."""
    config = get(data, "model_config")
    response = get(data, "response")
    model = as_str(get(data, "model")) or as_str(get(response, "model"))
    attrs: Attributes = {sc.OPERATION_NAME: sc.OP_CHAT,
                         sc.PROVIDER_NAME: provider or _provider(config) or sc.ERROR_TYPE_OTHER}
    put(attrs, sc.REQUEST_MODEL, model)
    if isinstance(config, Mapping):
        for key, attr in _CONFIG_FLOATS:
            put(attrs, attr, as_float(config.get(key)))
        put(attrs, sc.REQUEST_MAX_TOKENS, as_int(config.get("max_tokens")))
    return attrs


def _provider(config: Any) -> Optional[str]:
    """``openai`` only when the model's base URL is OpenAI's own; anything else would be a guess."""
    base_url = as_str(get(config, "base_url"))
    host = urlsplit(base_url).hostname if base_url else None
    return sc.PROVIDER_OPENAI if host == "api.openai.com" else None


def model_response_attributes(data: Any) -> Attributes:
    """The usage a ``generation`` span reports, or everything a ``response`` span's ``Response`` holds."""
    response = get(data, "response")
    if response is not None:
        return responses.response_attributes(response)
    attrs: Attributes = {}
    usage = get(data, "usage")
    put(attrs, sc.USAGE_INPUT_TOKENS, as_int(get(usage, "input_tokens")))
    put(attrs, sc.USAGE_OUTPUT_TOKENS, as_int(get(usage, "output_tokens")))
    return attrs


def model_input_messages(data: Any, capture_media: bool) -> list[dict[str, Any]]:
    """A generation's chat-format input (present only when the run allows sensitive data)."""
    messages = get(data, "input")
    return chat.input_messages({"messages": messages}, capture_media) if isinstance(messages, list) else []


def model_output_messages(data: Any, capture_media: bool) -> list[dict[str, Any]]:
    """A generation's output messages, or a response span's output items."""
    response = get(data, "response")
    if response is not None:
        return responses.output_messages(response, capture_media)
    output = get(data, "output")
    if not isinstance(output, list):
        return []
    return chat.output_messages({"choices": [{"index": i, "message": m} for i, m in enumerate(output)]},
                                capture_media)
