"""The framework matrix's harness: each scenario runs instrumented and not against one stable loopback server;
results must compare equal, and each HTTP call must make one model span under the right parent.

The frameworks are installed only by ``nox -s frameworks`` (OTEL_OPENAI_FRAMEWORKS=1, where a missing one is an
error); in the unit sessions each module skips with the reason.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import gc
import importlib
import inspect
import json
import os
import re
import uuid
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import Any, Callable, Optional

import pytest
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor
from opentelemetry.trace import SpanKind

from otel_openai import OpenAIInstrumentor
from tests.conftest import FakeOpenAIServer, Telemetry

MODEL = "gpt-4o-mini"
QUESTION = "What's the weather like in Tokyo today?"


def require(module: str, package: str) -> ModuleType:
    """The framework's module: in the frameworks session it must import; elsewhere the test module skips."""
    if os.environ.get("OTEL_OPENAI_FRAMEWORKS"):
        return importlib.import_module(module)
    return pytest.importorskip(module, reason=f"{package} is not installed here: `nox -s frameworks` runs this")


@pytest.fixture
def stable_server() -> Iterator[FakeOpenAIServer]:
    """The loopback server answering the same request the same way, ids included, so runs compare equal."""
    with FakeOpenAIServer(stable=True) as running:
        yield running


# --- comparing results ---------------------------------------------------------------------------------

# Ids the frameworks make up themselves, differently each run; and the W3C traceparent of the test's own root
# span, different each run (pydantic-ai keeps the current span's in its result even when it traces nothing).
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_TRACEPARENT = re.compile(r"\b00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}\b")


def _masked(text: str) -> str:
    return _TRACEPARENT.sub("<traceparent>", _UUID.sub("<uuid>", text))


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def snapshot(value: Any, depth: int = 0) -> Any:
    """A result as comparable data: types kept, models and dataclasses by field, exceptions by type, message
    and cause; uuids and timestamps (made up by the framework per run) masked; other objects by type."""
    if isinstance(value, str):
        return _masked(value)
    if value is None or isinstance(value, (bool, int, float)) or depth > 40:
        return value if depth <= 40 else "<deep>"
    if isinstance(value, BaseException):
        cause = value.__cause__
        return {"raised": _type_name(type(value)), "message": snapshot(str(value)),
                "cause": None if cause is None else snapshot(cause, depth + 1)}
    if isinstance(value, (datetime.date, datetime.time, uuid.UUID)):
        return f"<{type(value).__name__}>"
    if isinstance(value, dict):
        return {str(k): snapshot(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [snapshot(v, depth + 1) for v in value]
    fields = _fields(value)
    if fields is not None:
        return {"__type__": _type_name(type(value)), **{k: snapshot(v, depth + 1) for k, v in fields.items()}}
    return f"<{_type_name(type(value))}>"


def _fields(value: Any) -> Optional[dict[str, Any]]:
    pydantic = importlib.import_module("pydantic")
    if isinstance(value, pydantic.BaseModel):
        return dict(value.__dict__)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name, None) for f in dataclasses.fields(value)}
    return None


# --- the spans ----------------------------------------------------------------------------------------


class _Ends(SpanProcessor):
    """Counts span starts and ends: every span that starts must end, once."""

    def __init__(self) -> None:
        self.started: list[int] = []
        self.ended: list[int] = []

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        self.started.append(span.context.span_id)

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span.context.span_id)  # type: ignore[union-attr]

    def open(self) -> int:
        return len(set(self.started) - set(self.ended))


def expected_parent(span: ReadableSpan, spans: list[ReadableSpan]) -> ReadableSpan:
    """The parent a model or tool span must have: the nearest enclosing span the framework run produced, or
    the test's root span. Nearest enclosing: of the spans in the same trace that were open when this one
    started (model spans aside), the one that started last. Today no framework here opens spans of its own,
    so it is the root; when the Agents SDK tracing processor lands, its ``invoke_agent`` span is open around
    the model calls and becomes the answer. (A broken-off stream's span may outlive its parent: it ends when
    the framework finally closes the stream.)"""
    start = span.start_time or 0
    open_then = [s for s in spans if s is not span and s.kind is not SpanKind.CLIENT
                 and s.context.trace_id == span.context.trace_id  # type: ignore[union-attr]
                 and (s.start_time or 0) <= start <= (s.end_time or 0)]
    return max(open_then, key=lambda s: s.start_time or 0)


def model_spans(spans: list[ReadableSpan]) -> list[ReadableSpan]:
    """Our model spans (the only CLIENT spans here), in the order they started."""
    return sorted((s for s in spans if s.kind is SpanKind.CLIENT), key=lambda s: s.start_time or 0)


def tool_spans(spans: list[ReadableSpan]) -> list[ReadableSpan]:
    return [s for s in spans if (s.attributes or {}).get("gen_ai.operation.name") == "execute_tool"]


@dataclasses.dataclass
class Run:
    """One run of a scenario: what it returned (or raised), what it sent, what it recorded and warned."""

    outcome: Any
    requests: list[dict[str, Any]]
    spans: list[ReadableSpan]
    warned: list[str]
    stderr: str


class Harness:
    """Runs a scenario twice under a root span: uninstrumented, then instrumented with content on spans.

    The plain run goes first so that what a framework warns on first use (LiteLLM's pydantic types do) is
    the framework's own; the instrumented run must then warn nothing the plain run did not (LlamaIndex's
    workflows warn on every agent they build: pydantic deprecations, their own).
    """

    def __init__(self, server: FakeOpenAIServer, telemetry: Telemetry, capfd: pytest.CaptureFixture[str]) -> None:
        self.server = server
        self.telemetry = telemetry
        self.capfd = capfd
        self.ends = _Ends()
        telemetry.tracer_provider.add_span_processor(self.ends)
        self.tracer = telemetry.tracer_provider.get_tracer("tests.frameworks")

    async def compare(self, scenario: Callable[[], Any], abandons: bool = False) -> Run:
        """The instrumented run, after checking it against the uninstrumented one. ``abandons``: the scenario
        leaves streams behind for the garbage collector."""
        plain = await self._run(scenario, False, abandons)
        traced = await self._run(scenario, True, abandons)
        assert snapshot(traced.outcome) == snapshot(plain.outcome), "instrumentation changed the result"
        assert traced.requests == plain.requests, "instrumentation changed what was sent"
        assert set(traced.warned) <= set(plain.warned), "instrumentation warned"
        assert _masked(traced.stderr) == _masked(plain.stderr), "instrumentation changed what was printed"
        assert [s.name for s in plain.spans] == ["test root"], "uninstrumented runs record nothing"
        self.check_model_spans(traced)
        return traced

    async def _run(self, scenario: Callable[[], Any], instrumented: bool, abandons: bool) -> Run:
        instrumentor = OpenAIInstrumentor()
        if instrumented:
            instrumentor.instrument(tracer_provider=self.telemetry.tracer_provider,
                                    meter_provider=self.telemetry.meter_provider,
                                    logger_provider=self.telemetry.logger_provider, capture_content="SPAN_ONLY")
        self.telemetry.spans.clear()
        self.capfd.readouterr()
        first = len(self.server.requests)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                with self.tracer.start_as_current_span("test root"):
                    outcome = await _outcome(scenario)
                await _settle(self.ends, abandons)
        finally:
            if instrumented:
                instrumentor.uninstrument()
        warned = [_warning(w) for w in caught]
        return Run(outcome, self.server.requests[first:], self.telemetry.finished_spans(), warned,
                   self.capfd.readouterr().err)

    def check_model_spans(self, run: Run) -> None:
        """One model span per HTTP call, for the model asked, under the right parent; every span ended once."""
        spans = model_spans(run.spans)
        assert [s.attributes["gen_ai.request.model"] for s in spans] == [  # type: ignore[index]
            r["body"].get("model") for r in run.requests], "one model span per HTTP call"
        for span in [*spans, *tool_spans(run.spans)]:
            assert span.parent is not None
            assert span.parent.span_id == expected_parent(span, run.spans).context.span_id, span.name  # type: ignore[union-attr]
        assert sorted(self.ends.started) == sorted(self.ends.ended), "every span ends"
        assert len(set(self.ends.ended)) == len(self.ends.ended), "no span ends twice"


def _warning(caught: warnings.WarningMessage) -> str:
    """A warning as compared between the runs. Numbers masked: a ResourceWarning names a socket's file
    descriptor and port, different every run. An abandoned connection is one unclosed resource whichever of
    its objects (the socket, the buffered reader around it) the collector happens to finalize first, so
    those warnings compare by category alone."""
    if caught.category is ResourceWarning and str(caught.message).startswith("unclosed"):
        return "ResourceWarning: unclosed resource"
    return re.sub(r"\d+", "N", f"{caught.category.__name__}: {caught.message}")


async def _settle(ends: _Ends, collect: bool) -> None:
    """Let abandoned streams end as they would in a long-lived program: async generators are finalized by
    the event loop (in tasks of their own), and with ``collect`` unreachable ones are garbage collected,
    once and again while a span is still open. Both runs of a scenario settle alike, so what collection
    itself warns (ResourceWarning for a connection the framework abandoned) shows in both. A full
    collection takes a second or two with these frameworks loaded: only scenarios that abandon ask."""
    for attempt in range(4):
        for _ in range(20):
            await asyncio.sleep(0)
        if not collect or (attempt and not ends.open()):
            return
        gc.collect()


async def _outcome(scenario: Callable[[], Any]) -> Any:
    try:
        result = scenario()
        return await result if inspect.isawaitable(result) else result
    except Exception as exc:  # the user's exception is part of the result
        return exc


@pytest.fixture
def harness(stable_server: FakeOpenAIServer, telemetry: Telemetry, capfd: pytest.CaptureFixture[str]) -> Harness:
    return Harness(stable_server, telemetry, capfd)


# --- assertions shared by the modules ------------------------------------------------------------------


def only_tool_span(run: Run) -> ReadableSpan:
    """The one innermost execute_tool span: trace_tool's, also once a framework's own tracing (the Agents
    SDK processor) opens an execute_tool span around it."""
    spans = tool_spans(run.spans)
    parents = {s.parent.span_id for s in spans if s.parent is not None}
    (span,) = [s for s in spans if s.context.span_id not in parents]  # type: ignore[union-attr]
    return span


def tool_call_ids(run: Run) -> list[str]:
    """The ids of the tool calls the model asked for, from the model spans' output messages."""
    ids = []
    for span in model_spans(run.spans):
        for message in json.loads(str((span.attributes or {}).get("gen_ai.output.messages", "[]"))):
            ids += [p["id"] for p in message.get("parts", []) if p.get("type") == "tool_call"]
    return ids


def assert_tool_span(run: Run, knows_id: bool = True) -> ReadableSpan:
    """The tool's execute_tool span records just the model's arguments, and the model's tool-call id when
    the framework hands it to the tool (``knows_id``; without, no id is made up)."""
    span = only_tool_span(run)
    attrs = span.attributes or {}
    assert span.name == "execute_tool get_weather"
    assert json.loads(str(attrs["gen_ai.tool.call.arguments"])) == {"city": "Tokyo"}
    assert attrs.get("gen_ai.tool.call.id") == (tool_call_ids(run)[0] if knows_id else None)
    return span


def assert_rate_limited(run: Run) -> None:
    """The 429 made one failed model span typed as the SDK's RateLimitError."""
    (span,) = model_spans(run.spans)
    assert (span.attributes or {})["error.type"] == "openai.RateLimitError"
    assert isinstance(run.outcome, Exception)
