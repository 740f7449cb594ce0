"""trace_tool, trace_agent and run_tool_call: execute_tool / invoke_agent spans for user code."""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import SpanKind, StatusCode

from otel_openai import run_tool_call, trace_agent, trace_tool
from tests.conftest import Telemetry, http

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from fake_openai_server import FakeOpenAIServer

WEATHER_TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]


@pytest.fixture
def content(instrument: Any) -> Telemetry:
    """Instrumented with content on spans."""
    return instrument(capture_content="SPAN_ONLY")  # type: ignore[no-any-return]


@pytest.fixture
def no_content(instrument: Any) -> Telemetry:
    """Instrumented with the default: no content."""
    return instrument()  # type: ignore[no-any-return]


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as running:
        yield running


@pytest.fixture
def client(server: FakeOpenAIServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0,
                       http_client=http.Client(trust_env=False)) as real:
        yield real


@pytest.fixture
async def aclient(server: FakeOpenAIServer) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0,
                                  http_client=http.AsyncClient(trust_env=False)) as real:
        yield real


def by_name(telemetry: Telemetry) -> dict[str, Any]:
    return {span.name: span for span in telemetry.finished_spans()}


# --- decorator forms ---------------------------------------------------------------------------------


def test_bare_decorator_makes_an_execute_tool_span(content: Telemetry) -> None:
    """@trace_tool names the span after the function and records arguments and result."""
    @trace_tool
    def get_weather(city: str, unit: str = "C") -> str:
        return "sunny"

    assert get_weather("Tokyo") == "sunny"
    span = content.only_span()
    assert span.name == "execute_tool get_weather"
    assert span.kind is SpanKind.INTERNAL
    assert dict(span.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.arguments": '{"city":"Tokyo"}',
        "gen_ai.tool.call.result": "sunny",
    }
    assert span.status.status_code is StatusCode.UNSET


def test_decorator_with_arguments_sets_name_and_description(content: Telemetry) -> None:
    """@trace_tool(name=, description=) and @trace_tool("name") override the defaults."""
    @trace_tool(name="weather", description="Current weather.")
    def first(city: str) -> dict[str, str]:
        return {"sky": "clear"}

    @trace_tool("forecast")
    def second(**kwargs: Any) -> list[int]:
        return [1, 2]

    first("Paris")
    second(city="Paris", days=2)
    spans = by_name(content)
    assert spans["execute_tool weather"].attributes["gen_ai.tool.description"] == "Current weather."
    assert spans["execute_tool weather"].attributes["gen_ai.tool.call.result"] == '{"sky":"clear"}'
    assert spans["execute_tool forecast"].attributes["gen_ai.tool.call.arguments"] == '{"city":"Paris","days":2}'
    assert spans["execute_tool forecast"].attributes["gen_ai.tool.call.result"] == "[1,2]"


def test_wraps_preserves_signature_docstring_and_kind() -> None:
    """Decorated functions keep their name, docstring and signature, and stay coroutine/generator functions."""
    @trace_tool
    def plain(city: str, *, unit: str = "C") -> str:
        """Plain doc."""
        return city

    @trace_agent(name="a")
    async def coro(question: str) -> str:
        return question

    @trace_tool
    def gen(n: int) -> Iterator[int]:
        yield n

    @trace_tool
    async def agen(n: int) -> AsyncIterator[int]:
        yield n

    assert plain.__name__ == "plain" and plain.__doc__ == "Plain doc."
    assert str(inspect.signature(plain)) == "(city: 'str', *, unit: 'str' = 'C') -> 'str'"
    assert inspect.iscoroutinefunction(coro)
    assert inspect.isgeneratorfunction(gen)
    assert inspect.isasyncgenfunction(agen)


async def test_async_tool_and_agent(content: Telemetry) -> None:
    """Coroutine functions get spans that cover the await, the tool a child of the agent."""
    @trace_tool
    async def lookup(city: str) -> str:
        await asyncio.sleep(0)
        return "rainy"

    @trace_agent(name="helper", description="Helps.", agent_id="agent_42")
    async def agent(question: str) -> str:
        return await lookup("Paris")

    assert await agent("weather?") == "rainy"
    spans = by_name(content)
    tool, root = spans["execute_tool lookup"], spans["invoke_agent helper"]
    assert tool.parent.span_id == root.context.span_id
    assert dict(root.attributes) == {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.provider.name": "openai",
        "gen_ai.agent.name": "helper",
        "gen_ai.agent.id": "agent_42",
        "gen_ai.agent.description": "Helps.",
    }


def test_methods_static_and_class_methods(content: Telemetry) -> None:
    """Methods work, and ``self`` / ``cls`` never appear in the recorded arguments."""
    class Tools:
        @trace_tool
        def weather(self, city: str) -> str:
            return "sunny"

        @trace_tool(name="static_weather")
        @staticmethod
        def static(city: str) -> str:
            return "windy"

        @trace_tool
        @classmethod
        def klass(cls, city: str) -> str:
            return cls.__name__

    tools = Tools()
    assert (tools.weather("Tokyo"), Tools.static("Oslo"), Tools.klass("Rome")) == ("sunny", "windy", "Tools")
    spans = by_name(content)
    assert spans["execute_tool weather"].attributes["gen_ai.tool.call.arguments"] == '{"city":"Tokyo"}'
    assert spans["execute_tool static_weather"].attributes["gen_ai.tool.call.arguments"] == '{"city":"Oslo"}'
    assert spans["execute_tool klass"].attributes["gen_ai.tool.call.arguments"] == '{"city":"Rome"}'


def test_agent_decorator_without_arguments(content: Telemetry) -> None:
    """@trace_agent names the span after the function, provider from settings (default openai)."""
    @trace_agent
    def planner() -> int:
        return 1

    planner()
    span = content.only_span()
    assert span.name == "invoke_agent planner"
    assert span.attributes["gen_ai.provider.name"] == "openai"


def test_agent_provider_follows_the_provider_setting(instrument: Any) -> None:
    """instrument(provider_name=...) also names the provider of agent spans."""
    telemetry = instrument(provider_name="azure.ai.openai")
    with trace_agent("a"):
        pass
    assert telemetry.only_span().attributes["gen_ai.provider.name"] == "azure.ai.openai"


# --- context managers --------------------------------------------------------------------------------


def test_tool_context_manager_with_call_id_and_result(content: Telemetry) -> None:
    """``with trace_tool(name, call_id=, arguments=) as tool`` records what it was given and the result."""
    with trace_tool("get_weather", call_id="call_1", arguments='{"city":"Tokyo"}') as tool:
        tool.set_result("sunny")
    assert dict(content.only_span().attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.id": "call_1",
        "gen_ai.tool.call.arguments": '{"city":"Tokyo"}',
        "gen_ai.tool.call.result": "sunny",
    }


def test_tool_context_manager_from_a_tool_call(content: Telemetry) -> None:
    """``trace_tool(tool_call=...)`` takes the name, id and arguments from the model's tool call."""
    call = {"id": "call_9", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}
    with trace_tool(tool_call=call) as tool:
        assert tool.call_id == "call_9"
    span = content.only_span()
    assert span.name == "execute_tool get_weather"
    assert span.attributes["gen_ai.tool.call.id"] == "call_9"
    assert span.attributes["gen_ai.tool.call.arguments"] == '{"city":"Oslo"}'


def test_agent_context_manager_parents_inner_spans(content: Telemetry) -> None:
    """``with trace_agent(name)`` makes the agent span current for the block."""
    with trace_agent("outer") as agent, trace_tool("t") as tool:
        pass
    spans = by_name(content)
    assert spans["execute_tool t"].parent.span_id == spans["invoke_agent outer"].context.span_id
    assert agent.span is not tool.span


def test_nameless_context_manager_is_a_type_error(content: Telemetry) -> None:
    """A context manager without a name is a programming error, reported at once."""
    with pytest.raises(TypeError), trace_tool():
        pass
    with pytest.raises(TypeError), trace_agent():
        pass


# --- content gating and safety -----------------------------------------------------------------------


def test_no_arguments_or_results_without_content_capture(no_content: Telemetry) -> None:
    """With content capture off, neither arguments nor results reach the span."""
    @trace_tool
    def secret(password: str) -> str:
        return "token"

    with trace_tool("cm", call_id="c", arguments={"password": "p"}) as tool:
        tool.set_result("token")
    secret("hunter2")
    for span in no_content.finished_spans():
        assert "gen_ai.tool.call.arguments" not in span.attributes
        assert "gen_ai.tool.call.result" not in span.attributes
    assert by_name(no_content)["execute_tool cm"].attributes["gen_ai.tool.call.id"] == "c"


def test_event_only_keeps_content_off_spans(instrument: Any) -> None:
    """EVENT_ONLY means content goes to events only, so tool spans carry none."""
    telemetry = instrument(capture_content="EVENT_ONLY")

    @trace_tool
    def tool(x: int) -> int:
        return x

    tool(1)
    assert "gen_ai.tool.call.arguments" not in telemetry.only_span().attributes


def test_unserializable_values_never_raise(content: Telemetry) -> None:
    """Objects JSON cannot encode, cycles and odd keys are recorded as text, never raised."""
    class Opaque:
        def __str__(self) -> str:
            return "<opaque>"

    cycle: list[Any] = []
    cycle.append(cycle)

    @trace_tool
    def odd(thing: Any, mapping: Any) -> Any:
        return cycle

    assert odd(Opaque(), {(1, 2): {3}}) is cycle
    attrs = content.only_span().attributes
    assert json.loads(attrs["gen_ai.tool.call.arguments"]) == {"thing": "<opaque>", "mapping": {"(1, 2)": [3]}}
    assert isinstance(attrs["gen_ai.tool.call.result"], str)


def test_pydantic_results_are_dumped(content: Telemetry) -> None:
    """A pydantic model result is recorded as its JSON dump."""
    import pydantic

    class Weather(pydantic.BaseModel):
        city: str
        sky: str

    @trace_tool
    def report(city: str) -> Weather:
        return Weather(city=city, sky="clear")

    report("Tokyo")
    assert json.loads(content.only_span().attributes["gen_ai.tool.call.result"]) == {"city": "Tokyo", "sky": "clear"}


def test_content_is_bounded_by_max_content_length(instrument: Any) -> None:
    """Long strings are truncated to max_content_length and the JSON stays valid."""
    telemetry = instrument(capture_content="SPAN_ONLY", max_content_length=5)

    @trace_tool
    def echo(text: str) -> dict[str, str]:
        return {"text": text}

    echo("abcdefghij")
    attrs = telemetry.only_span().attributes
    assert json.loads(attrs["gen_ai.tool.call.arguments"]) == {"text": "abcde…[truncated]"}
    assert json.loads(attrs["gen_ai.tool.call.result"]) == {"text": "abcde…[truncated]"}


# --- errors ------------------------------------------------------------------------------------------


def test_exceptions_are_recorded_and_reraised_unchanged(content: Telemetry) -> None:
    """A failing tool marks its span ERROR with error.type, and the same exception reaches the caller."""
    boom = ValueError("no such city")

    @trace_tool
    def fails(city: str) -> str:
        raise boom

    with pytest.raises(ValueError) as caught:
        fails("Atlantis")
    assert caught.value is boom
    span = content.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "no such city"
    assert span.attributes["error.type"] == "ValueError"
    assert [e.name for e in span.events] == ["exception"]
    assert "gen_ai.tool.call.result" not in span.attributes


async def test_async_agent_errors_are_recorded(content: Telemetry) -> None:
    """An async agent that raises gets an ERROR span with the qualified error type."""
    class AgentFailure(Exception):
        pass

    @trace_agent(name="broken")
    async def agent() -> None:
        raise AgentFailure("gave up")

    with pytest.raises(AgentFailure):
        await agent()
    span = content.only_span()
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"].endswith("AgentFailure")


def test_context_manager_records_exceptions(content: Telemetry) -> None:
    """An exception leaving a ``with trace_tool`` block is recorded and propagates."""
    with pytest.raises(KeyError), trace_tool("lookup"):
        raise KeyError("city")
    assert content.only_span().attributes["error.type"] == "KeyError"


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
    assert content.only_span().attributes["gen_ai.tool.call.result"] == '["Tokyo","Paris"]'


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
    assert [span.attributes["gen_ai.tool.call.result"] for span in spans] == ["[0]", "[0,1]"]


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
    assert content.only_span().attributes["gen_ai.tool.call.result"] == '["Tokyo","Paris"]'


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


# --- tool-call linkage -------------------------------------------------------------------------------


def test_run_tool_call_with_a_plain_function(content: Telemetry) -> None:
    """run_tool_call parses the arguments and opens a span named after the tool call, with its id."""
    def get_weather(city: str) -> str:
        return {"Tokyo": "sunny"}[city]

    call = {"id": "call_abc", "function": {"name": "get_weather", "arguments": '{"city": "Tokyo"}'}}
    assert run_tool_call(call, get_weather) == "sunny"
    span = content.only_span()
    assert span.name == "execute_tool get_weather"
    assert span.attributes["gen_ai.tool.call.id"] == "call_abc"
    assert span.attributes["gen_ai.tool.call.arguments"] == '{"city": "Tokyo"}'
    assert span.attributes["gen_ai.tool.call.result"] == "sunny"


def test_run_tool_call_with_a_traced_tool_makes_one_span(content: Telemetry) -> None:
    """A trace_tool function keeps its own span and name, and gets the call id; no second span."""
    @trace_tool(name="weather")
    def get_weather(city: str, unit: str) -> str:
        @trace_tool
        def inner() -> str:
            return "x"

        inner()  # a tool called from the tool does not claim the same call id
        return "sunny"

    call = {"call_id": "call_resp", "name": "get_weather", "arguments": '{"city": "Paris"}'}  # Responses shape
    assert run_tool_call(call, get_weather, unit="C") == "sunny"
    spans = by_name(content)
    assert set(spans) == {"execute_tool weather", "execute_tool inner"}
    assert spans["execute_tool weather"].attributes["gen_ai.tool.call.id"] == "call_resp"
    assert spans["execute_tool weather"].attributes["gen_ai.tool.call.arguments"] == '{"city":"Paris","unit":"C"}'
    assert "gen_ai.tool.call.id" not in spans["execute_tool inner"].attributes


async def test_run_tool_call_with_coroutine_functions(content: Telemetry) -> None:
    """For coroutine functions run_tool_call returns a coroutine; the id reaches the span."""
    @trace_tool
    async def traced(city: str) -> str:
        return "sunny"

    async def untraced(city: str) -> str:
        return "rainy"

    call = {"id": "call_1", "function": {"name": "untraced", "arguments": '{"city": "Oslo"}'}}
    assert await run_tool_call({**call, "id": "call_0"}, traced) == "sunny"
    assert await run_tool_call(call, untraced) == "rainy"
    spans = by_name(content)
    assert spans["execute_tool traced"].attributes["gen_ai.tool.call.id"] == "call_0"
    assert spans["execute_tool untraced"].attributes["gen_ai.tool.call.id"] == "call_1"


def test_run_tool_call_rejects_non_object_arguments(content: Telemetry) -> None:
    """Arguments that are not a JSON object fail inside the tool span, which records the error."""
    call = {"id": "call_x", "function": {"name": "f", "arguments": "[1, 2]"}}
    with pytest.raises(ValueError, match="not a JSON object"):
        run_tool_call(call, lambda: None)
    assert content.only_span().attributes["error.type"] == "ValueError"


# --- tracer selection, suppression, uninstrumented use ----------------------------------------------


def test_suppressed_instrumentation_records_nothing(content: Telemetry) -> None:
    """Under suppress_instrumentation() the decorators and context managers record no span."""
    @trace_tool
    def tool() -> int:
        return 1

    with suppress_instrumentation():
        assert tool() == 1
        with trace_agent("quiet") as agent:
            assert not agent.span.is_recording()
    assert content.finished_spans() == []


def test_works_without_instrumentation(monkeypatch: pytest.MonkeyPatch, telemetry: Telemetry) -> None:
    """Uninstrumented, spans go to the global tracer (stood in for here) and results are unchanged."""
    from otel_openai import _agents

    monkeypatch.setattr(_agents, "_global_tracer", telemetry.tracer_provider.get_tracer("global"))

    @trace_tool
    def tool(x: int) -> int:
        return x * 2

    with trace_agent("a"):
        assert tool(2) == 4
    spans = by_name(telemetry)
    assert set(spans) == {"invoke_agent a", "execute_tool tool"}
    assert spans["execute_tool tool"].instrumentation_scope.name == "global"
    assert "gen_ai.tool.call.arguments" not in spans["execute_tool tool"].attributes  # env default: no content


def test_instrumented_spans_use_the_instrumentors_provider(content: Telemetry) -> None:
    """Instrumented, tool spans use the tracer of instrument(tracer_provider=...)."""
    with trace_tool("t"):
        pass
    assert content.only_span().instrumentation_scope.name == "otel_openai"


def test_nested_agents_innermost_name_wins(no_content: Telemetry, client: openai.OpenAI) -> None:
    """A model call inside a sub-agent carries the sub-agent's name; the sub-agent is a child span."""
    with trace_agent("planner"), trace_agent("researcher"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    spans = by_name(no_content)
    assert spans["chat gpt-4o-mini"].attributes["gen_ai.agent.name"] == "researcher"
    assert spans["invoke_agent researcher"].parent.span_id == spans["invoke_agent planner"].context.span_id


# --- whole agent runs through a real client ----------------------------------------------------------


def test_agent_chat_tool_chat_is_one_trace(content: Telemetry, client: openai.OpenAI) -> None:
    """agent -> chat -> execute_tool -> chat: one trace, model spans children of the agent, ids linked."""
    @trace_tool
    def get_weather(city: str) -> str:
        return "sunny"

    @trace_agent(name="weather_agent")
    def agent(question: str) -> str:
        messages: list[Any] = [{"role": "user", "content": question}]
        first = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=WEATHER_TOOLS)
        call = first.choices[0].message.tool_calls[0]
        messages += [first.choices[0].message,
                     {"role": "tool", "tool_call_id": call.id, "content": run_tool_call(call, get_weather)}]
        second = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=WEATHER_TOOLS)
        return second.choices[0].message.content or ""

    assert agent("Weather in Tokyo?") == "The weather in Tokyo is sunny."
    spans = sorted(content.finished_spans(), key=lambda s: s.start_time)
    assert [s.name for s in spans] == ["invoke_agent weather_agent", "chat gpt-4o-mini",
                                       "execute_tool get_weather", "chat gpt-4o-mini"]
    root, chat1, tool, chat2 = spans
    assert {s.context.trace_id for s in spans} == {root.context.trace_id}
    assert root.parent is None
    assert all(s.parent.span_id == root.context.span_id for s in (chat1, tool, chat2))
    assert chat1.attributes["gen_ai.agent.name"] == chat2.attributes["gen_ai.agent.name"] == "weather_agent"
    call_id = json.loads(chat1.attributes["gen_ai.output.messages"])[0]["parts"][0]["id"]
    assert tool.attributes["gen_ai.tool.call.id"] == call_id
    assert call_id in chat2.attributes["gen_ai.input.messages"]


def test_model_spans_outside_an_agent_have_no_agent_name(no_content: Telemetry, client: openai.OpenAI) -> None:
    """gen_ai.agent.name appears only on model spans started inside an agent span."""
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    with trace_agent("inner_agent"):
        client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    outside, inside = sorted((s for s in no_content.finished_spans() if s.name.startswith("chat")),
                             key=lambda s: s.start_time)
    assert "gen_ai.agent.name" not in outside.attributes
    assert inside.attributes["gen_ai.agent.name"] == "inner_agent"


async def test_async_agent_through_a_real_client(content: Telemetry, aclient: openai.AsyncOpenAI) -> None:
    """The async agent run is one trace with the same shape as the sync one."""
    @trace_agent(name="async_agent")
    async def agent() -> str:
        messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
        first = await aclient.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=WEATHER_TOOLS)
        call = first.choices[0].message.tool_calls[0]
        with trace_tool(tool_call=call) as tool:
            tool.set_result("rainy")
        messages += [first.choices[0].message, {"role": "tool", "tool_call_id": call.id, "content": "rainy"}]
        second = await aclient.chat.completions.create(model="gpt-4o-mini", messages=messages)
        return second.choices[0].message.content or ""

    assert await agent() == "The weather in Paris is rainy."
    spans = sorted(content.finished_spans(), key=lambda s: s.start_time)
    root = spans[0]
    assert [s.name for s in spans] == ["invoke_agent async_agent", "chat gpt-4o-mini",
                                       "execute_tool get_weather", "chat gpt-4o-mini"]
    assert all(s.parent.span_id == root.context.span_id for s in spans[1:])
    assert spans[3].attributes["gen_ai.agent.name"] == "async_agent"


# --- the SDK's own tool runner (Responses API, recent openai 3.x) -------------------------------------

try:
    from openai.lib import responses_tool_runner as runner_lib
except ImportError:  # the runner ships with recent openai 3.x only
    runner_lib = None
needs_runner = pytest.mark.skipif(runner_lib is None, reason="this openai SDK has no Responses tool runner")
RUNNER_TOOL: Any = {"type": "function", "name": "get_weather", "description": "Current weather.", "strict": True,
                    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                   "required": ["city"], "additionalProperties": False}}


@needs_runner
def test_tool_runner_functions_get_execute_tool_spans(content: Telemetry, client: openai.OpenAI) -> None:
    """ResponsesToolRunner runs get_weather as an execute_tool span, between the two model spans."""
    runner = runner_lib.ResponsesToolRunner(functions=[
        runner_lib.RegisteredFunction(tool=RUNNER_TOOL, execute=lambda args: {"Tokyo": "sunny"}[args["city"]])])
    with trace_agent("runner_agent"):
        final = runner.run(client, {"model": "gpt-4o-mini", "input": "Weather in Tokyo?"})
    assert final.output_text == "The weather in Tokyo is sunny."
    spans = sorted(content.finished_spans(), key=lambda s: s.start_time)
    assert [s.name for s in spans] == ["invoke_agent runner_agent", "chat gpt-4o-mini",
                                       "execute_tool get_weather", "chat gpt-4o-mini"]
    tool = spans[2]
    assert tool.parent.span_id == spans[0].context.span_id
    call_id = json.loads(spans[1].attributes["gen_ai.output.messages"])[0]["parts"][0]["id"]
    assert dict(tool.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "get_weather",
        "gen_ai.tool.type": "function",
        "gen_ai.tool.call.id": call_id,
        "gen_ai.tool.description": "Current weather.",
        "gen_ai.tool.call.arguments": '{"city":"Tokyo"}',
        "gen_ai.tool.call.result": "sunny",
    }


@needs_runner
async def test_async_tool_runner_with_a_traced_function(content: Telemetry, aclient: openai.AsyncOpenAI) -> None:
    """A registered function that is itself a trace_tool keeps its one span and gets the call id."""
    @trace_tool(name="weather_lookup")
    async def lookup(args: dict[str, Any]) -> str:
        return "rainy"

    runner = runner_lib.AsyncResponsesToolRunner(functions=[
        runner_lib.AsyncRegisteredFunction(tool=RUNNER_TOOL, execute=lookup)])
    final = await runner.run(aclient, {"model": "gpt-4o-mini", "input": "Weather in Paris?"})
    assert final.output_text == "The weather in Paris is rainy."
    tools = [s for s in content.finished_spans() if s.name.startswith("execute_tool")]
    assert [s.name for s in tools] == ["execute_tool weather_lookup"]
    assert tools[0].attributes["gen_ai.tool.call.id"].startswith("call_")


@needs_runner
def test_tool_runner_failures_are_recorded(content: Telemetry, client: openai.OpenAI) -> None:
    """A registered function that raises gives an ERROR execute_tool span; the runner's error propagates."""
    def broken(args: dict[str, Any]) -> str:
        raise ConnectionError("weather service down")

    runner = runner_lib.ResponsesToolRunner(functions=[runner_lib.RegisteredFunction(tool=RUNNER_TOOL,
                                                                                     execute=broken)])
    with pytest.raises(runner_lib.ToolRunnerError):
        runner.run(client, {"model": "gpt-4o-mini", "input": "Weather in Tokyo?"})
    (tool,) = [s for s in content.finished_spans() if s.name == "execute_tool get_weather"]
    assert tool.status.status_code is StatusCode.ERROR
    assert tool.status.description == "weather service down"
    assert tool.attributes["error.type"] == "ConnectionError"


def test_tool_runner_passes_through_when_uninstrumented(client: openai.OpenAI) -> None:
    """Uninstrumented, the runner rows are not installed and nothing changes."""
    if runner_lib is None:
        pytest.skip("this openai SDK has no Responses tool runner")
    runner = runner_lib.ResponsesToolRunner(functions=[
        runner_lib.RegisteredFunction(tool=RUNNER_TOOL, execute=lambda args: "sunny")])
    assert runner.run(client, {"model": "gpt-4o-mini", "input": "Tokyo?"}).output_text.endswith("sunny.")
