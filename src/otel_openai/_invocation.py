"""The span lifecycle of one traced OpenAI call: start, response or chunks, end exactly once."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Iterator, Mapping
from typing import Any, Callable, Optional

from opentelemetry import context, trace
from opentelemetry._logs import Logger, LogRecord, SeverityNumber
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from otel_openai import _content
from otel_openai import _semconv as sc
from otel_openai._agent_run import AgentRun
from otel_openai._config import Settings
from otel_openai._mapping import Accumulator, Api, Messages
from otel_openai._mapping._common import Attributes, as_str
from otel_openai._metrics import METRIC_ATTRIBUTES, Metrics, Profile, allowed, with_end
from otel_openai._providers import client_attributes, client_entry
from otel_openai._upload import upload_media

_logger = logging.getLogger(__name__)


class Telemetry:
    """What one ``instrument()`` call produced: tracer, metrics, event logger and settings."""

    __slots__ = ("events", "memo", "metrics", "settings", "tracer")

    def __init__(self, tracer: trace.Tracer, metrics: Metrics, events: Logger, settings: Settings) -> None:
        self.tracer = tracer
        self.metrics = metrics
        self.events = events
        self.settings = settings
        self.memo = _content.JsonMemo()  # the span JSON of input content that repeats between calls


def start_attributes(api: Api, client: Any, body: Mapping[str, Any], settings: Settings,
                     parent: Optional[context.Context] = None) -> Attributes:
    """The attributes a sampler sees: operation, provider, request model, server address and port."""
    attrs = dict(_start(api, client, body, settings)[0])
    # Left by trace_agent: one context lookup per call (in ``parent`` when the span has an explicit one).
    agent = context.get_value(sc.CONTEXT_AGENT_NAME, parent)
    if agent is not None:
        attrs[sc.AGENT_NAME] = agent  # type: ignore[assignment]
    return attrs


def input_json(api: Api, body: Mapping[str, Any], memo: _content.JsonMemo, media: bool, limit: int) -> Attributes:
    """The input content of ``api.content_fields`` as bounded JSON, as ``_content.bounded_json`` makes it of the
    Api's functions, through the memo: a list field's items one by one (the list's JSON is theirs joined, as
    ``bounded`` cuts each string alone), any other field whole. Empty content sets no attribute."""
    attrs: Attributes = {}
    for attribute, field in api.content_fields:
        value = body.get(field.name)
        if value is None:
            continue
        if field.element is not None and (value.__class__ is list or value.__class__ is tuple):
            if value:
                attrs[attribute] = memo.join(field.element, value, media, limit, field.keep)
        else:
            json_text = memo.text(field.whole, body, media, limit, value)
            if json_text != "[]":
                attrs[attribute] = json_text
    return attrs


# (start attributes, their allow-listed metric part, span name); shared between calls: never changed.
_Start = tuple[Attributes, Attributes, str]
_MAX_STARTS = 256  # distinct (operation, model) pairs kept per client before the cache starts over


def _start(api: Api, client: Any, body: Mapping[str, Any], settings: Settings) -> _Start:
    """Start attributes, metric attributes and span name of a call, computed once per client, base URL,
    operation and request model (they depend on nothing else) and kept with the client's entry."""
    derived = client_entry(client, settings.provider_name, api.azure_deployment_path).derived
    raw = body.get(api.model_key) if api.model_key else None
    # What the attributes depend on besides the client entry; not the Api itself (a frozen dataclass hashes
    # in Python). Anything but a str names no model (and may not hash).
    key = (api.operation, api.name_attribute, raw if raw.__class__ is str else None)
    start: Optional[_Start] = derived.get(key)
    if start is None:
        if len(derived) >= _MAX_STARTS:
            derived.clear()
        start = derived[key] = _build_start(api, client, key[2], settings)
    return start


def _build_start(api: Api, client: Any, model: Optional[str], settings: Settings,
                 extra: Optional[Attributes] = None) -> _Start:
    attrs: Attributes = {sc.OPERATION_NAME: api.operation}
    model = as_str(model)
    if model is not None:
        attrs[api.name_attribute] = model  # the request model, or retrieval's data source
    # Provider, server and Azure attributes (an Azure deployment in the base URL overrides the body's model,
    # so they come after it).
    attrs.update(client_attributes(client, settings.provider_name, api.azure_deployment_path))
    if extra:
        attrs.update(extra)
    name = attrs.get(api.name_attribute)
    return attrs, allowed(attrs), f"{api.operation} {name}" if name else api.operation


def _no_step(chunk: Any) -> None:
    """The per-chunk step of an invocation that is not (or no longer) streaming."""


def error_type(exc: BaseException) -> str:
    """``openai.RateLimitError`` for SDK errors, the qualified class name otherwise."""
    cls = type(exc)
    module = cls.__module__ or ""
    if module == "openai" or module.startswith("openai."):
        return "openai." + cls.__qualname__
    if module == "builtins":
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}" if module else sc.ERROR_TYPE_OTHER


class Invocation:
    """One call's span, metrics and events. Every public method is safe to call in any order;
    the span ends on the first ``end_*`` call and later calls do nothing."""

    __slots__ = ("_acc", "_agent_run", "_chunk_attrs", "_chunk_events", "_ended", "_inputs", "_last_chunk",
                 "_metric_attrs", "_metrics", "_ttfc", "api", "attrs", "body", "fold", "parent", "span", "start",
                 "step", "t")

    def __init__(self, t: Telemetry, api: Api, client: Any, body: Mapping[str, Any],
                 parent: Optional[context.Context] = None, extra: Optional[Attributes] = None,
                 current: Optional[context.Context] = None) -> None:
        """``parent`` replaces the current context as the span's parent, and ``extra`` adds start attributes
        (WebSocket generations: the context and session captured when the connection opened); ``current`` is
        the current context when the caller has already read it."""
        self.t = t
        self.api = api
        self.body = body
        self.parent = parent  # the context the span was started in (None: the current one)
        if extra:
            raw = body.get(api.model_key) if api.model_key else None
            attrs, self._metric_attrs, name = _build_start(api, client, raw, t.settings, extra)
        else:
            attrs, self._metric_attrs, name = _start(api, client, body, t.settings)
        if current is None:
            current = context.get_current()
        # Left by trace_agent (in ``parent`` when the span has an explicit one): the cached start attributes
        # are shared, so an agent's name goes onto a copy.
        agent = (parent if parent is not None else current).get(sc.CONTEXT_AGENT_NAME)
        if agent is not None:
            attrs = {**attrs, sc.AGENT_NAME: agent}  # type: ignore[dict-item]
        self.attrs = attrs  # shared between calls when cached: never changed
        self.span: Span = t.tracer.start_span(name, context=parent, kind=SpanKind.CLIENT, attributes=attrs)
        self.start = time.perf_counter()
        self._ended = False
        self._acc: Optional[Accumulator] = None
        self._last_chunk: Optional[float] = None
        self._ttfc: Optional[float] = None
        self._chunk_attrs: Optional[Attributes] = None
        self._chunk_events = t.settings.stream_chunk_events
        self._inputs: Optional[dict[str, Messages]] = None
        self._metrics: Profile = t.metrics.profile(api.operation)
        # A model call inside an Agents SDK agent span: counted there, and its tool calls reported at the end.
        self._agent_run: Optional[AgentRun] = (
            current.get(sc.CONTEXT_AGENT_RUN) if api.operation == sc.OP_CHAT else None  # type: ignore[assignment]
        )
        if self._agent_run is not None:
            self._agent_run.model_call_started()
        # What the stream proxy calls per chunk (see ``begin_stream``); it may raise: the proxy guards it.
        self.step: Callable[[Any], Any] = _no_step
        # Set once ``step`` has nothing left to do but the accumulator's ``add``, when the accumulator can fold
        # a whole chunk source itself: the sync proxy then hands it the rest of the stream (no call per chunk).
        self.fold: Optional[Callable[[Iterator[Any]], Iterator[Any]]] = None
        # The request's attributes (and input content) go onto the span with the response's, in one
        # ``set_attributes`` at the end (``_record_span``); a sampled-out span never maps its request.

    def _record_request(self) -> None:
        self.span.set_attributes(self._request_attributes())

    def _request_attributes(self) -> Attributes:
        """Request parameters and, with content on the span, the input content."""
        attrs = self.api.request_attributes(self.body)
        if self.t.settings.content_on_span:
            attrs.update(self._request_content())
        return attrs

    def _request_content(self) -> Attributes:
        """The input content as span attributes: messages as bounded JSON, other content (retrieval) plain."""
        settings = self.t.settings
        attrs: Attributes
        if self.api.content_fields and settings.upload_hook is None:
            attrs = input_json(self.api, self.body, self.t.memo, settings.map_media, settings.max_content_length)
        else:  # the upload hook must see each media item: built whole
            limit = settings.max_content_length
            attrs = {key: _content.bounded_json(value, limit) for key, value in self._input_content().items()}
        if self.api.request_content is not None:
            attrs.update(self._plain_content(self.api.request_content(self.body)))
        return attrs

    def _plain_content(self, content: dict[str, Any]) -> Attributes:
        """Opt-in content that is not messages (retrieval's query and documents): strings stay strings,
        anything else becomes compact JSON; bounded like messages."""
        if not content:
            return {}
        limit = self.t.settings.max_content_length
        return {key: value if isinstance(value, str) else _content.to_json(value)
                for key, value in _content.bounded(content, limit).items()}

    def _input_content(self) -> dict[str, Messages]:
        """Built once (the upload hook must see each media item once), kept for the details event if any."""
        if self._inputs is not None:
            return self._inputs
        settings = self.t.settings
        api, body, media = self.api, self.body, settings.map_media
        content = {
            sc.INPUT_MESSAGES: api.input_messages(body, media),
            sc.SYSTEM_INSTRUCTIONS: api.system_instructions(body, media),
            sc.TOOL_DEFINITIONS: api.tool_definitions(body),
        }
        hook = settings.upload_hook
        if hook is None:
            inputs = {k: v for k, v in content.items() if v}
        else:
            inputs = {k: upload_media(v, hook, settings.capture_media) for k, v in content.items() if v}
        if settings.content_on_event:
            self._inputs = inputs
        return inputs

    def _upload(self, content: Any) -> Any:
        """Media through the upload hook. Strings are bounded where content is exported (``bounded_json`` for
        the span, ``bounded`` for the event), so the span's JSON skips the copy when it is short."""
        settings = self.t.settings
        return upload_media(content, settings.upload_hook, settings.capture_media)  # type: ignore[arg-type]

    # --- outcomes ---------------------------------------------------------------------------------

    def end_response(self, response: Any) -> None:
        """A complete, non-streamed response."""
        try:
            attrs = self.api.response_attributes(response)
        except Exception:
            _logger.debug("otel-openai: response attributes not recorded", exc_info=True)
            attrs = {}
        output: Optional[Callable[..., Any]] = self.api.output_messages
        if self.t.settings.content_on_span and self.span.is_recording():
            if self.api.response_content is not None:
                attrs.update(self._guard(self._response_content, response) or {})
            if self._output_json(attrs, response):
                output = None
        if self._agent_run is not None:
            self._guard(self._report_tool_calls, self.api.tool_calls, response)
        self._end(attrs, None, output, response)

    def _output_json(self, attrs: Attributes, response: Any) -> bool:
        """The span's output messages written directly where only the span wants them and the Api can
        (``Api.output_json``); False where they must be built as messages."""
        settings = self.t.settings
        write = self.api.output_json
        if write is None or settings.content_on_event or settings.upload_hook is not None:
            return False
        text = self._guard(write, response, settings.max_content_length)
        if text is None:
            return False
        attrs[sc.OUTPUT_MESSAGES] = text
        return True

    def _response_content(self, response: Any) -> Attributes:
        content = self.api.response_content
        return {} if content is None else self._plain_content(content(response))

    def end_error(self, exc: BaseException) -> None:
        self._end({}, exc)

    def end_unread(self) -> None:
        """The body was never parsed by the user (``with_streaming_response`` closed unread)."""
        self._end({}, None)

    # --- streams ----------------------------------------------------------------------------------

    def begin_stream(self) -> Optional[Accumulator]:
        """Start folding chunks; returns the accumulator, which WebSocket sessions also tell about the
        session and about a generation cut short. From now on the stream proxy hands each chunk to ``step``."""
        settings = self.t.settings
        if self.api.accumulator is not None:
            self._acc = self.api.accumulator(settings.capture_content)
            if self._agent_run is not None and hasattr(self._acc, "track_tool_calls"):
                self._acc.track_tool_calls()
        per_chunk = self._acc is None or self._chunk_events or settings.time_per_chunk_metric
        self.step = self.on_chunk if per_chunk else self._until_first_output
        return self._acc

    def _until_first_output(self, chunk: Any) -> None:
        """``on_chunk`` when nothing is recorded per chunk (the default): a clock read until the first output
        chunk is timed; after it ``step`` is the accumulator's own ``add``, no clock and no extra call, and
        ``fold`` its ``fold`` if it has one."""
        now = time.perf_counter()
        acc: Accumulator = self._acc  # type: ignore[assignment]
        if acc.add(chunk):
            self._ttfc = now - self.start
            self._last_chunk = now
            self.step = acc.add
            self.fold = getattr(acc, "fold", None)

    def on_chunk(self, chunk: Any) -> None:
        """Per chunk: a clock read, the accumulator's field reads, and for output chunks at most one
        histogram point. Chunks without output (usage-only, lifecycle events) do not count for timing."""
        try:
            now = time.perf_counter()
            acc = self._acc
            output = acc.add(chunk) if acc is not None else True
            if self._chunk_events:
                self._chunk_event(chunk)
            if output:
                self._time_chunk(now)
        except Exception:
            _logger.debug("otel-openai: chunk not recorded", exc_info=True)

    def _time_chunk(self, now: float) -> None:
        if self._last_chunk is None:
            self._ttfc = now - self.start
        elif self.t.settings.time_per_chunk_metric and self._metrics.time_per_output_chunk is not None:
            if self._chunk_attrs is None:
                # Computed once, at the second output chunk, when the response model is known.
                self._chunk_attrs = self._stream_metric_attributes()
            self._metrics.time_per_output_chunk.record(now - self._last_chunk, self._chunk_attrs)
        self._last_chunk = now

    def _stream_metric_attributes(self) -> Attributes:
        response_attrs = self._acc.attributes() if self._acc is not None else None
        attrs = with_end(self._metric_attrs, response_attrs) if response_attrs else self._metric_attrs.copy()
        attrs.pop(sc.ERROR_TYPE, None)  # not a dimension of the per-chunk histogram
        return attrs

    def _chunk_event(self, chunk: Any) -> None:
        self._chunk_events -= 1
        attrs: Attributes = {"openai.chunk.index": self.t.settings.stream_chunk_events - self._chunk_events - 1}
        settings = self.t.settings
        if settings.capture_content:
            data = chunk.model_dump(exclude_unset=True, warnings=False)
            if not settings.capture_media:
                data = _content.without_media(data)
            attrs["openai.chunk.data"] = _content.to_json(_content.bounded(data, settings.max_content_length))
        self.span.add_event(sc.EVENT_STREAM_CHUNK, attrs)

    def refresh_request(self) -> None:
        """Record the request again while the span is open: a realtime generation's configuration and input
        are complete only once the server answers (and an input transcript can come later still)."""
        if not self._ended and self.span.is_recording():
            self._guard(self._record_request)

    def end_stream(self, exc: Optional[BaseException] = None) -> None:
        """The stream finished: exhausted, closed, abandoned, or failed with ``exc``."""
        if self._ended:
            return
        self.step = _no_step  # a bound method of this invocation: no cycle outlives the span
        self.fold = None
        acc = self._acc
        attrs = (self._guard(acc.attributes) or {}) if acc is not None else {}
        if self._agent_run is not None and hasattr(acc, "tool_calls"):
            self._guard(self._report_tool_calls, acc.tool_calls)  # type: ignore[union-attr]
        if self._ttfc is not None:
            # Its metric point is recorded at the end with the others, when the response model is known
            # even if the first chunk lacked it.
            attrs[sc.RESPONSE_TIME_TO_FIRST_CHUNK] = self._ttfc
        self._end(attrs, exc, acc.output_messages if acc is not None else None)

    def _report_tool_calls(self, tool_calls: Any, *args: Any) -> None:
        """Hand the agent span the (id, name) of the tool calls this response asked for."""
        self._agent_run.model_call_ended(tool_calls(*args))  # type: ignore[union-attr]

    # --- the one place a span ends ----------------------------------------------------------------

    def _end(self, attrs: Attributes, exc: Optional[BaseException], output: Optional[Callable[..., Any]] = None,
             *args: Any) -> None:
        """The one place a span ends; ``output(*args, map_media)`` builds the output messages, only if wanted.
        Each step is guarded on its own (inline ``try``s: no guard frame per step on every call)."""
        if self._ended:
            return
        self._ended = True
        duration = time.perf_counter() - self.start
        if exc is not None:
            attrs[sc.ERROR_TYPE] = error_type(exc)
        settings = self.t.settings
        messages = None
        # Output content is built only where it can go: a recording span or an event.
        if output is not None and (settings.content_on_event
                                   or (settings.content_on_span and self.span.is_recording())):
            messages = self._guard(output, *args, settings.map_media)
            if messages is not None and settings.upload_hook is not None:
                messages = self._guard(self._upload, messages)
        try:
            self._record_span(attrs, messages, exc)
        except Exception:
            _logger.debug("otel-openai: span attributes not recorded", exc_info=True)
        try:
            # One attribute dict per call, shared by every point that has the same dimensions.
            metric = self._metric_attrs.copy()  # with_end(), inlined: the allow-listed keys the response set
            for key in attrs.keys() & METRIC_ATTRIBUTES:
                value = attrs[key]
                if value is not None:
                    metric[key] = value
            self._metrics.record_end(metric, duration, attrs, exc is not None, self._ttfc)
        except Exception:
            _logger.debug("otel-openai: metrics not recorded", exc_info=True)
        if settings.content_on_event:
            self._guard(self._emit_details, attrs, messages)
        if exc is not None:
            self._guard(self._emit_exception, exc)
        try:
            self.span.end()
        except Exception:
            _logger.debug("otel-openai: span not ended", exc_info=True)

    def _record_span(self, attrs: Attributes, messages: Optional[Messages], exc: Optional[BaseException]) -> None:
        span = self.span
        if not span.is_recording():
            return
        # One set_attributes for the request's attributes and the response's (which win on a clash).
        try:
            request = self.api.request_attributes(self.body)
            if self.t.settings.content_on_span:
                request.update(self._request_content())
        except Exception:
            _logger.debug("otel-openai: request attributes not recorded", exc_info=True)
            request = {}
        request.update(attrs)
        settings = self.t.settings
        if messages and settings.content_on_span:
            # Its own guard: output content that cannot be encoded loses only this attribute.
            text = self._guard(_content.bounded_json, messages, settings.max_content_length)
            if text is not None:
                request[sc.OUTPUT_MESSAGES] = text
        span.set_attributes(request)
        if exc is not None:
            span.record_exception(exc)
            span.set_status(Status(StatusCode.ERROR, str(exc)))
        elif sc.ERROR_TYPE in attrs:
            # The call returned, but its body reports a failure (a failed Responses stream or response).
            span.set_status(Status(StatusCode.ERROR, str(attrs[sc.ERROR_TYPE])))

    def _emit_details(self, attrs: Attributes, messages: Optional[Messages]) -> None:
        """The details event: start, request and response attributes, and the content as structured
        attributes (the conventions' event shape; no body)."""
        content: dict[str, Any] = dict(self._input_content())
        self._inputs = None
        if messages:
            content[sc.OUTPUT_MESSAGES] = messages
        record_attrs: dict[str, Any] = {**self.attrs, **(self._guard(self.api.request_attributes, self.body) or {}),
                                        **attrs}
        limit = self.t.settings.max_content_length
        record_attrs.update({k: _content.structured(_content.bounded(v, limit)) for k, v in content.items()})
        self.t.events.emit(LogRecord(
            event_name=sc.EVENT_OPERATION_DETAILS,
            context=trace.set_span_in_context(self.span),
            severity_number=SeverityNumber.INFO,
            attributes=record_attrs,
        ))

    def _emit_exception(self, exc: BaseException) -> None:
        self.t.events.emit(LogRecord(
            event_name=sc.EVENT_OPERATION_EXCEPTION,
            context=trace.set_span_in_context(self.span),
            severity_number=SeverityNumber.WARN,
            attributes={
                **self.attrs,
                sc.EXCEPTION_TYPE: error_type(exc),
                sc.EXCEPTION_MESSAGE: str(exc),
                sc.EXCEPTION_STACKTRACE: "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
            },
        ))

    @staticmethod
    def _guard(fn: Any, *args: Any) -> Any:
        """Run one telemetry step; a failure is logged at debug level and never reaches the user."""
        try:
            return fn(*args)
        except Exception:
            _logger.debug("otel-openai: telemetry step %r failed", fn, exc_info=True)
            return None
