"""The span of a tool or agent: content gating and safety, errors, tracer choice, suppression, agent names."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.trace import StatusCode

from otel_openai import trace_agent, trace_tool
from tests._agents.conftest import by_name
from tests.conftest import Telemetry

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
    """Objects JSON cannot encode become placeholders, odd keys JSON text, cycles end; nothing raises."""
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
    assert json.loads(attrs["gen_ai.tool.call.arguments"]) == {"thing": "<Opaque object>",
                                                               "mapping": {"[1,2]": [3]}}
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
    from otel_openai._agents import _scope

    monkeypatch.setattr(_scope, "_global_tracer", telemetry.tracer_provider.get_tracer("global"))

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


# --- the agent name on tool spans, and the agent and tool duration metrics ---------------------------


class _Clock:
    """A perf_counter the test moves by hand."""

    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> _Clock:
    import types

    from otel_openai._agents import _scope

    fake = _Clock()
    monkeypatch.setattr(_scope, "time", types.SimpleNamespace(perf_counter=fake))
    return fake


def test_tools_name_the_agent_they_run_in(no_content: Telemetry) -> None:
    """A tool run inside an agent carries gen_ai.agent.name (the innermost agent); outside, none."""
    @trace_tool
    def lookup() -> int:
        return 1

    lookup()
    with trace_agent("planner"), trace_agent("researcher"):
        lookup()
    tools = [s for s in no_content.finished_spans() if s.name == "execute_tool lookup"]
    assert [s.attributes.get("gen_ai.agent.name") for s in tools] == [None, "researcher"]


def test_duration_metrics(no_content: Telemetry, clock: _Clock) -> None:
    """Each tool and agent records one duration point in seconds, measured like its span, with only the
    conventions' attributes and their bucket advice."""
    @trace_tool
    def lookup() -> int:
        clock.now += 0.25
        return 1

    with trace_agent("planner", description="Plans."):
        clock.now += 1.0
        lookup()
    (tool,) = no_content.metric_points("gen_ai.execute_tool.duration")
    assert (tool.count, tool.sum) == (1, pytest.approx(0.25))
    assert dict(tool.attributes) == {"gen_ai.tool.name": "lookup", "gen_ai.tool.type": "function",
                                     "gen_ai.agent.name": "planner"}
    assert list(tool.explicit_bounds) == pytest.approx([0.01 * 2**i for i in range(14)])
    (agent,) = no_content.metric_points("gen_ai.invoke_agent.duration")
    assert (agent.count, agent.sum) == (1, pytest.approx(1.25))
    assert dict(agent.attributes) == {"gen_ai.agent.name": "planner"}
    assert list(agent.explicit_bounds) == pytest.approx([0.1 * 2**i for i in range(13)])
    units = {m.name: m.unit for rm in no_content.metric_reader.get_metrics_data().resource_metrics
             for sm in rm.scope_metrics for m in sm.metrics}
    assert units["gen_ai.execute_tool.duration"] == units["gen_ai.invoke_agent.duration"] == "s"


async def test_failed_durations_carry_the_error_type(no_content: Telemetry) -> None:
    """A failing tool or agent records its duration with error.type; an abandoned generator does not."""
    @trace_tool
    async def fails() -> None:
        raise ConnectionError("down")

    @trace_tool
    def numbers() -> Any:
        yield 1
        yield 2

    with pytest.raises(ConnectionError), trace_agent("broken"):
        await fails()
    gen = numbers()
    next(gen)
    gen.close()
    tools = {p.attributes["gen_ai.tool.name"]: dict(p.attributes)
             for p in no_content.metric_points("gen_ai.execute_tool.duration")}
    assert tools["fails"]["error.type"] == "ConnectionError"
    assert "error.type" not in tools["numbers"]
    (agent,) = no_content.metric_points("gen_ai.invoke_agent.duration")
    assert agent.attributes["error.type"] == "ConnectionError"


def test_no_duration_when_suppressed(no_content: Telemetry) -> None:
    """Under suppress_instrumentation() no duration is recorded either."""
    with suppress_instrumentation(), trace_agent("quiet"), trace_tool("t"):
        pass
    assert no_content.metric_points("gen_ai.invoke_agent.duration") == []
    assert no_content.metric_points("gen_ai.execute_tool.duration") == []


def test_latest_metric_mode_keeps_the_agent_metrics(instrument: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The agent and tool durations are the same whatever OTEL_SEMCONV_STABILITY_OPT_IN says."""
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http,gen_ai_latest_experimental")
    telemetry = instrument()
    with trace_agent("a"), trace_tool("t"):
        pass
    assert len(telemetry.metric_points("gen_ai.invoke_agent.duration")) == 1
    assert len(telemetry.metric_points("gen_ai.execute_tool.duration")) == 1


def test_record_methods_keep_only_the_conventions_attributes(telemetry: Telemetry) -> None:
    """Integrations that run agents and tools themselves call record_agent/record_tool with a span's
    attributes; ids, descriptions and content never reach the metric."""
    from otel_openai._metrics import Metrics

    metrics = Metrics(telemetry.meter_provider.get_meter("integration"))
    span_attrs = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "t", "gen_ai.tool.type": "function",
                  "gen_ai.tool.call.id": "call_1", "gen_ai.tool.call.arguments": "{}", "gen_ai.agent.name": "a",
                  "error.type": "ValueError"}
    metrics.record_tool(0.5, span_attrs)
    metrics.record_agent(2.0, {"gen_ai.agent.name": "a", "gen_ai.agent.id": "x", "gen_ai.request.model": "m",
                               "gen_ai.agent.description": "d"})
    (tool,) = telemetry.metric_points("gen_ai.execute_tool.duration")
    assert dict(tool.attributes) == {"gen_ai.tool.name": "t", "gen_ai.tool.type": "function",
                                     "gen_ai.agent.name": "a", "error.type": "ValueError"}
    (agent,) = telemetry.metric_points("gen_ai.invoke_agent.duration")
    assert dict(agent.attributes) == {"gen_ai.agent.name": "a", "gen_ai.request.model": "m"}
