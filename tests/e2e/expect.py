"""What the e2e workload (tests/e2e/app.py) must look like in any backend: spans, structure, attributes."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from tests.e2e.readback import Span

MODEL = "gpt-4o-mini"
EXPECTED_NAMES = Counter(
    {
        f"chat {MODEL}": 5,  # plain, streamed, two inside the agent run, Responses
        "chat error-429": 1,
        "embeddings text-embedding-3-small": 1,
        "invoke_agent weather_agent": 1,
        "execute_tool get_weather": 1,
    }
)
# The Agents SDK run: workflow, two agents, our three model spans (no second model span), one tool.
AGENTS_SDK_NAMES = Counter(
    {
        "invoke_workflow Agent workflow": 1,
        "invoke_agent triage_agent": 1,
        "invoke_agent forecast_agent": 1,
        f"chat {MODEL}": 3,
        "execute_tool get_weather": 1,
    }
)
EXPECTED_NAMES += AGENTS_SDK_NAMES
SPAN_COUNT = sum(EXPECTED_NAMES.values())
CONTENT_KEYS = (
    "gen_ai.input.messages",
    "gen_ai.output.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.call.arguments",
    "gen_ai.tool.call.result",
)
# Text the app sends or receives; none of it may reach a backend, in any attribute, with capture off.
CONTENT_SENTINELS = ("Say hello", "Count to three", "weather like in Tokyo", "Be brief", "You said", "sunny")

# How each backend shows a span's kind: the OTLP SpanKind (our receiver), or the backend's own type.
OTLP_KINDS = {"chat": "CLIENT", "embeddings": "CLIENT", "invoke_agent": "INTERNAL", "execute_tool": "INTERNAL",
              "invoke_workflow": "INTERNAL"}
# Neither backend has a type of its own for invoke_workflow (Phoenix 20.26, MLflow 3.17): it shows untyped.
PHOENIX_KINDS = {"chat": "LLM", "embeddings": "EMBEDDING", "invoke_agent": "AGENT", "execute_tool": "TOOL",
                 "invoke_workflow": "UNKNOWN"}
MLFLOW_KINDS = {"chat": "CHAT_MODEL", "embeddings": "EMBEDDING", "invoke_agent": "AGENT", "execute_tool": "TOOL",
                "invoke_workflow": ""}


def _text(role: str, content: str, **extra: Any) -> dict[str, Any]:
    return {"role": role, "parts": [{"type": "text", "content": content}], **extra}


def check_workload(spans: list[Span], *, capture: bool, server_port: int, kinds: dict[str, str]) -> None:
    """Every expected span arrived exactly once, well formed, in the right trees, with or without content."""
    assert Counter(span.name for span in spans) == EXPECTED_NAMES, sorted(span.name for span in spans)
    assert len({span.span_id for span in spans}) == SPAN_COUNT, "a span arrived twice"
    for span in spans:
        assert span.kind == kinds[span.attributes["gen_ai.operation.name"]], (span.name, span.kind)
    workflow = next(span for span in spans if span.name.startswith("invoke_workflow"))
    sdk_run = [span for span in spans if span.trace_id == workflow.trace_id]
    _check_agents_sdk(sdk_run, server_port, capture)
    rest = [span for span in spans if span.trace_id != workflow.trace_id]
    by_role = _classify(rest)
    _check_inference(by_role, server_port)
    _check_agent(by_role, rest)
    _check_failure(by_role["failed"])
    if capture:
        _check_content(by_role)
    else:
        check_no_content(spans)


def _classify(spans: list[Span]) -> dict[str, Any]:
    """Name each span by the app step that made it."""
    agent = next(s for s in spans if s.name.startswith("invoke_agent"))
    roots = [s for s in spans if s.parent_id is None]
    chats = [s for s in roots if s.name == f"chat {MODEL}"]
    agent_chats = sorted((s for s in spans if s.parent_id == agent.span_id and s.name.startswith("chat")),
                         key=lambda s: s.start_ns)
    return {
        "agent": agent,
        "tool": next(s for s in spans if s.name.startswith("execute_tool")),
        "agent_chats": agent_chats,
        "chat": next(s for s in chats if s.attributes.get("openai.api.type") == "chat_completions"
                     and not s.attributes.get("gen_ai.request.stream")),
        "stream": next(s for s in chats if s.attributes.get("gen_ai.request.stream") is True),
        "responses": next(s for s in chats if s.attributes.get("openai.api.type") == "responses"),
        "embeddings": next(s for s in spans if s.name.startswith("embeddings")),
        "failed": next(s for s in spans if s.name == "chat error-429"),
    }


def _check_common(span: Span, operation: str, model: str, server_port: int) -> None:
    attributes = span.attributes
    assert attributes["gen_ai.operation.name"] == operation, span.name
    assert attributes["gen_ai.provider.name"] == "openai", span.name
    assert attributes["gen_ai.request.model"] == model, span.name
    assert attributes["server.address"] == "127.0.0.1", span.name
    assert attributes["server.port"] == server_port, span.name
    for forbidden in ("gen_ai.system", "gen_ai.usage.prompt_tokens", "gen_ai.usage.completion_tokens"):
        assert forbidden not in attributes, (span.name, forbidden)
    assert not any(key.startswith("gen_ai.openai.") for key in attributes), span.name


def _check_inference(by_role: dict[str, Any], server_port: int) -> None:
    chats = [by_role["chat"], by_role["stream"], by_role["responses"], *by_role["agent_chats"]]
    for span in chats:
        _check_common(span, "chat", MODEL, server_port)
        attributes = span.attributes
        assert span.status == "UNSET", span.name
        assert str(attributes["gen_ai.response.model"]).startswith(MODEL), span.name
        assert attributes["gen_ai.response.id"], span.name
        assert attributes["gen_ai.usage.input_tokens"] > 0, span.name
        assert attributes["gen_ai.usage.output_tokens"] > 0, span.name
    assert by_role["chat"].attributes["gen_ai.request.temperature"] == 0.2
    assert by_role["chat"].attributes["gen_ai.request.max_tokens"] == 50
    assert by_role["chat"].attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert by_role["stream"].attributes["gen_ai.response.time_to_first_chunk"] >= 0
    assert by_role["stream"].attributes["gen_ai.response.finish_reasons"] == ["stop"]
    assert by_role["responses"].attributes["openai.api.type"] == "responses"
    embeddings = by_role["embeddings"]
    _check_common(embeddings, "embeddings", "text-embedding-3-small", server_port)
    assert embeddings.attributes["gen_ai.embeddings.dimension.count"] == 8
    assert embeddings.attributes["gen_ai.usage.input_tokens"] > 0
    assert "gen_ai.usage.output_tokens" not in embeddings.attributes


def _check_agent(by_role: dict[str, Any], spans: list[Span]) -> None:
    agent, tool, agent_chats = by_role["agent"], by_role["tool"], by_role["agent_chats"]
    assert agent.parent_id is None
    assert agent.attributes["gen_ai.agent.name"] == "weather_agent"
    assert "gen_ai.provider.name" not in agent.attributes  # an in-process (INTERNAL) agent names no provider
    assert tool.attributes["gen_ai.agent.name"] == "weather_agent"
    assert len(agent_chats) == 2
    assert tool.parent_id == agent.span_id
    assert {s.trace_id for s in [agent, tool, *agent_chats]} == {agent.trace_id}
    # Everything outside the agent run is a trace of its own.
    others = [s for s in spans if s.trace_id != agent.trace_id]
    assert len({s.trace_id for s in others}) == len(others) == len(spans) - 4
    assert [s.attributes["gen_ai.response.finish_reasons"] for s in agent_chats] == [["tool_calls"], ["stop"]]
    assert all(s.attributes["gen_ai.agent.name"] == "weather_agent" for s in agent_chats)
    assert tool.attributes["gen_ai.tool.name"] == "get_weather"
    assert tool.attributes["gen_ai.tool.type"] == "function"
    assert str(tool.attributes["gen_ai.tool.call.id"]).startswith("call_")


def _check_agents_sdk(spans: list[Span], server_port: int, capture: bool) -> None:
    """The Agents SDK run is one tree: workflow -> agents -> our model spans and the tool, the tool with the
    model's call id, the guardrail and the handoff as events on the triage agent (where the backend keeps
    span events)."""
    assert Counter(span.name for span in spans) == AGENTS_SDK_NAMES, sorted(span.name for span in spans)
    (workflow,) = [s for s in spans if s.name.startswith("invoke_workflow")]
    triage = next(s for s in spans if s.name == "invoke_agent triage_agent")
    forecast = next(s for s in spans if s.name == "invoke_agent forecast_agent")
    tool = next(s for s in spans if s.name == "execute_tool get_weather")
    chats = sorted((s for s in spans if s.name == f"chat {MODEL}"), key=lambda s: s.start_ns)
    assert workflow.parent_id is None and workflow.attributes["gen_ai.workflow.name"] == "Agent workflow"
    assert triage.parent_id == forecast.parent_id == workflow.span_id
    assert [c.parent_id for c in chats] == [triage.span_id, forecast.span_id, forecast.span_id]
    assert [c.attributes["gen_ai.agent.name"] for c in chats] == ["triage_agent", "forecast_agent", "forecast_agent"]
    for chat in chats:
        _check_common(chat, "chat", MODEL, server_port)
        assert chat.attributes["gen_ai.usage.input_tokens"] > 0, chat.name
    assert tool.parent_id == forecast.span_id
    assert tool.attributes["gen_ai.agent.name"] == "forecast_agent"
    assert str(tool.attributes["gen_ai.tool.call.id"]).startswith("call_")
    assert "gen_ai.provider.name" not in triage.attributes  # an in-process agent, per the newest conventions
    if triage.events:
        assert triage.events == ["gen_ai.guardrail.result", "openai_agents.handoff"], triage.events
    if capture:
        assert tool.attributes["gen_ai.tool.call.arguments"] == {"city": "Tokyo"}
        assert tool.attributes["gen_ai.tool.call.result"] == {"value": "sunny"}


def _check_failure(span: Span) -> None:
    assert span.status == "ERROR"
    assert "429" in span.status_message
    assert span.attributes["error.type"] == "openai.RateLimitError"
    assert "gen_ai.usage.input_tokens" not in span.attributes


def _check_content(by_role: dict[str, Any]) -> None:
    chat = by_role["chat"].attributes
    assert chat["gen_ai.input.messages"] == [_text("user", "Say hello")]
    assert chat["gen_ai.output.messages"] == [_text("assistant", "You said: Say hello")]
    stream = by_role["stream"].attributes
    assert stream["gen_ai.input.messages"] == [_text("user", "Count to three")]
    assert stream["gen_ai.output.messages"] == [_text("assistant", "You said: Count to three")]
    responses = by_role["responses"].attributes
    assert responses["gen_ai.system_instructions"] == [{"type": "text", "content": "Be brief."}]
    assert responses["gen_ai.input.messages"] == [_text("user", "Say hello")]
    first, second = (s.attributes for s in by_role["agent_chats"])
    tool = by_role["tool"].attributes
    (call,) = first["gen_ai.output.messages"][0]["parts"]
    assert call == {"type": "tool_call", "id": tool["gen_ai.tool.call.id"], "name": "get_weather",
                    "arguments": {"city": "Tokyo"}}
    assert [d["name"] for d in first["gen_ai.tool.definitions"]] == ["get_weather"]
    assert second["gen_ai.input.messages"][-1] == {
        "role": "tool",
        "parts": [{"type": "tool_call_response", "id": tool["gen_ai.tool.call.id"], "response": {"value": "sunny"}}],
    }
    assert second["gen_ai.output.messages"] == [_text("assistant", "The weather in Tokyo is sunny.")]
    assert tool["gen_ai.tool.call.arguments"] == {"city": "Tokyo"}
    assert tool["gen_ai.tool.call.result"] == {"value": "sunny"}
    assert by_role["failed"].attributes["gen_ai.input.messages"] == [_text("user", "Fail")]


def check_no_content(spans: list[Span]) -> None:
    """No content attribute, and no prompt or answer text anywhere in what the backend stored."""
    for span in spans:
        assert not set(CONTENT_KEYS) & set(span.attributes), span.name
        stored = json.dumps(span.raw, default=str)
        for sentinel in CONTENT_SENTINELS:
            assert sentinel not in stored, (span.name, sentinel)
