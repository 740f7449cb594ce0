"""pydantic-ai (OpenAIChatModel over an AsyncOpenAI client) over the loopback server, instrumented and not."""

from __future__ import annotations

from typing import Any

import openai
import pydantic

from otel_openai import trace_tool
from tests.frameworks.conftest import (
    MODEL,
    QUESTION,
    Harness,
    assert_rate_limited,
    assert_tool_span,
    model_spans,
    require,
)

require("pydantic_ai", "pydantic-ai-slim[openai]")
from pydantic_ai import Agent, RunContext  # noqa: E402
from pydantic_ai.exceptions import ModelHTTPError  # noqa: E402
from pydantic_ai.models.openai import OpenAIChatModel  # noqa: E402
from pydantic_ai.providers.openai import OpenAIProvider  # noqa: E402


class Weather(pydantic.BaseModel):
    city: str
    sky: str


def agent(harness: Harness, model: str = MODEL, **options: Any) -> Any:
    client = openai.AsyncOpenAI(base_url=harness.server.base_url, api_key="sk-test", max_retries=0)
    return Agent(OpenAIChatModel(model, provider=OpenAIProvider(openai_client=client)), **options)


def weather_agent(harness: Harness) -> Any:
    """An agent whose tool takes pydantic-ai's RunContext first, as ``@agent.tool`` requires."""
    weather = agent(harness, instructions="Be brief.")

    @weather.tool
    @trace_tool
    def get_weather(ctx: RunContext[None], city: str) -> str:
        """Get the current weather in a given city."""
        return "sunny"

    return weather


async def test_run(harness: Harness) -> None:
    """A plain run returns the same result, one chat span per request."""
    run = await harness.compare(lambda: agent(harness).run(QUESTION))
    assert run.outcome.output == f"You said: {QUESTION}"


async def test_tool_with_run_context(harness: Harness) -> None:
    """The RunContext is not recorded as an argument (the issue's 11,732-character repr), and its
    tool_call_id becomes the span's call id."""
    run = await harness.compare(lambda: weather_agent(harness).run(QUESTION))
    assert run.outcome.output == "The weather in Tokyo is sunny."
    assert_tool_span(run)


async def test_run_stream(harness: Harness) -> None:
    """``run_stream`` with a tool yields the same text deltas; both model calls are streamed spans."""
    async def scenario() -> Any:
        async with weather_agent(harness).run_stream(QUESTION) as result:
            return [text async for text in result.stream_text(delta=True)]

    run = await harness.compare(scenario)
    assert "".join(run.outcome) == "The weather in Tokyo is sunny."
    assert [s.attributes["gen_ai.request.stream"] for s in model_spans(run.spans)] == [True, True]  # type: ignore[index]
    assert_tool_span(run)


async def test_broken_off_stream(harness: Harness) -> None:
    """Leaving ``run_stream`` after the first delta ends the stream's span, once."""
    async def scenario() -> Any:
        async with agent(harness).run_stream(QUESTION) as result:
            async for text in result.stream_text(delta=True):
                return text
        return None

    await harness.compare(scenario, abandons=True)


async def test_structured_output(harness: Harness) -> None:
    """An ``output_type`` (a forced final_result tool call) parses to the same object."""
    run = await harness.compare(lambda: agent(harness, output_type=Weather).run(QUESTION))
    assert run.outcome.output == Weather(city="Tokyo", sky="sunny")


async def test_rate_limited(harness: Harness) -> None:
    """A 429 becomes pydantic-ai's ModelHTTPError as before, and one failed span."""
    run = await harness.compare(lambda: agent(harness, "error-429").run(QUESTION))
    assert isinstance(run.outcome, ModelHTTPError) and run.outcome.status_code == 429
    assert_rate_limited(run)
