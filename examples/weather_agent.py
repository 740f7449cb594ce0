"""A function-calling weather agent whose run is one OpenTelemetry trace: agent -> chat -> tool -> chat.

The app has no OpenTelemetry setup: run it under zero-code instrumentation and it is traced, e.g. against
the loopback server (``python examples/fake_openai_server.py --port 8123``)::

    OPENAI_BASE_URL=http://127.0.0.1:8123/v1 OPENAI_API_KEY=unused \\
    OTEL_TRACES_EXPORTER=console OTEL_METRICS_EXPORTER=none OTEL_LOGS_EXPORTER=none \\
    OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=SPAN_ONLY \\
    opentelemetry-instrument python examples/weather_agent.py "What's the weather like in Tokyo today?"

``--stream`` and ``--async`` run the streaming and asyncio variants; ``--all`` runs all three.
``examples/demo.py`` does all of this for you and prints the trace as a tree.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any, Optional

import openai

from otel_openai import run_tool_call, trace_agent, trace_tool

MODEL = os.environ.get("WEATHER_AGENT_MODEL", "gpt-4o-mini")
WEATHER = {"Tokyo": "sunny", "Paris": "rainy"}
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the current weather in a given city.",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string", "description": "The city, e.g. Tokyo"}},
                "required": ["city"],
                "additionalProperties": False,
            },
        },
    }
]


@trace_tool(description="Get the current weather in a given city.")
def get_weather(city: str) -> str:
    """The tool the model calls: a stand-in for a real weather service."""
    return WEATHER.get(city, "partly cloudy")


def _question(question: str) -> list[Any]:
    return [
        {"role": "system", "content": "You are a helpful assistant. Use the tools to answer."},
        {"role": "user", "content": question},
    ]


def _tool_results(tool_calls: Any) -> list[dict[str, Any]]:
    """Run each tool call the model asked for; each becomes an execute_tool span with its call id."""
    return [
        {"role": "tool", "tool_call_id": call.id, "content": run_tool_call(call, get_weather)}
        for call in tool_calls
    ]


@trace_agent(name="weather_agent", description="Answers weather questions with the get_weather tool.")
def run_tool_agent(question: str, client: Optional[openai.OpenAI] = None) -> str:
    """Ask the model; if it calls get_weather, run the tool, send the result back, return the answer."""
    client = client or openai.OpenAI()
    messages = _question(question)
    response = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    message = response.choices[0].message
    if message.tool_calls:
        messages.append(message)
        messages.extend(_tool_results(message.tool_calls))
        response = client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    return response.choices[0].message.content or ""


@trace_agent(name="weather_agent", description="Answers weather questions with the get_weather tool.")
def run_tool_agent_streaming(question: str, client: Optional[openai.OpenAI] = None) -> str:
    """The same agent, reading both model answers as streams (with token usage in the last chunk)."""
    client = client or openai.OpenAI()
    messages = _question(question)
    content, tool_calls = _read_stream(client.chat.completions.create(
        model=MODEL, messages=messages, tools=TOOLS, stream=True, stream_options={"include_usage": True}))
    if tool_calls:
        messages.append({"role": "assistant", "tool_calls": tool_calls})
        messages.extend(
            {"role": "tool", "tool_call_id": call["id"], "content": run_tool_call(call, get_weather)}
            for call in tool_calls
        )
        content, _ = _read_stream(client.chat.completions.create(
            model=MODEL, messages=messages, tools=TOOLS, stream=True, stream_options={"include_usage": True}))
    return content


def _read_stream(stream: Any) -> tuple[str, list[dict[str, Any]]]:
    """Join the streamed text and tool-call fragments, the way an app that streams to a UI would."""
    text: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    with stream:
        for chunk in stream:
            for choice in chunk.choices:
                delta = choice.delta
                text.append(delta.content or "")
                for part in delta.tool_calls or []:
                    call = calls.setdefault(part.index, {"id": "", "type": "function",
                                                         "function": {"name": "", "arguments": ""}})
                    call["id"] = part.id or call["id"]
                    if part.function is not None:
                        call["function"]["name"] += part.function.name or ""
                        call["function"]["arguments"] += part.function.arguments or ""
    return "".join(text), [calls[i] for i in sorted(calls)]


@trace_agent(name="weather_agent", description="Answers weather questions with the get_weather tool.")
async def run_tool_agent_async(question: str, client: Optional[openai.AsyncOpenAI] = None) -> str:
    """The same agent on asyncio."""
    client = client or openai.AsyncOpenAI()
    messages = _question(question)
    response = await client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    message = response.choices[0].message
    if message.tool_calls:
        messages.append(message)
        messages.extend(_tool_results(message.tool_calls))
        response = await client.chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    return response.choices[0].message.content or ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="?", default="What's the weather like in Tokyo today?")
    parser.add_argument("--stream", action="store_true", help="stream the model's answers")
    parser.add_argument("--async", dest="use_async", action="store_true", help="use AsyncOpenAI")
    parser.add_argument("--all", action="store_true", help="run the plain, streaming and async variants")
    args = parser.parse_args()
    runs = [("plain", args.question), ("streaming", "Is it raining in Paris?"),
            ("async", "What's the weather like in London?")]
    if not args.all:
        runs = [("async" if args.use_async else "streaming" if args.stream else "plain", args.question)]
    for variant, question in runs:
        answer = asyncio.run(_ask_async(question)) if variant == "async" else _ask(question, variant)
        print(f"[{variant}] Q: {question}\n[{variant}] A: {answer}", flush=True)


def _ask(question: str, variant: str) -> str:
    with openai.OpenAI() as client:
        if variant == "streaming":
            return run_tool_agent_streaming(question, client)
        return run_tool_agent(question, client)


async def _ask_async(question: str) -> str:
    async with openai.AsyncOpenAI() as client:
        return await run_tool_agent_async(question, client)


if __name__ == "__main__":
    main()
