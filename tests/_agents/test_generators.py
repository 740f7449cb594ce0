"""Generator and async generator tools and agents: one span over the iteration, current only inside it."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import openai
import pytest
from opentelemetry.trace import StatusCode

from otel_openai import trace_agent, trace_tool
from tests._agents.conftest import by_name
from tests.conftest import Telemetry

# --- generators --------------------------------------------------------------------------------------


def test_generator_span_covers_iteration(content: Telemetry) -> None:
    """A generator tool's span ends when it is exhausted and records what it yielded."""
    @trace_tool
    def cities(n: int) -> Iterator[str]:
        yield from ["Tokyo", "Paris", "Oslo"][:n]
        return

    gen = cities(2)
    assert content.finished_spans() == []  # nothing runs until the consumer iterates
    assert list(gen) == ["Tokyo", "Paris"]
    assert content.only_span().attributes["gen_ai.tool.call.result"] == '{"value":["Tokyo","Paris"]}'


def test_generator_is_current_only_while_running(content: Telemetry) -> None:
    """Between items the consumer's context is its own; inside, work is a child of the tool span."""
    from opentelemetry import trace

    seen: list[Any] = []

    @trace_tool
    def steps() -> Iterator[int]:
        for i in range(2):
            seen.append(trace.get_current_span())
            yield i

    with trace_agent("consumer") as agent:
        for _ in steps():
            assert trace.get_current_span() is agent.span
    spans = by_name(content)
    assert all(span.get_span_context().span_id == spans["execute_tool steps"].context.span_id for span in seen)


def test_generator_send_and_throw_are_delegated(content: Telemetry) -> None:
    """send() and throw() reach the wrapped generator, and its return value comes back."""
    @trace_tool
    def accumulate() -> Iterator[int]:
        total = 0
        while True:
            try:
                value = yield total
            except ValueError:
                return total
            total += value

    gen = accumulate()
    assert next(gen) == 0
    assert gen.send(5) == 5
    with pytest.raises(StopIteration) as stop:
        gen.throw(ValueError())
    assert stop.value.value == 5
    assert content.only_span().status.status_code is StatusCode.UNSET


def test_abandoned_generator_ends_its_span_once(content: Telemetry) -> None:
    """close() after a partial read, or garbage collection, ends the span exactly once, without error."""
    closed: list[str] = []

    @trace_tool
    def endless(name: str) -> Iterator[int]:
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.append(name)

    first = endless("closed")
    next(first)
    first.close()
    first.close()
    second = endless("collected")
    next(second)
    next(second)
    del second
    gc.collect()
    spans = content.finished_spans()
    assert closed == ["closed", "collected"]
    assert len(spans) == 2
    assert all(span.status.status_code is StatusCode.UNSET for span in spans)
    assert [span.attributes["gen_ai.tool.call.result"] for span in spans] == ['{"value":[0]}', '{"value":[0,1]}']


def test_generator_errors_are_recorded(content: Telemetry) -> None:
    """An exception raised mid-iteration marks the span ERROR and reaches the consumer."""
    @trace_tool
    def flaky() -> Iterator[int]:
        yield 1
        raise RuntimeError("lost connection")

    with pytest.raises(RuntimeError, match="lost connection"):
        list(flaky())
    assert content.only_span().attributes["error.type"] == "RuntimeError"


async def test_async_generator_span_covers_iteration(content: Telemetry) -> None:
    """An async generator tool's span ends on exhaustion and records what it yielded."""
    @trace_tool
    async def cities() -> AsyncIterator[str]:
        for city in ("Tokyo", "Paris"):
            await asyncio.sleep(0)
            yield city

    assert [c async for c in cities()] == ["Tokyo", "Paris"]
    assert content.only_span().attributes["gen_ai.tool.call.result"] == '{"value":["Tokyo","Paris"]}'


async def test_abandoned_async_generator_ends_its_span_once(content: Telemetry) -> None:
    """aclose() after a partial read, or the event loop's finalizer after collection, ends the span once."""
    closed: list[str] = []

    @trace_tool
    async def endless(name: str) -> AsyncIterator[int]:
        try:
            while True:
                yield 1
        finally:
            closed.append(name)

    first = endless("aclosed")
    await first.__anext__()
    await first.aclose()
    await first.aclose()
    second = endless("collected")
    await second.__anext__()
    del second
    gc.collect()
    for _ in range(5):  # the loop schedules aclose() of collected async generators as a task
        await asyncio.sleep(0)
    assert closed == ["aclosed", "collected"]
    assert len(content.finished_spans()) == 2


async def test_async_generator_errors_and_athrow(content: Telemetry) -> None:
    """athrow() reaches the wrapped async generator; an escaping error marks the span ERROR."""
    @trace_tool
    async def gen() -> AsyncIterator[int]:
        yield 1
        yield 2

    agen = gen()
    await agen.__anext__()
    with pytest.raises(LookupError):
        await agen.athrow(LookupError("stop"))
    assert content.only_span().attributes["error.type"] == "LookupError"


async def test_async_generator_agent_streams_a_model_answer(content: Telemetry, aclient: openai.AsyncOpenAI) -> None:
    """An agent that is an async generator relaying a model stream parents the model span and names it."""
    @trace_agent(name="streamer")
    async def agent(question: str) -> AsyncIterator[str]:
        stream = await aclient.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": question}], stream=True)
        async for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                yield chunk.choices[0].delta.content

    assert "".join([piece async for piece in agent("hello")]) == "You said: hello"
    spans = by_name(content)
    assert spans["chat gpt-4o-mini"].parent.span_id == spans["invoke_agent streamer"].context.span_id
    assert spans["chat gpt-4o-mini"].attributes["gen_ai.agent.name"] == "streamer"
    assert spans["invoke_agent streamer"].end_time >= spans["chat gpt-4o-mini"].end_time
