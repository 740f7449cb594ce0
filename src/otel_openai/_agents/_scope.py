"""One execute_tool or invoke_agent span: start, current context, content gating, end once."""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Optional, TypeVar, Union

from opentelemetry import context, trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.metrics import get_meter
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from otel_openai import _active, _config, _content
from otel_openai import _semconv as sc
from otel_openai._agents._plain import placeholder
from otel_openai._agents._plain import plain as _plain
from otel_openai._invocation import error_type
from otel_openai._mapping._common import Attributes
from otel_openai._metrics import AgentMetrics
from otel_openai.version import __version__

__all__ = ["TRACED_TOOL", "AgentScope", "CallIdScope", "MakeScope", "S", "Scope", "ToolScope"]

_logger = logging.getLogger(__name__)

# run_tool_call leaves the model's tool-call id here for the traced tool it calls; the tool's own context
# clears it, so a tool called from inside that tool does not claim the same id.
_CALL_ID_KEY = "otel_openai.tool_call_id"
# Marks wrappers made by trace_tool, so run_tool_call does not open a second span around them.
TRACED_TOOL = "__otel_openai_tool__"

# Used when the instrumentor is not active: the global provider, resolved lazily by the API's proxy.
_global_tracer = trace.get_tracer("otel_openai._agents", __version__, schema_url=sc.SCHEMA_URL)


_global_metrics: Optional[AgentMetrics] = None


def _tracer() -> trace.Tracer:
    """The instrumentor's tracer when instrumented (its provider), else the global one."""
    telemetry = _active.telemetry
    return telemetry.tracer if telemetry is not None else _global_tracer


def _metrics() -> AgentMetrics:
    """The instrumentor's metrics when instrumented (its provider), else the agent and tool histograms of the
    global meter provider, made on first use."""
    global _global_metrics
    telemetry = _active.telemetry
    if telemetry is not None:
        return telemetry.metrics
    if _global_metrics is None:
        _global_metrics = AgentMetrics(get_meter("otel_openai._agents", __version__, schema_url=sc.SCHEMA_URL))
    return _global_metrics


# --- content made safe ------------------------------------------------------------------------------


def _encode(value: Any, limit: int) -> str:
    """Compact JSON of a JSON object (``_content.json_object``: JSON text parsed, anything else wrapped as
    ``{"value": ...}``). Strings are bounded by ``limit``; this never raises."""
    try:
        return _content.to_json(_content.bounded(_content.json_object(_plain(value)), limit))
    except Exception:
        _logger.debug("otel-openai: tool content not encodable", exc_info=True)
        return _content.to_json({"value": placeholder(value)})


# --- one span's lifecycle ---------------------------------------------------------------------------


class _Scope:
    """One execute_tool or invoke_agent span: start, make current (per step for generators), end once."""

    operation = ""

    def __init__(self, name: str) -> None:
        self.name = name
        self.span: Span = trace.INVALID_SPAN
        self._ctx: Optional[context.Context] = None
        self._token: Optional[object] = None
        self._content = False
        self._limit = 0
        self._ended = False
        # perf_counter() at start, for the duration metric (None when no span was started), and the span's
        # attributes the metric may keep.
        self._began: Optional[float] = None
        self._span_attrs: Attributes = {}

    def __enter__(self) -> Any:
        self._start()
        self._token = self._attach()
        return self

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        self._detach(self._token)
        self._end(exc)

    @property
    def records_result(self) -> bool:
        """Whether ``set_result`` records anything: only tool spans, with content on spans allowed."""
        return False

    def _attributes(self, settings: _config.Settings) -> Attributes:
        raise NotImplementedError

    def _context(self, ctx: context.Context) -> context.Context:
        return ctx

    def _on_start(self) -> None:
        """Content recorded at start; only called when the span records and content capture is on."""

    def _start(self) -> None:
        if not is_instrumentation_enabled():
            return
        try:
            settings = _config.current()
            name = f"{self.operation} {self.name}" if self.name else self.operation
            self._span_attrs = self._attributes(settings)
            self.span = _tracer().start_span(name, kind=SpanKind.INTERNAL, attributes=self._span_attrs)
            self._began = time.perf_counter()
            self._ctx = self._context(trace.set_span_in_context(self.span))
            # Tool arguments and results are content: on spans only when the user allowed content on spans.
            self._content = settings.content_on_span and self.span.is_recording()
            self._limit = settings.max_content_length
            if self._content:
                self._on_start()
        except Exception:
            _logger.debug("otel-openai: could not start the %s span", self.operation, exc_info=True)

    def _attach(self) -> Optional[object]:
        return context.attach(self._ctx) if self._ctx is not None else None

    @staticmethod
    def _detach(token: Optional[object]) -> None:
        if token is not None:
            context.detach(token)  # type: ignore[arg-type]

    def _end(self, exc: Optional[BaseException]) -> None:
        if self._ended:
            return
        self._ended = True
        duration = time.perf_counter() - self._began if self._began is not None else None
        span = self.span
        # A generator closed early (GeneratorExit) was abandoned by its consumer, not failed.
        failure = exc if exc is not None and not isinstance(exc, GeneratorExit) else None
        error = error_type(failure) if failure is not None else None
        try:
            if failure is not None and error is not None and span.is_recording():
                span.set_attribute(sc.ERROR_TYPE, error)
                span.record_exception(failure)
                span.set_status(Status(StatusCode.ERROR, str(failure)))
            span.end()
        except Exception:
            _logger.debug("otel-openai: could not end the %s span", self.operation, exc_info=True)
        if duration is not None:
            self._record_duration(duration, error)

    def _record_duration(self, duration: float, error: Optional[str]) -> None:
        """The duration metric, equal to the span's duration; recorded whether or not the span is sampled."""
        attrs = self._span_attrs if error is None else {**self._span_attrs, sc.ERROR_TYPE: error}
        try:
            self._record(_metrics(), duration, attrs)
        except Exception:
            _logger.debug("otel-openai: could not record the %s duration", self.operation, exc_info=True)

    def _record(self, metrics: AgentMetrics, duration: float, attrs: Attributes) -> None:
        """Overridden by the scopes that have a duration metric."""

    def _set_content(self, key: str, value: Any) -> None:
        if self._content:
            self.span.set_attribute(key, _encode(value, self._limit))

    def set_result(self, result: Any) -> None:
        """Record the result; agents have none, so agent and tool scopes share the wrappers."""


class ToolScope(_Scope):
    """An ``execute_tool`` span; ``with trace_tool(...) as tool`` gives you one. ``tool.span`` is the
    OpenTelemetry span; ``tool.set_result(value)`` records the result (only with content capture on)."""

    operation = sc.OP_EXECUTE_TOOL

    def __init__(self, name: str, *, description: Optional[str] = None, call_id: Optional[str] = None,
                 arguments: Any = None, bind: Optional[Callable[[], Any]] = None) -> None:
        super().__init__(name)
        self.description = description
        self.call_id = call_id
        self._arguments = arguments
        self._bind = bind
        self._inherited_call_id = False

    @property
    def records_result(self) -> bool:
        return self._content

    def _start(self) -> None:
        # When the Agents SDK's own span for this very tool is current, it is this tool's execute_tool span
        # (with the model's call id, arguments and result): no second span, at most our description on it.
        sdk_span = _sdk_tool_span(self.name)
        if sdk_span is None:
            super()._start()
        elif self.description:
            sdk_span.set_attribute(sc.TOOL_DESCRIPTION, self.description)

    def _attributes(self, settings: _config.Settings) -> Attributes:
        if self.call_id is None:
            inherited = context.get_value(_CALL_ID_KEY)
            if isinstance(inherited, str):
                self.call_id, self._inherited_call_id = inherited, True
        attrs: Attributes = {
            sc.OPERATION_NAME: sc.OP_EXECUTE_TOOL,
            sc.TOOL_NAME: self.name,
            sc.TOOL_TYPE: sc.TOOL_TYPE_FUNCTION,
        }
        if self.call_id:
            attrs[sc.TOOL_CALL_ID] = self.call_id
        if self.description:
            attrs[sc.TOOL_DESCRIPTION] = self.description
        agent = context.get_value(sc.CONTEXT_AGENT_NAME)  # left by an enclosing trace_agent
        if isinstance(agent, str) and agent:
            attrs[sc.AGENT_NAME] = agent
        return attrs

    def _record(self, metrics: AgentMetrics, duration: float, attrs: Attributes) -> None:
        metrics.record_tool(duration, attrs)

    def _context(self, ctx: context.Context) -> context.Context:
        return context.set_value(_CALL_ID_KEY, None, ctx) if self._inherited_call_id else ctx

    def _on_start(self) -> None:
        arguments = self._bind() if self._bind is not None else self._arguments
        if arguments is not None:
            self._set_content(sc.TOOL_CALL_ARGUMENTS, arguments)

    def set_arguments(self, arguments: Any) -> None:
        """Record the tool's arguments (content capture on only); JSON strings are kept as they are."""
        self._set_content(sc.TOOL_CALL_ARGUMENTS, arguments)

    def set_result(self, result: Any) -> None:
        """Record the tool's result (content capture on only); never raises."""
        self._set_content(sc.TOOL_CALL_RESULT, result)


def _sdk_tool_span(name: str) -> Optional[Span]:
    """The execute_tool span the Agents SDK processor opened for tool ``name``, when it is the current span."""
    current = context.get_value(sc.CONTEXT_SDK_TOOL)
    if isinstance(current, tuple) and current[0] == name and current[1] is trace.get_current_span():
        return current[1]
    return None


class AgentScope(_Scope):
    """An ``invoke_agent`` span; model and tool spans started inside it carry ``gen_ai.agent.name``.

    The conventions' in-process (INTERNAL) agent span has no ``gen_ai.provider.name`` (the agent runs here;
    its model calls name their provider) and no ``gen_ai.agent.id``, which they reserve for the stable,
    provider-assigned id of a hosted agent. ``agent_id`` is still accepted, so existing callers keep
    working, but it is not recorded.
    """

    operation = sc.OP_INVOKE_AGENT

    def __init__(self, name: str, *, description: Optional[str] = None, agent_id: Optional[str] = None) -> None:
        super().__init__(name)
        self.description = description
        self.agent_id = agent_id

    def _attributes(self, settings: _config.Settings) -> Attributes:
        attrs: Attributes = {
            sc.OPERATION_NAME: sc.OP_INVOKE_AGENT,
            sc.AGENT_NAME: self.name,
        }
        if self.description:
            attrs[sc.AGENT_DESCRIPTION] = self.description
        return attrs

    def _record(self, metrics: AgentMetrics, duration: float, attrs: Attributes) -> None:
        metrics.record_agent(duration, attrs)

    def _context(self, ctx: context.Context) -> context.Context:
        return context.set_value(sc.CONTEXT_AGENT_NAME, self.name, ctx)


class CallIdScope(_Scope):
    """No span of its own: hands a tool call's id to the trace_tool function it runs, whose span takes it."""

    def __init__(self, call_id: Optional[str]) -> None:
        super().__init__("")
        self._call_id = call_id

    def _start(self) -> None:
        self._ctx = context.set_value(_CALL_ID_KEY, self._call_id)

    def _end(self, exc: Optional[BaseException]) -> None:
        """The traced function's own span records the outcome."""


Scope = Union[ToolScope, AgentScope, CallIdScope]
S = TypeVar("S", ToolScope, AgentScope)
MakeScope = Callable[[tuple[Any, ...], dict[str, Any]], Scope]
