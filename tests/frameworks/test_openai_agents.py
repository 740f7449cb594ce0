"""The OpenAI Agents SDK (openai-agents) over the loopback server, instrumented and not.

Small on purpose: results unchanged, one model span per HTTP call, and ``trace_tool`` under ``function_tool``
with a RunContextWrapper / ToolContext first parameter. The SDK's own tracing stays on (with no exporter, so
nothing leaves the machine): a tracing processor that turns its spans into OpenTelemetry ones will show up
in ``expected_parent`` without changes here.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import openai
import pydantic
import pytest

from otel_openai import trace_tool
from tests.frameworks.conftest import MODEL, QUESTION, Harness, assert_rate_limited, assert_tool_span, require

require("agents", "openai-agents")
import agents  # noqa: E402
from agents import (  # noqa: E402
    Agent,
    OpenAIChatCompletionsModel,
    OpenAIResponsesModel,
    RunContextWrapper,
    Runner,
    function_tool,
    set_trace_processors,
)
from agents.tool_context import ToolContext  # noqa: E402


@pytest.fixture(autouse=True, scope="module")
def _without_default_exporter() -> Iterator[None]:
    """The SDK's default exporter would send traces to api.openai.com: removed for this module's tests and
    put back after them, so other modules (which test coexistence with it) find the SDK as it was."""
    saved = list(agents.tracing.get_trace_provider()._multi_processor._processors)
    set_trace_processors([])
    yield
    set_trace_processors(saved)


class Weather(pydantic.BaseModel):
    city: str
    sky: str


@function_tool
@trace_tool
def get_weather(ctx: RunContextWrapper[Any], city: str) -> str:
    """Get the current weather in a given city."""
    return "sunny"


@function_tool
@trace_tool(name="get_weather")
async def get_weather_async(ctx: ToolContext[Any], city: str) -> str:
    """Get the current weather in a given city."""
    return "sunny"


get_weather_async.name = "get_weather"


def agent(harness: Harness, model: str = MODEL, responses: bool = True, **options: Any) -> Any:
    client = openai.AsyncOpenAI(base_url=harness.server.base_url, api_key="sk-test", max_retries=0)
    kind = OpenAIResponsesModel if responses else OpenAIChatCompletionsModel
    return Agent(name="weather", instructions="Be brief.", model=kind(model, openai_client=client), **options)


async def test_run_with_a_context_tool(harness: Harness) -> None:
    """A tool run with a RunContextWrapper first parameter: the context is not an argument, the ToolContext
    the SDK passes gives the call id, and the run's result is unchanged."""
    run = await harness.compare(lambda: Runner.run(agent(harness, tools=[get_weather]), QUESTION))
    assert run.outcome.final_output == "The weather in Tokyo is sunny."
    assert_tool_span(run)


async def test_streamed_run_over_chat_completions(harness: Harness) -> None:
    """A streamed run over chat completions, with an async ToolContext tool, yields the same events."""
    async def scenario() -> Any:
        result = Runner.run_streamed(agent(harness, responses=False, tools=[get_weather_async]), QUESTION)
        events = [event.type async for event in result.stream_events()]
        return [events, result.final_output]

    run = await harness.compare(scenario)
    assert run.outcome[1] == "The weather in Tokyo is sunny."
    assert_tool_span(run)


async def test_broken_off_stream(harness: Harness) -> None:
    """A streamed run cancelled after its first event ends every span it started."""
    async def scenario() -> Any:
        result = Runner.run_streamed(agent(harness), QUESTION)
        async for event in result.stream_events():
            result.cancel()
            return event.type
        return None

    await harness.compare(scenario, abandons=True)


async def test_structured_output(harness: Harness) -> None:
    """An ``output_type`` (Responses json_schema) parses to the same object."""
    run = await harness.compare(lambda: Runner.run(agent(harness, output_type=Weather), QUESTION))
    assert run.outcome.final_output == Weather(city="Tokyo", sky="sunny")


async def test_rate_limited(harness: Harness) -> None:
    """A 429 reaches the caller as the SDK's RateLimitError and records one failed span."""
    run = await harness.compare(lambda: Runner.run(agent(harness, "error-429"), QUESTION))
    assert isinstance(run.outcome, openai.RateLimitError)
    assert_rate_limited(run)
