"""LangChain (langchain-openai's ChatOpenAI) over the loopback server, instrumented and not."""

from __future__ import annotations

from typing import Annotated, Any

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

require("langchain_openai", "langchain-openai")
from langchain_core.messages import HumanMessage  # noqa: E402
from langchain_core.runnables import RunnableConfig  # noqa: E402
from langchain_core.tools import InjectedToolCallId, tool  # noqa: E402
from langchain_openai import ChatOpenAI  # noqa: E402


class Weather(pydantic.BaseModel):
    city: str
    sky: str


def chat(harness: Harness, model: str = MODEL) -> Any:
    return ChatOpenAI(model=model, base_url=harness.server.base_url, api_key="sk-test", max_retries=0)


async def test_invoke(harness: Harness) -> None:
    """``invoke`` and ``ainvoke`` return the same messages, each call one chat span."""
    async def scenario() -> Any:
        return [chat(harness).invoke(QUESTION), await chat(harness).ainvoke(QUESTION)]

    run = await harness.compare(scenario)
    assert run.outcome[0].content == f"You said: {QUESTION}"
    assert [s.name for s in model_spans(run.spans)] == ["chat gpt-4o-mini"] * 2


async def test_stream(harness: Harness) -> None:
    """``stream`` and ``astream`` yield the same chunks; the streamed span records the answer."""
    async def scenario() -> Any:
        return [list(chat(harness).stream(QUESTION)), [c async for c in chat(harness).astream(QUESTION)]]

    run = await harness.compare(scenario)
    assert "".join(str(c.content) for c in run.outcome[0]) == f"You said: {QUESTION}"
    assert all(s.attributes["gen_ai.request.stream"] for s in model_spans(run.spans))  # type: ignore[index]


async def test_broken_off_stream(harness: Harness) -> None:
    """A stream the caller stops reading after one chunk still ends its span, once."""
    async def scenario() -> Any:
        chunks = chat(harness).stream(QUESTION)
        first = next(chunks)
        chunks.close()
        achunks = chat(harness).astream(QUESTION)
        afirst = await achunks.__anext__()
        await achunks.aclose()
        return [first, afirst]

    await harness.compare(scenario, abandons=True)


async def test_tools_with_injected_config_and_call_id(harness: Harness) -> None:
    """A ``@tool`` over ``@trace_tool`` records only the model's arguments: the injected RunnableConfig and
    InjectedToolCallId are left out, and the id becomes the span's tool-call id."""
    @tool
    @trace_tool
    def get_weather(city: str, config: RunnableConfig,
                    call_id: Annotated[str, InjectedToolCallId]) -> str:
        """Get the current weather in a given city."""
        return "sunny"

    def scenario() -> Any:
        model = chat(harness).bind_tools([get_weather])
        messages: list[Any] = [HumanMessage(QUESTION)]
        messages.append(model.invoke(messages))
        messages.append(get_weather.invoke(messages[-1].tool_calls[0]))
        messages.append(model.invoke(messages))
        return messages

    run = await harness.compare(scenario)
    assert run.outcome[-1].content == "The weather in Tokyo is sunny."
    assert_tool_span(run)


async def test_structured_output(harness: Harness) -> None:
    """``with_structured_output`` (json_schema, parsed by the SDK) returns the same object."""
    async def scenario() -> Any:
        return [chat(harness).with_structured_output(Weather).invoke(QUESTION),
                await chat(harness).with_structured_output(Weather, method="function_calling").ainvoke(QUESTION)]

    run = await harness.compare(scenario)
    assert run.outcome == [Weather(city="Tokyo", sky="sunny")] * 2


async def test_rate_limited(harness: Harness) -> None:
    """A 429 raises LangChain's error as before and records one failed span."""
    run = await harness.compare(lambda: chat(harness, "error-429").invoke(QUESTION))
    assert type(run.outcome).__name__ == "OpenAIRateLimitError"
    assert_rate_limited(run)
