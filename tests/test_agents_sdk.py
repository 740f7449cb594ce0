"""OpenAI Agents SDK runs traced natively (``_agents_sdk.py``): real runs against the loopback server."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from opentelemetry import trace

from otel_openai import _agents_sdk, trace_tool
from otel_openai import _semconv as sc
from tests.agents_sdk_helpers import (
    QUESTION,
    agents,
    async_client,
    finish_streamed,
    model,
    named,
    requires_agents,
    sdk_exporter_on,
    tool_call_ids,
    tree,
    triage,
    weather_tool,
)
from tests.conftest import Telemetry

pytestmark = requires_agents

WEATHER_TREE = [["invoke_workflow Agent workflow", [
    ["invoke_agent triage_agent", [["chat gpt-4o-mini", []]]],
    ["invoke_agent weather_agent", [
        ["chat gpt-4o-mini", []],
        ["execute_tool get_weather", []],
        ["chat gpt-4o-mini", []],
    ]],
]]]


@pytest.fixture
def traced(instrument: Callable[..., Telemetry], server: Any) -> Iterator[Telemetry]:
    """Instrumented, with OpenAI's own trace exporter still on and pointed at the loopback server."""
    with sdk_exporter_on(server):
        yield instrument()
    assert not _agents_sdk._processor or not _agents_sdk._processor._entries, "an SDK span was never ended"


def run(mode: str, agent: Any, question: str = QUESTION, **kwargs: Any) -> Any:
    """The run, sync (``run_sync``), async (``run``) or streamed (``run_streamed``, drained)."""
    if mode == "sync":
        # run_sync drives the thread's default loop and leaves it open (SDK >= 0.17 on purpose): give it a
        # fresh one and close it, so no loop outlives the test.
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            return agents.Runner.run_sync(agent, question, **kwargs)
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    async def go() -> Any:
        if mode == "async":
            return await agents.Runner.run(agent, question, **kwargs)
        result = agents.Runner.run_streamed(agent, question, **kwargs)
        async for _ in result.stream_events():
            pass
        return result

    return asyncio.run(go())


@pytest.mark.parametrize("api", ["responses", "chat"])
@pytest.mark.parametrize("mode", ["sync", "async", "streamed"])
def test_handoff_run_is_one_tree(traced: Telemetry, server: Any, api: str, mode: str) -> None:
    """A guarded triage agent handing off to a tool-calling agent is one tree: workflow, agents, our model
    spans (no second model span), the tool with the model's call id, the guardrail and handoff as events."""
    result = run(mode, triage(api, async_client(server)))
    assert result.final_output == "The weather in Paris is sunny."
    spans = traced.finished_spans()
    assert tree(spans) == WEATHER_TREE
    assert len(named(spans, "chat gpt-4o-mini")) == len(server.requests) - _ingests(server) == 3

    workflow, = named(spans, "invoke_workflow Agent workflow")
    assert dict(workflow.attributes) == {sc.OPERATION_NAME: "invoke_workflow", sc.WORKFLOW_NAME: "Agent workflow"}
    assert workflow.kind is trace.SpanKind.INTERNAL
    triage_span, = named(spans, "invoke_agent triage_agent")
    assert dict(triage_span.attributes) == {sc.OPERATION_NAME: "invoke_agent", sc.AGENT_NAME: "triage_agent"}
    assert [(e.name, dict(e.attributes)) for e in triage_span.events] == [
        (sc.EVENT_GUARDRAIL_RESULT, {sc.GUARDRAIL_RESULT_TYPE: "tripwire_triggered",
                                     sc.GUARDRAIL_RESULT_VALUE: "false", sc.GUARDRAIL_COMPONENT_NAME: "polite"}),
        (sc.EVENT_HANDOFF, {sc.HANDOFF_FROM_AGENT: "triage_agent", sc.HANDOFF_TO_AGENT: "weather_agent"}),
    ]
    tool, = named(spans, "execute_tool get_weather")
    _handoff_id, weather_id = tool_call_ids(server)
    assert dict(tool.attributes) == {sc.OPERATION_NAME: "execute_tool", sc.TOOL_NAME: "get_weather",
                                     sc.TOOL_TYPE: "function", sc.AGENT_NAME: "weather_agent",
                                     sc.TOOL_CALL_ID: weather_id}
    assert tool.kind is trace.SpanKind.INTERNAL and tool.status.status_code is trace.StatusCode.UNSET
    chats = named(spans, "chat gpt-4o-mini")
    assert [c.attributes[sc.AGENT_NAME] for c in chats] == ["triage_agent", "weather_agent", "weather_agent"]
    assert all(c.kind is trace.SpanKind.CLIENT and c.attributes[sc.PROVIDER_NAME] == "openai" for c in chats)
    assert trace.get_current_span() is trace.INVALID_SPAN  # nothing left attached in the caller


def _ingests(server: Any) -> int:
    return sum(1 for r in server.requests if r["path"].endswith("/traces/ingest"))


def test_guardrail_result_is_a_log_event_in_the_agent_span(traced: Telemetry, server: Any) -> None:
    """The guardrail's ``gen_ai.guardrail.result`` event is also a log record carrying the agent span's context."""
    run("async", triage("responses", async_client(server)))
    agent, = named(traced.finished_spans(), "invoke_agent triage_agent")
    record, = [r for r in traced.log_records() if r.event_name == sc.EVENT_GUARDRAIL_RESULT]
    assert record.span_id == agent.context.span_id and record.trace_id == agent.context.trace_id
    assert dict(record.attributes)[sc.GUARDRAIL_COMPONENT_NAME] == "polite"


def test_tripped_guardrail_is_reported_as_triggered(traced: Telemetry, server: Any) -> None:
    """A tripped input guardrail stops the run; its event says ``true`` and every span still ends."""
    with pytest.raises(agents.InputGuardrailTripwireTriggered):
        run("async", triage("responses", async_client(server), tripwire=True))
    agent, = named(traced.finished_spans(), "invoke_agent triage_agent")
    guardrail, = [e for e in agent.events if e.name == sc.EVENT_GUARDRAIL_RESULT]
    assert guardrail.attributes[sc.GUARDRAIL_RESULT_VALUE] == "true"


@pytest.mark.parametrize("api", ["responses", "chat"])
def test_parallel_tool_calls_get_their_own_ids(traced: Telemetry, server: Any, api: str) -> None:
    """Two calls of one tool in one response: each tool span carries its own call's id, in the model's order."""
    result = run("async", triage(api, async_client(server)), "Weather in Paris and Tokyo?")
    assert result.final_output == "The weather in Paris is sunny. The weather in Tokyo is sunny."
    tools = named(traced.finished_spans(), "execute_tool get_weather")
    assert [t.attributes[sc.TOOL_CALL_ID] for t in tools] == tool_call_ids(server)[1:]
    assert len({t.parent.span_id for t in tools}) == 1


def test_raising_tool_is_an_error_span(traced: Telemetry, server: Any) -> None:
    """A tool that raises (the SDK hands the model an error message) is an execute_tool span with ERROR status
    and ``error.type``, and its exception text (content) is not in the status."""
    run("async", triage("responses", async_client(server), tool=weather_tool(fail=True)))
    tool, = named(traced.finished_spans(), "execute_tool get_weather")
    assert tool.status.status_code is trace.StatusCode.ERROR
    assert tool.attributes[sc.ERROR_TYPE] == sc.ERROR_TYPE_OTHER
    assert "weather station" not in (tool.status.description or "")


def test_tool_content_only_with_capture(instrument: Callable[..., Telemetry], server: Any) -> None:
    """With content capture on, the tool span has the model's arguments and the tool's result."""
    traced = instrument(capture_content="SPAN_ONLY")
    with sdk_exporter_on(server):
        run("async", triage("responses", async_client(server)))
    tool, = named(traced.finished_spans(), "execute_tool get_weather")
    assert json.loads(tool.attributes[sc.TOOL_CALL_ARGUMENTS]) == {"city": "Paris"}
    assert json.loads(tool.attributes[sc.TOOL_CALL_RESULT]) == {"value": "sunny"}


def test_sensitive_data_off_means_no_tool_content(instrument: Callable[..., Telemetry], server: Any) -> None:
    """``trace_include_sensitive_data=False`` keeps arguments and results off the tool span even with our
    capture on (the SDK does not hand them to processors)."""
    traced = instrument(capture_content="SPAN_ONLY")
    with sdk_exporter_on(server):
        run("async", triage("responses", async_client(server)),
            run_config=agents.RunConfig(trace_include_sensitive_data=False))
    tool, = named(traced.finished_spans(), "execute_tool get_weather")
    assert sc.TOOL_CALL_ARGUMENTS not in tool.attributes and sc.TOOL_CALL_RESULT not in tool.attributes


def test_tool_content_off_by_default(traced: Telemetry, server: Any) -> None:
    """Without content capture, no arguments or results anywhere, although the SDK has them."""
    run("async", triage("responses", async_client(server)))
    for span in traced.finished_spans():
        assert not {sc.TOOL_CALL_ARGUMENTS, sc.TOOL_CALL_RESULT} & set(span.attributes), span.name


def test_tracing_disabled_leaves_our_model_spans_flat(traced: Telemetry, server: Any) -> None:
    """``RunConfig(tracing_disabled=True)``: no workflow, agent or tool spans; our model spans, as roots."""
    run("async", triage("responses", async_client(server)), run_config=agents.RunConfig(tracing_disabled=True))
    assert tree(traced.finished_spans()) == [["chat gpt-4o-mini", []]] * 3


def test_early_break_ends_every_span(traced: Telemetry, server: Any) -> None:
    """A streamed run broken off at the model's first streamed event and cancelled: every span ends (the
    fixture checks none is left open), and no context is left attached in the consumer's task."""
    async def go() -> None:
        result = agents.Runner.run_streamed(triage("responses", async_client(server)), QUESTION)
        async for event in result.stream_events():
            if event.type == "raw_response_event":
                break
        result.cancel()
        await finish_streamed(result)
        assert trace.get_current_span() is trace.INVALID_SPAN

    asyncio.run(go())
    assert tree(traced.finished_spans()) == [["invoke_workflow Agent workflow", [
        ["invoke_agent triage_agent", [["chat gpt-4o-mini", []]]]]]]


def test_nested_agent_as_tool(traced: Telemetry, server: Any) -> None:
    """``agent.as_tool``: the inner agent's run nests under the outer agent's tool span."""
    client = async_client(server)
    weather = agents.Agent(name="weather_agent", instructions="Weather.", tools=[weather_tool()],
                           model=model("responses", client))
    outer = agents.Agent(name="desk", instructions="Ask the weather agent.", model=model("responses", client),
                         tools=[weather.as_tool(tool_name="ask_weather", tool_description="Ask about weather.")])
    run("async", outer)
    assert tree(traced.finished_spans()) == [["invoke_workflow Agent workflow", [
        ["invoke_agent desk", [
            ["chat gpt-4o-mini", []],
            ["execute_tool ask_weather", [["invoke_agent weather_agent", [
                ["chat gpt-4o-mini", []], ["execute_tool get_weather", []], ["chat gpt-4o-mini", []]]]]],
            ["chat gpt-4o-mini", []],
        ]],
    ]]]


def test_trace_tool_function_tool_has_one_span(traced: Telemetry, server: Any) -> None:
    """``trace_tool`` under ``function_tool``: the SDK's tool span is the only execute_tool span."""
    @agents.function_tool
    @trace_tool(description="Looks the weather up.")
    def get_weather(city: str) -> str:
        """The weather in a city."""
        return "sunny"

    run("async", triage("responses", async_client(server), tool=get_weather))
    tool, = named(traced.finished_spans(), "execute_tool get_weather")
    assert tool.attributes[sc.TOOL_CALL_ID] == tool_call_ids(server)[1]
    assert tool.attributes[sc.TOOL_DESCRIPTION] == "Looks the weather up."


def _local_model() -> Any:
    """A ``Model`` that never touches the openai client (as the LiteLLM extension): it reports its call
    through the SDK's own generation span, as those models do."""
    from openai.types.responses import ResponseOutputMessage, ResponseOutputText

    class LocalModel(agents.Model):  # type: ignore[misc]
        async def get_response(self, *args: Any, **kwargs: Any) -> Any:
            with agents.generation_span(model="local-llama", model_config={"temperature": 0.5}) as span:
                span.span_data.usage = {"input_tokens": 11, "output_tokens": 3}
            text = ResponseOutputText(text="Hello from a local model.", type="output_text", annotations=[])
            message = ResponseOutputMessage(id="msg_local", content=[text], role="assistant",
                                            status="completed", type="message")
            usage = agents.Usage(requests=1, input_tokens=11, output_tokens=3, total_tokens=14)
            return agents.ModelResponse(output=[message], usage=usage, response_id=None)

        def stream_response(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

    return LocalModel()


def test_model_outside_the_openai_sdk_gets_a_chat_span(traced: Telemetry) -> None:
    """A model that bypasses the openai SDK gets a ``chat`` span built from the SDK's generation span."""
    result = run("async", agents.Agent(name="local_agent", instructions="Hi.", model=_local_model()), "Hi")
    assert result.final_output == "Hello from a local model."
    spans = traced.finished_spans()
    assert tree(spans) == [["invoke_workflow Agent workflow", [
        ["invoke_agent local_agent", [["chat local-llama", []]]]]]]
    chat, = named(spans, "chat local-llama")
    assert chat.kind is trace.SpanKind.CLIENT
    assert dict(chat.attributes) == {
        sc.OPERATION_NAME: "chat", sc.PROVIDER_NAME: sc.ERROR_TYPE_OTHER, sc.REQUEST_MODEL: "local-llama",
        sc.REQUEST_TEMPERATURE: 0.5, sc.AGENT_NAME: "local_agent",
        sc.USAGE_INPUT_TOKENS: 11, sc.USAGE_OUTPUT_TOKENS: 3}
    assert [p.sum for p in traced.metric_points(sc.METRIC_TOKEN_USAGE)] in ([11, 3], [3, 11])


def test_user_processor_and_openai_exporter_keep_working(traced: Telemetry, server: Any) -> None:
    """A processor the user registered and OpenAI's own exporter both still get the whole run."""
    seen: list[str] = []

    class Mine(agents.TracingProcessor):  # type: ignore[misc]
        def on_trace_start(self, t: Any) -> None: seen.append("trace")
        def on_trace_end(self, t: Any) -> None: seen.append("/trace")
        def on_span_start(self, s: Any) -> None: seen.append(s.span_data.type)
        def on_span_end(self, s: Any) -> None: pass
        def shutdown(self) -> None: pass
        def force_flush(self) -> None: pass

    mine = Mine()
    agents.add_trace_processor(mine)
    try:
        run("async", triage("responses", async_client(server)))
        agents.tracing.processors.default_processor().force_flush()
    finally:
        _remove(mine)
    assert seen[0] == "trace" and seen[-1] == "/trace" and seen.count("agent") == 2
    exported = [item for r in server.requests if r["path"].endswith("/traces/ingest") for item in r["body"]["data"]]
    agent_names = {i["span_data"]["name"] for i in exported if i.get("span_data", {}).get("type") == "agent"}
    assert agent_names == {"triage_agent", "weather_agent"}
    assert tree(traced.finished_spans()) == WEATHER_TREE


def _processors() -> tuple[Any, ...]:
    return tuple(agents.tracing.get_trace_provider()._multi_processor._processors)


def _remove(processor: Any) -> None:
    agents.set_trace_processors([p for p in _processors() if p is not processor])


def test_uninstrument_removes_only_ours(instrument: Callable[..., Telemetry]) -> None:
    """instrument() adds one processor (never two), uninstrument() takes exactly it away."""
    from otel_openai import OpenAIInstrumentor

    before = _processors()
    instrument()
    OpenAIInstrumentor().instrument()  # a second instrument() is refused by the instrumentor
    added = [p for p in _processors() if p not in before]
    assert [type(p).__name__ for p in added] == ["AgentsProcessor"]
    OpenAIInstrumentor().uninstrument()
    assert _processors() == before
    OpenAIInstrumentor().instrument()
    assert len(_processors()) == len(before) + 1


def test_switched_off(instrument: Callable[..., Telemetry], server: Any) -> None:
    """``instrument(agents_sdk=False)``: no processor, so only our model spans, flat."""
    before = _processors()
    traced = instrument(agents_sdk=False)
    assert _processors() == before
    with sdk_exporter_on(server):
        run("async", triage("responses", async_client(server)))
    assert tree(traced.finished_spans()) == [["chat gpt-4o-mini", []]] * 3


@pytest.mark.parametrize("order", ["instrument-first", "import-first"])
def test_agents_imported_before_or_after_instrument(order: str) -> None:
    """The processor is registered whether ``agents`` is imported before or after ``instrument()``, and
    ``instrument()`` never imports it."""
    steps = ["from otel_openai import OpenAIInstrumentor", "OpenAIInstrumentor().instrument()",
             "assert 'agents' not in sys.modules", "import agents"]
    if order == "import-first":
        steps = [steps[3], steps[0], steps[1]]
    code = "import sys\n" + "\n".join(steps) + (
        "\nnames = [type(p).__name__ for p in agents.tracing.get_trace_provider()._multi_processor._processors]"
        "\nassert names.count('AgentsProcessor') == 1, names\n")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_group_id_is_the_conversation(traced: Telemetry, server: Any) -> None:
    """A run's ``group_id`` (a chat thread) is the workflow span's ``gen_ai.conversation.id``."""
    run("async", triage("responses", async_client(server)),
        run_config=agents.RunConfig(group_id="thread_42", workflow_name="Support desk"))
    workflow, = named(traced.finished_spans(), "invoke_workflow Support desk")
    assert workflow.attributes[sc.CONVERSATION_ID] == "thread_42"
    assert workflow.attributes[sc.WORKFLOW_NAME] == "Support desk"
