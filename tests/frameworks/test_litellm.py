"""LiteLLM (its ``openai/`` provider drives the OpenAI SDK) over the loopback server, instrumented and not."""

from __future__ import annotations

import os
from typing import Any

import pydantic

from otel_openai import run_tool_call, trace_tool
from tests.frameworks.conftest import QUESTION, Harness, assert_rate_limited, assert_tool_span, require

# LiteLLM fetches its model price list from GitHub at import unless told to use the copy it ships.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
litellm = require("litellm", "litellm")

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather in a given city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}]


class Weather(pydantic.BaseModel):
    city: str
    sky: str


def ask(harness: Harness, content: str = QUESTION) -> dict[str, Any]:
    return {"api_base": harness.server.base_url, "api_key": "sk-test", "max_retries": 0,
            "messages": [{"role": "user", "content": content}]}


def _comparable(response: Any) -> Any:
    """LiteLLM's response less its own wall-clock timing (``_response_ms``), which differs every call."""
    return response.model_dump(exclude={"_response_ms"}) if hasattr(response, "model_dump") else response


async def test_completion(harness: Harness) -> None:
    """``completion`` and ``acompletion`` return the same responses."""
    async def scenario() -> Any:
        return [_comparable(litellm.completion(model="openai/gpt-4o-mini", **ask(harness))),
                _comparable(await litellm.acompletion(model="openai/gpt-4o-mini", **ask(harness)))]

    run = await harness.compare(scenario)
    assert run.outcome[0]["choices"][0]["message"]["content"] == f"You said: {QUESTION}"


async def test_stream(harness: Harness) -> None:
    """Streamed completions (sync and async) yield the same deltas."""
    async def scenario() -> Any:
        sync = litellm.completion(model="openai/gpt-4o-mini", stream=True, **ask(harness))
        stream = await litellm.acompletion(model="openai/gpt-4o-mini", stream=True, **ask(harness))
        return [[c.choices[0].delta.content for c in sync], [c.choices[0].delta.content async for c in stream]]

    run = await harness.compare(scenario)
    assert "".join(filter(None, run.outcome[1])) == f"You said: {QUESTION}"


async def test_broken_off_stream(harness: Harness) -> None:
    """A stream read for one chunk and dropped ends its span, once."""
    async def scenario() -> Any:
        sync = litellm.completion(model="openai/gpt-4o-mini", stream=True, **ask(harness))
        stream = await litellm.acompletion(model="openai/gpt-4o-mini", stream=True, **ask(harness))
        return [next(iter(sync)).choices[0].delta.content, (await stream.__anext__()).choices[0].delta.content]

    await harness.compare(scenario, abandons=True)


async def test_tool_loop_with_run_tool_call(harness: Harness) -> None:
    """LiteLLM's tool calls work with ``run_tool_call``: the traced tool gets the call's id."""
    @trace_tool
    def get_weather(city: str) -> str:
        return "sunny"

    def scenario() -> Any:
        request = ask(harness)
        first = litellm.completion(model="openai/gpt-4o-mini", tools=TOOLS, **request)
        call = first.choices[0].message.tool_calls[0]
        request["messages"] += [first.choices[0].message.model_dump(),
                                {"role": "tool", "tool_call_id": call.id, "content": run_tool_call(call, get_weather)}]
        return [_comparable(first), _comparable(litellm.completion(model="openai/gpt-4o-mini", tools=TOOLS, **request))]

    run = await harness.compare(scenario)
    assert run.outcome[1]["choices"][0]["message"]["content"] == "The weather in Tokyo is sunny."
    assert_tool_span(run)


async def test_structured_output(harness: Harness) -> None:
    """``response_format=`` a pydantic model (json_schema) gets the same JSON."""
    run = await harness.compare(lambda: _comparable(
        litellm.completion(model="openai/gpt-4o-mini", response_format=Weather, **ask(harness))))
    assert Weather.model_validate_json(run.outcome["choices"][0]["message"]["content"]) == Weather(
        city="Tokyo", sky="sunny")


async def test_rate_limited(harness: Harness) -> None:
    """A 429 becomes LiteLLM's RateLimitError as before (and the same help text on stderr), one failed span."""
    run = await harness.compare(lambda: litellm.completion(model="openai/error-429", **ask(harness)))
    assert isinstance(run.outcome, litellm.RateLimitError)
    assert_rate_limited(run)
