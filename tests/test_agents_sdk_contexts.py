"""The processor's mechanics in ``_agents_sdk.py`` that need no Agents SDK: contexts, ending, never raising.

The SDK calls a processor with its ``Trace`` and ``Span`` objects; stand-ins with the same fields drive it
here, so these run in every session, including those without openai-agents.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from types import SimpleNamespace as Obj
from typing import Any

import pytest
from opentelemetry import context, trace
from opentelemetry._logs import get_logger
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.metrics import get_meter

from otel_openai import _config
from otel_openai import _semconv as sc
from otel_openai._agents_sdk import AgentsProcessor
from otel_openai._invocation import Telemetry as Pipes
from otel_openai._metrics import Metrics
from tests.conftest import Telemetry


def processor(telemetry: Telemetry) -> AgentsProcessor:
    pipes = Pipes(trace.get_tracer("t", tracer_provider=telemetry.tracer_provider),
                  Metrics(get_meter("t", meter_provider=telemetry.meter_provider)),
                  get_logger("t", logger_provider=telemetry.logger_provider), _config.Settings())
    return AgentsProcessor(pipes)


def sdk_trace(trace_id: str = "trace_1") -> Any:
    return Obj(trace_id=trace_id, name="Support", group_id=None)


def sdk_span(span_id: str, kind: str, parent_id: Any = None, **data: Any) -> Any:
    span_data = Obj(type=kind, **data)
    return Obj(trace_id="trace_1", span_id=span_id, parent_id=parent_id, span_data=span_data, error=None)


def test_context_is_detached_where_it_was_attached(telemetry: Telemetry) -> None:
    """An agent span started and ended in one task leaves that task's context as it found it."""
    p = processor(telemetry)

    async def agent_task() -> None:
        p.on_trace_start(sdk_trace())
        p.on_span_start(sdk_span("a", "agent", name="triage"))
        assert trace.get_current_span().name == "invoke_agent triage"  # type: ignore[attr-defined]
        assert context.get_value(sc.CONTEXT_AGENT_NAME) == "triage"
        p.on_span_end(sdk_span("a", "agent", name="triage"))
        p.on_trace_end(sdk_trace())
        assert trace.get_current_span() is trace.INVALID_SPAN

    asyncio.run(agent_task())
    assert [s.name for s in telemetry.finished_spans()] == ["invoke_agent triage", "invoke_workflow Support"]


def test_end_in_a_foreign_context_does_not_detach_there(telemetry: Telemetry,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    """A span ended from another Context (a generator closed by another task) still ends, once, and no
    detach is tried there: OpenTelemetry would log an error, and that Context never held it."""
    p = processor(telemetry)
    starter = contextvars.copy_context()
    starter.run(p.on_trace_start, sdk_trace())
    starter.run(p.on_span_start, sdk_span("a", "agent", name="triage"))
    with caplog.at_level(logging.DEBUG):
        contextvars.copy_context().run(p.on_span_end, sdk_span("a", "agent", name="triage"))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [s.name for s in telemetry.finished_spans()] == ["invoke_agent triage"]
    assert trace.get_current_span() is trace.INVALID_SPAN  # this Context was never touched


def test_uninstrumented_processor_still_ends_what_it_started(telemetry: Telemetry) -> None:
    """After uninstrument (telemetry gone) an open span still ends; nothing new starts."""
    p = processor(telemetry)
    p.on_trace_start(sdk_trace())
    p.telemetry = None
    p.on_span_start(sdk_span("a", "agent", name="late"))
    p.on_trace_end(sdk_trace())
    assert [s.name for s in telemetry.finished_spans()] == ["invoke_workflow Support"]
    assert p._entries == {}


def test_suppressed_instrumentation_records_nothing(telemetry: Telemetry) -> None:
    """Under ``suppress_instrumentation()`` no workflow, agent or tool span starts."""
    p = processor(telemetry)
    with suppress_instrumentation():
        p.on_trace_start(sdk_trace())
        p.on_span_start(sdk_span("a", "agent", name="quiet"))
        p.on_span_end(sdk_span("a", "agent", name="quiet"))
        p.on_trace_end(sdk_trace())
    assert telemetry.finished_spans() == []


def test_links_lead_tools_to_their_agent(telemetry: Telemetry) -> None:
    """A tool under a turn span under an agent span takes the agent's name and its model's call id."""
    p = processor(telemetry)
    p.on_trace_start(sdk_trace())
    p.on_span_start(sdk_span("a", "agent", name="weather"))
    p.on_span_start(sdk_span("t", "turn", parent_id="a", turn=1, agent_name="weather"))
    context.get_value(sc.CONTEXT_AGENT_RUN).model_call_ended([("call_9", "get_weather")])  # type: ignore[union-attr]
    p.on_span_start(sdk_span("f", "function", parent_id="t", name="get_weather", input=None))
    p.on_span_end(sdk_span("f", "function", parent_id="t", name="get_weather", input=None, output=None,
                           mcp_data=None))
    for span_id, kind in (("t", "turn"), ("a", "agent")):
        p.on_span_end(sdk_span(span_id, kind))
    p.on_trace_end(sdk_trace())
    tool = next(s for s in telemetry.finished_spans() if s.name == "execute_tool get_weather")
    assert tool.attributes[sc.TOOL_CALL_ID] == "call_9" and tool.attributes[sc.AGENT_NAME] == "weather"
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_odd_objects_never_raise(telemetry: Telemetry) -> None:
    """Objects missing every field the processor reads are logged at debug level and ignored."""
    p = processor(telemetry)
    for method in (p.on_trace_start, p.on_trace_end, p.on_span_start, p.on_span_end):
        method(object())
    assert telemetry.finished_spans() == []
    assert trace.get_current_span() is trace.INVALID_SPAN  # nothing was attached on the way to the failure
