"""run_tool_call and the SDK's Responses tool runner: execute_tool spans linked to the model's call ids."""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai
import pytest
from opentelemetry.trace import StatusCode

from otel_openai import run_tool_call, trace_agent, trace_tool
from tests._agents.conftest import by_name
from tests.conftest import Telemetry

# --- tool-call linkage -------------------------------------------------------------------------------


def test_run_tool_call_with_a_plain_function(content: Telemetry) -> None:
    """run_tool_call parses the arguments and opens a span named after the tool call, with its id."""
    def get_weather(city: str) -> str:
        return {"Tokyo": "sunny"}[city]

    call = {"id": "call_abc", "function": {"name": "get_weather", "arguments": '{"city": "Tokyo"}'}}
    assert run_tool_call(call, get_weather) == "sunny"
    span = content.only_span()
    assert span.name == "execute_tool get_weather"
    assert span.attributes["gen_ai.tool.call.id"] == "call_abc"
    assert span.attributes["gen_ai.tool.call.arguments"] == '{"city":"Tokyo"}'
    assert span.attributes["gen_ai.tool.call.result"] == '{"value":"sunny"}'


def test_run_tool_call_with_a_traced_tool_makes_one_span(content: Telemetry) -> None:
    """A trace_tool function keeps its own span and name, and gets the call id; no second span."""
    @trace_tool(name="weather")
    def get_weather(city: str, unit: str) -> str:
        @trace_tool
        def inner() -> str:
            return "x"

        inner()  # a tool called from the tool does not claim the same call id
        return "sunny"

    call = {"call_id": "call_resp", "name": "get_weather", "arguments": '{"city": "Paris"}'}  # Responses shape
    assert run_tool_call(call, get_weather, unit="C") == "sunny"
    spans = by_name(content)
    assert set(spans) == {"execute_tool weather", "execute_tool inner"}
    assert spans["execute_tool weather"].attributes["gen_ai.tool.call.id"] == "call_resp"
    assert spans["execute_tool weather"].attributes["gen_ai.tool.call.arguments"] == '{"city":"Paris","unit":"C"}'
    assert "gen_ai.tool.call.id" not in spans["execute_tool inner"].attributes


async def test_run_tool_call_with_coroutine_functions(content: Telemetry) -> None:
    """For coroutine functions run_tool_call returns a coroutine; the id reaches the span."""
    @trace_tool
    async def traced(city: str) -> str:
        return "sunny"

    async def untraced(city: str) -> str:
        return "rainy"

    call = {"id": "call_1", "function": {"name": "untraced", "arguments": '{"city": "Oslo"}'}}
    assert await run_tool_call({**call, "id": "call_0"}, traced) == "sunny"
    assert await run_tool_call(call, untraced) == "rainy"
    spans = by_name(content)
    assert spans["execute_tool traced"].attributes["gen_ai.tool.call.id"] == "call_0"
    assert spans["execute_tool untraced"].attributes["gen_ai.tool.call.id"] == "call_1"


def test_run_tool_call_carries_the_call_id_into_generator_tools(content: Telemetry) -> None:
    """A trace_tool generator run by run_tool_call gets the call id; its span covers the whole iteration."""
    @trace_tool
    def forecast(city: str, days: int) -> Iterator[str]:
        for day in range(days):
            yield f"{city} day {day}: sunny"

    gen = run_tool_call({"id": "call_gen", "function": {"name": "forecast", "arguments": '{"city": "Oslo"}'}},
                        forecast, days=2)
    assert inspect.isgenerator(gen)
    assert content.finished_spans() == []  # nothing runs until the consumer iterates
    assert list(gen) == ["Oslo day 0: sunny", "Oslo day 1: sunny"]
    span = content.only_span()
    assert span.name == "execute_tool forecast"
    assert span.attributes["gen_ai.tool.call.id"] == "call_gen"
    assert span.attributes["gen_ai.tool.call.result"] == '{"value":["Oslo day 0: sunny","Oslo day 1: sunny"]}'


def test_run_tool_call_spans_the_iteration_of_an_untraced_generator(content: Telemetry) -> None:
    """A plain generator function run by run_tool_call gets one span, named after the call, over its items."""
    def forecast(city: str) -> Iterator[str]:
        yield f"{city}: rainy"
        return

    gen = run_tool_call({"call_id": "call_plain", "name": "forecast", "arguments": '{"city": "Paris"}'}, forecast)
    assert list(gen) == ["Paris: rainy"]
    span = content.only_span()
    assert span.attributes["gen_ai.tool.call.id"] == "call_plain"
    assert span.attributes["gen_ai.tool.call.arguments"] == '{"city":"Paris"}'
    assert span.attributes["gen_ai.tool.call.result"] == '{"value":["Paris: rainy"]}'


async def test_run_tool_call_carries_the_call_id_into_async_generator_tools(content: Telemetry) -> None:
    """Traced and plain async generator tools both get the call id, on a span over their iteration."""
    @trace_tool
    async def traced(city: str) -> AsyncIterator[str]:
        yield city

    async def plain(city: str) -> AsyncIterator[str]:
        yield city

    call = {"id": "call_a0", "function": {"name": "plain", "arguments": '{"city": "Oslo"}'}}
    assert [c async for c in run_tool_call(call, traced)] == ["Oslo"]
    assert [c async for c in run_tool_call({**call, "id": "call_a1"}, plain)] == ["Oslo"]
    spans = by_name(content)
    assert spans["execute_tool traced"].attributes["gen_ai.tool.call.id"] == "call_a0"
    assert spans["execute_tool plain"].attributes["gen_ai.tool.call.id"] == "call_a1"
    assert spans["execute_tool plain"].attributes["gen_ai.tool.call.result"] == '{"value":["Oslo"]}'


def test_run_tool_call_rejects_non_object_arguments(content: Telemetry) -> None:
    """Arguments that are not a JSON object fail inside the tool span, which records the error."""
    call = {"id": "call_x", "function": {"name": "f", "arguments": "[1, 2]"}}
    with pytest.raises(ValueError, match="not a JSON object"):
        run_tool_call(call, lambda: None)
    assert content.only_span().attributes["error.type"] == "ValueError"


# --- the SDK's own tool runner (Responses API, recent openai 3.x) -------------------------------------

try:
    from openai.lib import responses_tool_runner as runner_lib
except ImportError:  # the runner ships with recent openai 3.x only
    runner_lib = None
needs_runner = pytest.mark.skipif(runner_lib is None, reason="this openai SDK has no Responses tool runner")
RUNNER_TOOL: Any = {"type": "function", "name": "get_weather", "description": "Current weather.", "strict": True,
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                   "required": ["city"], "additionalProperties": False}}


@needs_runner
def test_tool_runner_functions_get_execute_tool_spans(content: Telemetry, client: openai.OpenAI) -> None:
    """ResponsesToolRunner runs get_weather as an execute_tool span, between the two model spans, naming the
    agent it runs in."""
    runner = runner_lib.ResponsesToolRunner(functions=[
        runner_lib.RegisteredFunction(tool=RUNNER_TOOL, execute=lambda args: {"Tokyo": "sunny"}[args["city"]])])
    with trace_agent("runner_agent"):
        final = runner.run(client, {"model": "gpt-4o-mini", "input": "Weather in Tokyo?"})
    assert final.output_text == "The weather in Tokyo is sunny."
    spans = sorted(content.finished_spans(), key=lambda s: s.start_time)
    assert [s.name for s in spans] == ["invoke_agent runner_agent", "chat gpt-4o-mini",
                                       "execute_tool get_weather", "chat gpt-4o-mini"]
    tool = spans[2]
    assert tool.parent.span_id == spans[0].context.span_id
    call_id = json.loads(spans[1].attributes["gen_ai.output.messages"])[0]["parts"][0]["id"]
    assert dict(tool.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.id": call_id,
        "gen_ai.tool.description": "Current weather.",
        "gen_ai.agent.name": "runner_agent",
        "gen_ai.tool.call.arguments": '{"city":"Tokyo"}',
        "gen_ai.tool.call.result": '{"value":"sunny"}',
    }


@needs_runner
async def test_async_tool_runner_with_a_traced_function(content: Telemetry, aclient: openai.AsyncOpenAI) -> None:
    """A registered function that is itself a trace_tool keeps its one span and gets the call id."""
    @trace_tool(name="weather_lookup")
    async def lookup(args: dict[str, Any]) -> str:
        return "rainy"

    runner = runner_lib.AsyncResponsesToolRunner(functions=[
        runner_lib.AsyncRegisteredFunction(tool=RUNNER_TOOL, execute=lookup)])
    final = await runner.run(aclient, {"model": "gpt-4o-mini", "input": "Weather in Paris?"})
    assert final.output_text == "The weather in Paris is rainy."
    tools = [s for s in content.finished_spans() if s.name.startswith("execute_tool")]
    assert [s.name for s in tools] == ["execute_tool weather_lookup"]
    assert tools[0].attributes["gen_ai.tool.call.id"].startswith("call_")


@needs_runner
def test_tool_runner_failures_are_recorded(content: Telemetry, client: openai.OpenAI) -> None:
    """A registered function that raises gives an ERROR execute_tool span; the runner's error propagates."""
    def broken(args: dict[str, Any]) -> str:
        raise ConnectionError("weather service down")

    runner = runner_lib.ResponsesToolRunner(functions=[runner_lib.RegisteredFunction(tool=RUNNER_TOOL,
                                                                                     execute=broken)])
    with pytest.raises(runner_lib.ToolRunnerError):
        runner.run(client, {"model": "gpt-4o-mini", "input": "Weather in Tokyo?"})
    (tool,) = [s for s in content.finished_spans() if s.name == "execute_tool get_weather"]
    assert tool.status.status_code is StatusCode.ERROR
    assert tool.status.description == "weather service down"
    assert tool.attributes["error.type"] == "ConnectionError"


def test_tool_runner_passes_through_when_uninstrumented(client: openai.OpenAI) -> None:
    """Uninstrumented, the runner rows are not installed and nothing changes."""
    if runner_lib is None:
        pytest.skip("this openai SDK has no Responses tool runner")
    runner = runner_lib.ResponsesToolRunner(functions=[
        runner_lib.RegisteredFunction(tool=RUNNER_TOOL, execute=lambda args: "sunny")])
    assert runner.run(client, {"model": "gpt-4o-mini", "input": "Tokyo?"}).output_text.endswith("sunny.")
