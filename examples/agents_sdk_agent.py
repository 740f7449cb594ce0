"""An OpenAI Agents SDK app: a triage agent with an input guardrail hands off to a forecast agent with a tool.

Like weather_agent.py it has no OpenTelemetry code: under ``opentelemetry-instrument`` (or after
``OpenAIInstrumentor().instrument()``) each run is one trace — workflow, agents, model calls, tool:

    OPENAI_BASE_URL=http://127.0.0.1:8123/v1 OPENAI_API_KEY=unused \\
    OTEL_TRACES_EXPORTER=console OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none \\
    opentelemetry-instrument python examples/agents_sdk_agent.py "What's the weather like in Tokyo today?"

``examples/demo.py`` runs it for you and prints the trace as a tree. Needs ``openai-agents``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any
from urllib.parse import urlsplit

import agents

MODEL = os.environ.get("WEATHER_AGENT_MODEL", "gpt-4o-mini")
WEATHER = {"Tokyo": "sunny", "Paris": "rainy"}


@agents.function_tool
def get_weather(city: str) -> str:
    """Get the current weather in a given city."""
    return WEATHER.get(city, "partly cloudy")


@agents.input_guardrail
async def on_topic(ctx: agents.RunContextWrapper[Any], agent: agents.Agent[Any], question: Any) -> Any:
    """Trips on questions that have nothing to do with the weather."""
    text = question if isinstance(question, str) else str(question)
    return agents.GuardrailFunctionOutput(output_info=None, tripwire_triggered="weather" not in text.lower()
                                          and "rain" not in text.lower())


forecast_agent = agents.Agent(name="forecast_agent", instructions="Answer with the weather, using get_weather.",
                              tools=[get_weather], model=MODEL)
triage_agent = agents.Agent(name="triage_agent", instructions="Hand weather questions to the forecast agent.",
                            handoffs=[forecast_agent], input_guardrails=[on_topic], model=MODEL)


def keep_openai_traces_local() -> None:
    """The SDK uploads every run to OpenAI's trace dashboard as well. Against a local OpenAI-compatible server
    (the demo's), send that upload to the same server instead of to OpenAI."""
    base_url = os.environ.get("OPENAI_BASE_URL")
    if base_url and urlsplit(base_url).hostname != "api.openai.com":
        from agents.tracing.processors import default_exporter

        default_exporter().endpoint = base_url.rstrip("/") + "/traces/ingest"


async def ask(question: str) -> str:
    result = await agents.Runner.run(triage_agent, question)
    return str(result.final_output)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="?", default="What's the weather like in Tokyo today?")
    question = parser.parse_args().question
    keep_openai_traces_local()
    print(f"[agents-sdk] Q: {question}\n[agents-sdk] A: {asyncio.run(ask(question))}", flush=True)


if __name__ == "__main__":
    main()
