"""LlamaIndex (llama-index-llms-openai's OpenAI LLM, FunctionAgent) over the loopback server, instrumented and not.

No ``from __future__ import annotations`` here: LlamaIndex recognises a tool's ``ctx: Context`` parameter by
its annotation object, and would take the string ``"Context"`` for a model argument.
"""

from typing import Any

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

require("llama_index.llms.openai", "llama-index-llms-openai")
from llama_index.core.agent.workflow import FunctionAgent  # noqa: E402
from llama_index.core.llms import ChatMessage  # noqa: E402
from llama_index.core.prompts import PromptTemplate  # noqa: E402
from llama_index.core.tools import FunctionTool  # noqa: E402
from llama_index.core.workflow import Context  # noqa: E402
from llama_index.llms.openai import OpenAI  # noqa: E402


class Weather(pydantic.BaseModel):
    city: str
    sky: str


@trace_tool
async def get_weather(ctx: Context, city: str) -> str:
    """Get the current weather in a given city."""
    return "sunny"


def llm(harness: Harness, **headers: str) -> Any:
    # The fake server's x-fake-error header: LlamaIndex refuses model names it does not know, like error-429.
    return OpenAI(model=MODEL, api_base=harness.server.base_url, api_key="sk-test", max_retries=0,
                  default_headers=headers or None)


def ask() -> list[Any]:
    return [ChatMessage(role="user", content=QUESTION)]


async def test_chat(harness: Harness) -> None:
    """``chat`` and ``achat`` return the same responses."""
    async def scenario() -> Any:
        return [llm(harness).chat(ask()), await llm(harness).achat(ask())]

    run = await harness.compare(scenario)
    assert run.outcome[0].message.content == f"You said: {QUESTION}"


async def test_stream_chat(harness: Harness) -> None:
    """``stream_chat`` and ``astream_chat`` yield the same deltas."""
    async def scenario() -> Any:
        chunks = [c.delta for c in llm(harness).stream_chat(ask())]
        return [chunks, [c.delta async for c in await llm(harness).astream_chat(ask())]]

    run = await harness.compare(scenario)
    assert "".join(run.outcome[0]) == f"You said: {QUESTION}"
    assert all(s.attributes["gen_ai.request.stream"] for s in model_spans(run.spans))  # type: ignore[index]


async def test_broken_off_stream(harness: Harness) -> None:
    """A stream read for one delta and dropped ends its span, once."""
    async def scenario() -> Any:
        first = next(iter(llm(harness).stream_chat(ask()))).delta
        stream = await llm(harness).astream_chat(ask())
        return [first, (await stream.__anext__()).delta]

    await harness.compare(scenario, abandons=True)


async def test_function_agent_with_context_tool(harness: Harness) -> None:
    """A FunctionAgent runs a tool taking LlamaIndex's workflow Context: not recorded as an argument.
    LlamaIndex does not hand the tool-call id to the tool, so the span has none."""
    async def scenario() -> Any:
        tool = FunctionTool.from_defaults(get_weather)
        return await FunctionAgent(tools=[tool], llm=llm(harness), system_prompt="Be brief.").run(QUESTION)

    run = await harness.compare(scenario)
    assert str(run.outcome.response.content) == "The weather in Tokyo is sunny."
    assert_tool_span(run, knows_id=False)


async def test_structured_predict(harness: Harness) -> None:
    """``structured_predict`` (json_schema) returns the same object."""
    async def scenario() -> Any:
        prompt = PromptTemplate("What's the weather like in {city} today?")
        return [llm(harness).structured_predict(Weather, prompt, city="Tokyo"),
                await llm(harness).astructured_predict(Weather, prompt, city="Tokyo")]

    run = await harness.compare(scenario)
    assert run.outcome == [Weather(city="Tokyo", sky="sunny")] * 2


async def test_rate_limited(harness: Harness) -> None:
    """A 429 reaches the caller as the SDK's RateLimitError, one failed span."""
    run = await harness.compare(lambda: llm(harness, **{"x-fake-error": "429"}).chat(ask()))
    assert type(run.outcome).__name__ == "RateLimitError"
    assert_rate_limited(run)
