"""Shared by the Agents SDK tests: the SDK itself (or the reason it is absent), the agents, span trees."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any, Optional

import openai
import pytest

from tests.conftest import OPENAI_MAJOR, http

try:
    import agents
    from agents.tracing import processors as sdk_processors
except ImportError:  # pragma: no cover - depends on the session
    agents = None  # type: ignore[assignment]
    sdk_processors = None  # type: ignore[assignment]


def _skip_reason() -> str:
    version = tuple(int(p) for p in openai.__version__.split(".")[:3] if p.isdigit())
    if version < (1, 107, 1):
        return f"openai-agents needs openai>=1.107.1; this session pins openai {openai.__version__}"
    return (f"openai-agents is installed by noxfile.py in unit-1.x, unit-2.x and unit-3.x; this session "
            f"(openai {OPENAI_MAJOR}.x) runs without it")


requires_agents = pytest.mark.skipif(agents is None, reason=_skip_reason() if agents is None else "")

QUESTION = "What's the weather in Paris?"


def async_client(server: Any) -> openai.AsyncOpenAI:
    """A real async client on the loopback server (the Agents SDK's models are async)."""
    return openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0,
                              http_client=http.AsyncClient(trust_env=False))


def model(api: str, client: openai.AsyncOpenAI, name: str = "gpt-4o-mini") -> Any:
    """The SDK's Responses or Chat Completions model over ``client``."""
    if api == "responses":
        return agents.OpenAIResponsesModel(model=name, openai_client=client)
    return agents.OpenAIChatCompletionsModel(model=name, openai_client=client)


def weather_tool(result: str = "sunny", fail: bool = False) -> Any:
    @agents.function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        if fail:
            raise ValueError(f"no weather station in {city}")
        return result
    return get_weather


def triage(api: str, client: openai.AsyncOpenAI, tool: Any = None, tripwire: bool = False) -> Any:
    """A triage agent with an input guardrail that hands off to a weather agent that calls ``get_weather``."""
    @agents.input_guardrail
    async def polite(ctx: Any, agent: Any, question: Any) -> Any:
        return agents.GuardrailFunctionOutput(output_info=None, tripwire_triggered=tripwire)

    weather = agents.Agent(name="weather_agent", instructions="Answer with the weather.",
                           tools=[tool or weather_tool()], model=model(api, client))
    return agents.Agent(name="triage_agent", instructions="Route weather questions.", handoffs=[weather],
                        input_guardrails=[polite], model=model(api, client))


@contextlib.contextmanager
def sdk_exporter_on(server: Any) -> Iterator[Any]:
    """OpenAI's own trace exporter, pointed at the loopback server for the test (never the internet)."""
    exporter = sdk_processors.default_exporter()
    saved = exporter.endpoint, exporter._api_key
    exporter.endpoint = server.base_url + "/traces/ingest"
    exporter.set_api_key("sk-test-tracing")
    try:
        yield exporter
    finally:
        sdk_processors.default_processor().force_flush()
        exporter.endpoint = saved[0]
        exporter.set_api_key(saved[1])


async def finish_streamed(result: Any) -> None:
    """Wait for a streamed run's background tasks (after ``cancel()`` or a break)."""
    tasks = [getattr(result, name, None) for name in
             ("run_loop_task", "_run_impl_task", "_input_guardrails_task", "_output_guardrails_task")]
    await asyncio.gather(*[t for t in tasks if isinstance(t, asyncio.Task)], return_exceptions=True)


def tree(spans: list[Any]) -> list[Any]:
    """Finished spans as ``[name, [children...]]`` lists in start order, roots first."""
    children: dict[Optional[int], list[Any]] = {}
    for span in sorted(spans, key=lambda s: s.start_time):
        children.setdefault(span.parent.span_id if span.parent else None, []).append(span)

    def node(span: Any) -> list[Any]:
        return [span.name, [node(c) for c in children.get(span.context.span_id, [])]]

    return [node(root) for root in children.get(None, [])]


def named(spans: list[Any], name: str) -> list[Any]:
    return sorted((s for s in spans if s.name == name), key=lambda s: s.start_time)


def tool_call_ids(server: Any) -> list[str]:
    """The ids of the tool calls the server answered, from the requests that carried their results back."""
    ids: list[str] = []
    for request in server.requests:
        body = request["body"]
        for item in body.get("input") or body.get("messages") or []:
            if not isinstance(item, dict):
                continue
            call_id = item.get("tool_call_id") if item.get("role") == "tool" else (
                item.get("call_id") if item.get("type") == "function_call_output" else None)
            if call_id and call_id not in ids:
                ids.append(call_id)
    return ids
