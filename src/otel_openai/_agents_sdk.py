"""OpenAI Agents SDK runs as GenAI spans: a ``TracingProcessor`` added with ``agents.add_trace_processor``.

openai-agents 0.3.x (openai 1.x) to 0.24 (openai 3.x) call a processor synchronously at the start and end of
each trace and span, in the task or thread that starts or ends it, just before (start) or after (end) the SDK
sets or resets its own current span. We dispatch on ``span_data.type`` and read fields by name
(``_mapping.agents_sdk``), so no SDK class is imported and nothing is imported before the user does: a
post-import hook registers the processor when ``agents`` is imported, or at once if it already is.

- trace -> ``invoke_workflow``; agent span -> ``invoke_agent``; function span -> ``execute_tool``. Each is made
  current in the OpenTelemetry context while the SDK's span is, so our model spans nest under it; the context
  is detached only in the ``contextvars.Context`` that attached it (a probe variable tells), never elsewhere.
- response / generation spans: nothing when one of our model spans ran inside them, else a ``chat`` span
  built from the SDK's data (models that bypass the openai client).
- handoff and guardrail spans: events on the agent span. task/turn/custom spans: only their parent link.
"""

from __future__ import annotations

import contextvars
import logging
import sys
import time
from collections.abc import Mapping
from typing import Any, Callable, Optional

import wrapt
from opentelemetry import context, trace
from opentelemetry._logs import LogRecord, SeverityNumber
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from opentelemetry.util.types import AttributeValue

from otel_openai import _content
from otel_openai import _semconv as sc
from otel_openai._agent_run import AgentRun
from otel_openai._invocation import Telemetry, error_type
from otel_openai._mapping import agents_sdk as mapping
from otel_openai._metrics import metric_attributes

__all__ = ["AgentsProcessor", "install", "uninstall"]

_logger = logging.getLogger(__name__)

# Set together with each attach: resetting it succeeds only in the Context that set it, which is the test
# for "may we detach here" (OpenTelemetry's own detach would log an error in a foreign Context).
_PROBE: contextvars.ContextVar[None] = contextvars.ContextVar("otel_openai_agents_probe", default=None)


class _Entry:
    """Our side of one SDK trace or span: the OTel span (if any), its context tokens, and its agent."""

    __slots__ = ("agent", "agent_span", "attrs", "kind", "model_calls", "probe", "span", "started", "started_ns",
                 "token")

    def __init__(self, kind: str, parent: Optional[_Entry], span: Optional[Span] = None) -> None:
        self.kind = kind
        self.span = span
        # The start attributes, kept for the duration metric, which is recorded whether or not the span samples.
        self.attrs: Mapping[str, AttributeValue] = {}
        self.agent: Optional[AgentRun] = parent.agent if parent is not None else None
        self.agent_span: Optional[Span] = parent.agent_span if parent is not None else None
        self.token: Optional[object] = None
        self.probe: Optional[contextvars.Token[None]] = None
        self.started = time.perf_counter()
        self.started_ns = time.time_ns()
        self.model_calls = self.agent.model_calls if self.agent is not None else 0

    def attach(self, ctx: context.Context) -> None:
        self.token = context.attach(ctx)
        self.probe = _PROBE.set(None)

    def detach(self) -> None:
        """Detach in the Context that attached; anywhere else (a generator closed by another task, a span
        ended in another thread) leave it: that Context is the only one that holds it."""
        if self.probe is None:
            return
        probe, self.probe = self.probe, None
        try:
            _PROBE.reset(probe)
        except (ValueError, RuntimeError):
            _logger.debug("otel-openai: an Agents SDK span ended outside the context that started it")
            return
        context.detach(self.token)  # type: ignore[arg-type]


def _guarded(method: Callable[..., None]) -> Callable[..., None]:
    """Telemetry never breaks the run: a failure is logged at debug level (the SDK would log it louder)."""
    def run(self: AgentsProcessor, item: Any) -> None:
        try:
            method(self, item)
        except Exception:
            _logger.debug("otel-openai: Agents SDK %s not recorded", method.__name__, exc_info=True)
    run.__name__ = method.__name__
    return run


class AgentsProcessor:
    """The ``TracingProcessor`` (duck-typed: subclassing would import the SDK). One per process; while
    inactive it starts nothing and still ends what it started, then unregisters itself."""

    def __init__(self, telemetry: Telemetry) -> None:
        self.telemetry: Optional[Telemetry] = telemetry
        self._entries: dict[str, _Entry] = {}

    # --- the TracingProcessor interface --------------------------------------------------------------------

    @_guarded
    def on_trace_start(self, sdk_trace: Any) -> None:
        t = self.telemetry
        if t is None or not is_instrumentation_enabled():
            return
        trace_id = sdk_trace.trace_id  # read everything that may fail before anything is attached
        attrs = mapping.workflow_attributes(sdk_trace)
        span = t.tracer.start_span(mapping.span_name(sc.OP_INVOKE_WORKFLOW, attrs.get(sc.WORKFLOW_NAME)),  # type: ignore[arg-type]
                                   kind=SpanKind.INTERNAL, attributes=attrs)
        entry = _Entry("workflow", None, span)
        self._entries[trace_id] = entry
        entry.attach(trace.set_span_in_context(span))

    @_guarded
    def on_trace_end(self, sdk_trace: Any) -> None:
        entry = self._entries.pop(sdk_trace.trace_id, None)
        if entry is not None:
            self._finish(entry, None)
        self._unregister_if_done()

    @_guarded
    def on_span_start(self, sdk_span: Any) -> None:
        if self.telemetry is None or not is_instrumentation_enabled():
            return
        # Every field that may be missing is read before a span starts or a context is attached.
        span_id, parent_id, data = sdk_span.span_id, sdk_span.parent_id, sdk_span.span_data
        parent = self._entries.get(parent_id if parent_id else sdk_span.trace_id)
        entry = _STARTS.get(data.type, AgentsProcessor._start_link)(self, data, parent)
        if entry is not None:
            self._entries[span_id] = entry

    @_guarded
    def on_span_end(self, sdk_span: Any) -> None:
        entry = self._entries.pop(sdk_span.span_id, None)
        end = _ENDS.get(entry.kind) if entry is not None else None
        if entry is not None and end is not None:
            end(self, entry, sdk_span)
        self._unregister_if_done()

    def shutdown(self) -> None:
        """Our spans go to the OpenTelemetry SDK, which flushes them itself."""

    def force_flush(self) -> None:
        """As ``shutdown``: nothing is buffered here."""

    # --- starts ----------------------------------------------------------------------------------------------

    def _start_agent(self, data: Any, parent: Optional[_Entry]) -> _Entry:
        name = str(data.name)
        attrs = mapping.agent_attributes(name)
        span = self.telemetry.tracer.start_span(mapping.span_name(sc.OP_INVOKE_AGENT, name),  # type: ignore[union-attr]
                                                kind=SpanKind.INTERNAL, attributes=attrs)
        entry = _Entry("agent", parent, span)
        entry.attrs = attrs
        entry.agent, entry.agent_span = AgentRun(name), span
        ctx = context.set_value(sc.CONTEXT_AGENT_NAME, name, trace.set_span_in_context(span))
        entry.attach(context.set_value(sc.CONTEXT_AGENT_RUN, entry.agent, ctx))
        return entry

    def _start_tool(self, data: Any, parent: Optional[_Entry]) -> _Entry:
        name = str(data.name)
        entry = _Entry("tool", parent)
        agent = entry.agent
        attrs = mapping.tool_attributes(name, agent.name if agent else None, agent.claim(name) if agent else None)
        span = self.telemetry.tracer.start_span(mapping.span_name(sc.OP_EXECUTE_TOOL, name),  # type: ignore[union-attr]
                                                kind=SpanKind.INTERNAL, attributes=attrs)
        entry.span, entry.attrs = span, attrs
        # A trace_tool function run by this tool finds its span here and adds none of its own; a model call
        # made inside the tool is not the agent's (its tool calls must not be offered to the agent's tools).
        ctx = context.set_value(sc.CONTEXT_SDK_TOOL, (name, span), trace.set_span_in_context(span))
        entry.attach(context.set_value(sc.CONTEXT_AGENT_RUN, None, ctx))
        return entry

    def _start_link(self, data: Any, parent: Optional[_Entry]) -> Optional[_Entry]:
        """task, turn, custom, ...: no span, only the way from their children to the agent above them."""
        return _Entry("link", parent) if parent is not None else None

    def _start_model(self, data: Any, parent: Optional[_Entry]) -> _Entry:
        return _Entry("model", parent)

    def _start_handoff(self, data: Any, parent: Optional[_Entry]) -> _Entry:
        return _Entry("handoff", parent)

    def _start_guardrail(self, data: Any, parent: Optional[_Entry]) -> _Entry:
        return _Entry("guardrail", parent)

    # --- ends --------------------------------------------------------------------------------------------------

    def _end_agent(self, entry: _Entry, sdk_span: Any) -> None:
        self._record_duration(sc.OP_INVOKE_AGENT, entry, self._finish(entry, sdk_span.error))

    def _end_tool(self, entry: _Entry, sdk_span: Any) -> None:
        span, data, t = entry.span, sdk_span.span_data, self.telemetry
        if span is not None and span.is_recording():
            end_attrs = mapping.tool_end_attributes(data)
            if end_attrs:
                span.set_attributes(end_attrs)
            settings = t.settings if t is not None else None
            # The SDK fills input/output only when the run allows sensitive data; we add our own gate.
            if settings is not None and settings.content_on_span:
                for key, value in ((sc.TOOL_CALL_ARGUMENTS, data.input), (sc.TOOL_CALL_RESULT, data.output)):
                    if value is not None:
                        span.set_attribute(key, mapping.tool_content(value, settings.max_content_length))
        self._record_duration(sc.OP_EXECUTE_TOOL, entry, self._finish(entry, sdk_span.error))

    def _end_model(self, entry: _Entry, sdk_span: Any) -> None:
        agent = entry.agent
        # No agent around it: we cannot tell whether one of our spans covered it, so we add none.
        if agent is None or agent.model_calls > entry.model_calls or self.telemetry is None:
            return
        self._model_span(self.telemetry, entry, sdk_span)

    def _end_handoff(self, entry: _Entry, sdk_span: Any) -> None:
        if entry.agent_span is not None:
            source = entry.agent.name if entry.agent is not None else None
            entry.agent_span.add_event(sc.EVENT_HANDOFF, mapping.handoff_attributes(sdk_span.span_data, source))

    def _end_guardrail(self, entry: _Entry, sdk_span: Any) -> None:
        """The conventions' ``gen_ai.guardrail.result`` event, as a log record in the agent span's context,
        and on the agent span itself for backends that show span events but take no logs."""
        attrs = mapping.guardrail_attributes(sdk_span.span_data)
        if entry.agent_span is not None:
            entry.agent_span.add_event(sc.EVENT_GUARDRAIL_RESULT, attrs)
        if self.telemetry is not None:
            self.telemetry.events.emit(LogRecord(
                event_name=sc.EVENT_GUARDRAIL_RESULT,
                context=trace.set_span_in_context(entry.agent_span) if entry.agent_span is not None else None,
                severity_number=SeverityNumber.INFO,
                attributes=attrs,
            ))

    # --- shared steps ------------------------------------------------------------------------------------------

    def _finish(self, entry: _Entry, error: Any) -> Optional[str]:
        """Status from the SDK's ``SpanError``, then detach (where allowed) and end, exactly once; returns the
        ``error.type`` of a failure."""
        span = entry.span
        entry.detach()
        if span is None:
            return None
        kind = None
        if error is not None:
            # The SDK reports an error's message, not its exception; the one propagating names the type.
            exc = sys.exc_info()[1]
            kind = error_type(exc) if exc is not None else sc.ERROR_TYPE_OTHER
            if span.is_recording():
                span.set_attribute(sc.ERROR_TYPE, kind)
                span.set_status(Status(StatusCode.ERROR, mapping.error_description(error)))
        span.end()
        return kind

    def _model_span(self, t: Telemetry, entry: _Entry, sdk_span: Any) -> None:
        """A ``chat`` span from the SDK's own record of a model call no span of ours covered."""
        data, settings = sdk_span.span_data, t.settings
        attrs = mapping.model_request_attributes(data, settings.provider_name)
        if entry.agent is not None:
            attrs[sc.AGENT_NAME] = entry.agent.name
        parent = trace.set_span_in_context(entry.agent_span) if entry.agent_span is not None else None
        span = t.tracer.start_span(mapping.span_name(sc.OP_CHAT, attrs.get(sc.REQUEST_MODEL)),  # type: ignore[arg-type]
                                   context=parent, kind=SpanKind.CLIENT, attributes=attrs,
                                   start_time=entry.started_ns)
        end_attrs = mapping.model_response_attributes(data)
        if sdk_span.error is not None:
            end_attrs[sc.ERROR_TYPE] = sc.ERROR_TYPE_OTHER
        if span.is_recording():
            span.set_attributes(end_attrs)
            if settings.content_on_span:
                self._model_content(span, data)
            if sdk_span.error is not None:
                span.set_status(Status(StatusCode.ERROR, mapping.error_description(sdk_span.error)))
        span.end()
        t.metrics.profile(sc.OP_CHAT).record_end(metric_attributes(attrs, end_attrs),
                                                 time.perf_counter() - entry.started, end_attrs,
                                                 sdk_span.error is not None)

    def _model_content(self, span: Span, data: Any) -> None:
        settings = self.telemetry.settings  # type: ignore[union-attr]
        media, limit = settings.capture_media, settings.max_content_length
        for key, messages in ((sc.INPUT_MESSAGES, mapping.model_input_messages(data, media)),
                              (sc.OUTPUT_MESSAGES, mapping.model_output_messages(data, media))):
            if messages:
                span.set_attribute(key, _content.to_json(_content.bounded(messages, limit)))

    def _record_duration(self, operation: str, entry: _Entry, error: Optional[str]) -> None:
        """``gen_ai.invoke_agent.duration`` / ``gen_ai.execute_tool.duration``: the span's duration, with the
        start attributes and the failure's ``error.type`` (the metric methods keep only what they allow)."""
        t = self.telemetry
        if t is None:
            return
        attrs = {**entry.attrs, sc.ERROR_TYPE: error} if error is not None else entry.attrs
        record = t.metrics.record_agent if operation == sc.OP_INVOKE_AGENT else t.metrics.record_tool
        record(time.perf_counter() - entry.started, attrs)

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def _unregister_if_done(self) -> None:
        if self.telemetry is None and not self._entries:
            _unregister(self)


_STARTS: dict[str, Callable[[AgentsProcessor, Any, Optional[_Entry]], Optional[_Entry]]] = {
    "agent": AgentsProcessor._start_agent,
    "function": AgentsProcessor._start_tool,
    "response": AgentsProcessor._start_model,
    "generation": AgentsProcessor._start_model,
    "handoff": AgentsProcessor._start_handoff,
    "guardrail": AgentsProcessor._start_guardrail,
}
_ENDS: dict[str, Callable[[AgentsProcessor, _Entry, Any], None]] = {
    "agent": AgentsProcessor._end_agent,
    "tool": AgentsProcessor._end_tool,
    "model": AgentsProcessor._end_model,
    "handoff": AgentsProcessor._end_handoff,
    "guardrail": AgentsProcessor._end_guardrail,
}


# --- install / uninstall ---------------------------------------------------------------------------------------

_processor: Optional[AgentsProcessor] = None
_registered = False  # our processor is in the SDK's list
_hooked = False  # the post-import hook is registered (once per process: wrapt cannot remove one)
_telemetry: Optional[Telemetry] = None


def install(telemetry: Telemetry) -> None:
    """Trace Agents SDK runs from now on: at once if ``agents`` is imported, else when it is."""
    global _hooked, _telemetry
    _telemetry = telemetry
    if not _hooked:
        _hooked = True
        wrapt.register_post_import_hook(_on_import, "agents")  # runs now if already imported
    elif "agents" in sys.modules:
        _on_import(sys.modules["agents"])


def uninstall() -> None:
    """Stop: spans already open still end (and their contexts detach); then the processor leaves the SDK's
    list, and only ours does."""
    global _telemetry
    _telemetry = None
    if _processor is not None:
        _processor.telemetry = None
        _processor._unregister_if_done()


def _on_import(module: Any) -> None:
    global _processor, _registered
    try:
        add = getattr(module, "add_trace_processor", None)
        if _telemetry is None or not callable(add):  # another package named "agents"
            return
        if _processor is None:
            _processor = AgentsProcessor(_telemetry)
        _processor.telemetry = _telemetry
        if not _registered:
            add(_processor)
            _registered = True
    except Exception:
        _logger.debug("otel-openai: could not register with the Agents SDK", exc_info=True)


def _unregister(processor: AgentsProcessor) -> None:
    """Take exactly our processor out of the SDK's list (which has no public remove: ``set_trace_processors``
    would replace the user's too). Where the list is not where 0.3-0.24 keep it, the processor stays, inert."""
    global _registered
    if not _registered:
        return
    try:
        provider = sys.modules["agents.tracing"].get_trace_provider()
        multi = provider._multi_processor
        with multi._lock:
            if isinstance(multi._processors, tuple):
                multi._processors = tuple(p for p in multi._processors if p is not processor)
                _registered = False
    except Exception:
        _logger.debug("otel-openai: could not unregister from the Agents SDK", exc_info=True)
