"""trace_tool and trace_agent: every decorator form, and the context managers."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from opentelemetry.trace import SpanKind, StatusCode

from otel_openai import trace_agent, trace_tool
from tests._agents.conftest import by_name
from tests.conftest import Telemetry

# --- decorator forms ---------------------------------------------------------------------------------


def test_bare_decorator_makes_an_execute_tool_span(content: Telemetry) -> None:
    """@trace_tool names the span after the function and records arguments and result."""
    @trace_tool
    def get_weather(city: str, unit: str = "C") -> str:
        return "sunny"

    assert get_weather("Tokyo") == "sunny"
    span = content.only_span()
    assert span.name == "execute_tool get_weather"
    assert span.kind is SpanKind.INTERNAL
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.arguments": '{"city":"Tokyo"}',
        "gen_ai.tool.call.result": '{"value":"sunny"}',
    }
    assert span.status.status_code is StatusCode.UNSET


def test_decorator_with_arguments_sets_name_and_description(content: Telemetry) -> None:
    """@trace_tool(name=, description=) and @trace_tool("name") override the defaults."""
    @trace_tool(name="weather", description="Current weather.")
    def first(city: str) -> dict[str, str]:
        return {"sky": "clear"}

    @trace_tool("forecast")
    def second(**kwargs: Any) -> list[int]:
        return [1, 2]

    first("Paris")
    second(city="Paris", days=2)
    spans = by_name(content)
    assert spans["execute_tool weather"].attributes["gen_ai.tool.description"] == "Current weather."
    assert spans["execute_tool weather"].attributes["gen_ai.tool.call.result"] == '{"sky":"clear"}'
    assert spans["execute_tool forecast"].attributes["gen_ai.tool.call.arguments"] == '{"city":"Paris","days":2}'
    assert spans["execute_tool forecast"].attributes["gen_ai.tool.call.result"] == '{"value":[1,2]}'


def test_wraps_preserves_signature_docstring_and_kind() -> None:
    """Decorated functions keep their name, docstring and signature, and stay coroutine/generator functions."""
    @trace_tool
    def plain(city: str, *, unit: str = "C") -> str:
        """Plain doc."""
        return city

    @trace_agent(name="a")
    async def coro(question: str) -> str:
        return question

    @trace_tool
    def gen(n: int) -> Iterator[int]:
        yield n

    @trace_tool
    async def agen(n: int) -> AsyncIterator[int]:
        yield n

    assert plain.__name__ == "plain" and plain.__doc__ == "Plain doc."
    assert str(inspect.signature(plain)) == "(city: 'str', *, unit: 'str' = 'C') -> 'str'"
    assert inspect.iscoroutinefunction(coro)
    assert inspect.isgeneratorfunction(gen)
    assert inspect.isasyncgenfunction(agen)


async def test_async_tool_and_agent(content: Telemetry) -> None:
    """Coroutine functions get spans that cover the await, the tool a child of the agent that names it; the
    in-process agent span has no provider and no agent id (the conventions' INTERNAL invoke_agent)."""
    @trace_tool
    async def lookup(city: str) -> str:
        await asyncio.sleep(0)
        return "rainy"

    @trace_agent(name="helper", description="Helps.", agent_id="agent_42")
    async def agent(question: str) -> str:
        return await lookup("Paris")

    assert await agent("weather?") == "rainy"
    spans = by_name(content)
    tool, root = spans["execute_tool lookup"], spans["invoke_agent helper"]
    assert tool.parent.span_id == root.context.span_id
    assert dict(root.attributes) == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": "helper",
        "gen_ai.agent.description": "Helps.",
    }
    assert tool.attributes["gen_ai.agent.name"] == "helper"


def test_methods_static_and_class_methods(content: Telemetry) -> None:
    """Methods work, and ``self`` / ``cls`` never appear in the recorded arguments."""
    class Tools:
        @trace_tool
        def weather(self, city: str) -> str:
            return "sunny"

        @trace_tool(name="static_weather")
        @staticmethod
        def static(city: str) -> str:
            return "windy"

        @trace_tool
        @classmethod
        def klass(cls, city: str) -> str:
            return cls.__name__

    tools = Tools()
    assert (tools.weather("Tokyo"), Tools.static("Oslo"), Tools.klass("Rome")) == ("sunny", "windy", "Tools")
    spans = by_name(content)
    assert spans["execute_tool weather"].attributes["gen_ai.tool.call.arguments"] == '{"city":"Tokyo"}'
    assert spans["execute_tool static_weather"].attributes["gen_ai.tool.call.arguments"] == '{"city":"Oslo"}'
    assert spans["execute_tool klass"].attributes["gen_ai.tool.call.arguments"] == '{"city":"Rome"}'


def test_agent_decorator_without_arguments(content: Telemetry) -> None:
    """@trace_agent names the span after the function."""
    @trace_agent
    def planner() -> int:
        return 1

    planner()
    span = content.only_span()
    assert span.name == "invoke_agent planner"
    assert span.attributes["gen_ai.agent.name"] == "planner"


def test_agent_spans_name_no_provider(instrument: Any) -> None:
    """An in-process agent has no provider, whatever instrument(provider_name=...) says: its model calls do."""
    telemetry = instrument(provider_name="azure.ai.openai")
    with trace_agent("a"):
        pass
    assert "gen_ai.provider.name" not in telemetry.only_span().attributes


# --- context managers --------------------------------------------------------------------------------


def test_tool_context_manager_with_call_id_and_result(content: Telemetry) -> None:
    """``with trace_tool(name, call_id=, arguments=) as tool`` records what it was given and the result."""
    with trace_tool("get_weather", call_id="call_1", arguments='{"city":"Tokyo"}') as tool:
        tool.set_result("sunny")
    assert dict(content.only_span().attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.id": "call_1",
        "gen_ai.tool.call.arguments": '{"city":"Tokyo"}',
        "gen_ai.tool.call.result": '{"value":"sunny"}',
    }


def test_tool_context_manager_from_a_tool_call(content: Telemetry) -> None:
    """``trace_tool(tool_call=...)`` takes the name, id and arguments from the model's tool call."""
    call = {"id": "call_9", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}
    with trace_tool(tool_call=call) as tool:
        assert tool.call_id == "call_9"
    span = content.only_span()
    assert span.name == "execute_tool get_weather"
    assert span.attributes["gen_ai.tool.call.id"] == "call_9"
    assert span.attributes["gen_ai.tool.call.arguments"] == '{"city":"Oslo"}'


def test_agent_context_manager_parents_inner_spans(content: Telemetry) -> None:
    """``with trace_agent(name)`` makes the agent span current for the block."""
    with trace_agent("outer") as agent, trace_tool("t") as tool:
        pass
    spans = by_name(content)
    assert spans["execute_tool t"].parent.span_id == spans["invoke_agent outer"].context.span_id
    assert agent.span is not tool.span


def test_nameless_context_manager_is_a_type_error(content: Telemetry) -> None:
    """A context manager without a name is a programming error, reported at once."""
    with pytest.raises(TypeError), trace_tool():
        pass
    with pytest.raises(TypeError), trace_agent():
        pass
