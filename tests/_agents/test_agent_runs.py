"""Whole agent runs through a real client: agent, model and tool spans form one trace."""

from __future__ import annotations

import json
from typing import Any

import openai

from otel_openai import run_tool_call, trace_agent, trace_tool
from tests._agents.conftest import WEATHER_TOOLS
from tests.conftest import Telemetry

# --- whole agent runs through a real client ----------------------------------------------------------


def test_agent_chat_tool_chat_is_one_trace(content: Telemetry, client: openai.OpenAI) -> None:
    """agent -> chat -> execute_tool -> chat: one trace, model spans children of the agent, ids linked."""
    @trace_tool
    def get_weather(city: str) -> str:
        return "sunny"

    @trace_agent(name="weather_agent")
    def agent(question: str) -> str:
        messages: list[Any] = [{"role": "user", "content": question}]
        first = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=WEATHER_TOOLS)
        call = first.choices[0].message.tool_calls[0]
        messages += [first.choices[0].message,
                     {"role": "tool", "tool_call_id": call.id, "content": run_tool_call(call, get_weather)}]
        second = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=WEATHER_TOOLS)
        return second.choices[0].message.content or ""

    assert agent("Weather in Tokyo?") == "The weather in Tokyo is sunny."
    spans = sorted(content.finished_spans(), key=lambda s: s.start_time)
    assert [s.name for s in spans] == ["invoke_agent weather_agent", "chat gpt-4o-mini",
                                       "execute_tool get_weather", "chat gpt-4o-mini"]
    root, chat1, tool, chat2 = spans
    assert {s.context.trace_id for s in spans} == {root.context.trace_id}
    assert root.parent is None
    assert all(s.parent.span_id == root.context.span_id for s in (chat1, tool, chat2))
    assert chat1.attributes["gen_ai.agent.name"] == chat2.attributes["gen_ai.agent.name"] == "weather_agent"
    call_id = json.loads(chat1.attributes["gen_ai.output.messages"])[0]["parts"][0]["id"]
    assert tool.attributes["gen_ai.tool.call.id"] == call_id
    assert call_id in chat2.attributes["gen_ai.input.messages"]


def test_model_spans_outside_an_agent_have_no_agent_name(no_content: Telemetry, client: openai.OpenAI) -> None:
    """gen_ai.agent.name appears only on model spans started inside an agent span."""
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    with trace_agent("inner_agent"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    outside, inside = sorted((s for s in no_content.finished_spans() if s.name.startswith("chat")),
                             key=lambda s: s.start_time)
    assert "gen_ai.agent.name" not in outside.attributes
    assert inside.attributes["gen_ai.agent.name"] == "inner_agent"


async def test_async_agent_through_a_real_client(content: Telemetry, aclient: openai.AsyncOpenAI) -> None:
    """The async agent run is one trace with the same shape as the sync one."""
    @trace_agent(name="async_agent")
    async def agent() -> str:
        messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
        first = await aclient.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=WEATHER_TOOLS)
        call = first.choices[0].message.tool_calls[0]
        with trace_tool(tool_call=call) as tool:
            tool.set_result("rainy")
        messages += [first.choices[0].message, {"role": "tool", "tool_call_id": call.id, "content": "rainy"}]
        second = await aclient.chat.completions.create(model="gpt-4o-mini", messages=messages)
        return second.choices[0].message.content or ""

    assert await agent() == "The weather in Paris is rainy."
    spans = sorted(content.finished_spans(), key=lambda s: s.start_time)
    root = spans[0]
    assert [s.name for s in spans] == ["invoke_agent async_agent", "chat gpt-4o-mini",
                                       "execute_tool get_weather", "chat gpt-4o-mini"]
    assert all(s.parent.span_id == root.context.span_id for s in spans[1:])
    assert spans[3].attributes["gen_ai.agent.name"] == "async_agent"
