"""An ordinary OpenAI app with no telemetry code: the workload the e2e tests trace into real backends.

It talks to whatever ``OPENAI_BASE_URL`` names (the loopback fake server in the tests) and makes one of
each call, in order: a chat completion, a streamed chat completion, a tool-calling agent run
(examples/weather_agent.py, unchanged), embeddings, a Responses call, one call that fails with a 429, and an
OpenAI Agents SDK run (a guarded triage agent handing off to a forecast agent that calls a tool).
It prints one line per step so a test can see the app really ran.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import openai

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))

import weather_agent

MODEL = "gpt-4o-mini"
EMBEDDING_MODEL = "text-embedding-3-small"
FAILING_MODEL = "error-429"  # the fake server answers 429 for this model


def run(client: openai.OpenAI) -> None:
    chat = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Say hello"}], temperature=0.2, max_tokens=50
    )
    print("chat:", chat.choices[0].message.content, flush=True)
    stream = client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "Count to three"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    print("stream:", "".join(c.choices[0].delta.content or "" for c in stream if c.choices), flush=True)
    print("agent:", weather_agent.run_tool_agent("What's the weather like in Tokyo today?", client), flush=True)
    vectors = client.embeddings.create(model=EMBEDDING_MODEL, input=["hello", "world"], dimensions=8)
    print("embeddings:", len(vectors.data), flush=True)
    response = client.responses.create(model=MODEL, instructions="Be brief.", input="Say hello")
    print("responses:", response.output_text, flush=True)
    try:
        client.chat.completions.create(model=FAILING_MODEL, messages=[{"role": "user", "content": "Fail"}])
    except openai.RateLimitError as error:
        print("failed as expected:", type(error).__name__, flush=True)
    print("agents sdk:", asyncio.run(run_agents_sdk()), flush=True)


async def run_agents_sdk() -> str:
    """examples/agents_sdk_agent.py, unchanged; ``agents`` is imported only now, after any instrumentation."""
    import agents_sdk_agent

    agents_sdk_agent.keep_openai_traces_local()  # OpenAI's own trace upload goes to the loopback server
    return await agents_sdk_agent.ask("What's the weather like in Tokyo today?")


def main() -> None:
    # max_retries=0: one failing call is one HTTP request, so the run stays short and deterministic.
    with openai.OpenAI(max_retries=0) as client:
        run(client)


if __name__ == "__main__":
    main()
