"""Tool and agent spans for user code: ``trace_tool``, ``trace_agent`` and ``run_tool_call``."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import logging
from collections.abc import AsyncGenerator, Generator, Mapping
from typing import Any, Callable, Generic, Optional, TypeVar, Union, overload

from opentelemetry import context, trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from otel_openai import _config, _content, _wrap
from otel_openai import _semconv as sc
from otel_openai._invocation import error_type
from otel_openai._mapping._common import Attributes
from otel_openai.version import __version__

_logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])

# run_tool_call leaves the model's tool-call id here for the traced tool it calls; the tool's own context
# clears it, so a tool called from inside that tool does not claim the same id.
_CALL_ID_KEY = "otel_openai.tool_call_id"
# Marks wrappers made by trace_tool, so run_tool_call does not open a second span around them.
_TRACED_TOOL = "__otel_openai_tool__"
# A generator tool's result is the list of what it yielded, up to this many items.
_MAX_YIELDED = 100

# Used when the instrumentor is not active: the global provider, resolved lazily by the API's proxy.
_global_tracer = trace.get_tracer(__name__, __version__, schema_url=sc.SCHEMA_URL)


def _tracer() -> trace.Tracer:
    """The instrumentor's tracer when instrumented (its provider), else the global one."""
    telemetry = _wrap._telemetry
    return telemetry.tracer if telemetry is not None else _global_tracer


# --- content made safe ------------------------------------------------------------------------------


def _plain(value: Any, depth: int = 0) -> Any:
    """JSON-ready data: pydantic models and dataclasses become dicts; anything odd becomes its ``str``."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if depth > 20:
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(v, depth + 1) for v in value]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return _plain(dump(mode="json"), depth + 1)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value), depth + 1)
    return str(value)


def _encode(value: Any, limit: int) -> str:
    """A string stays as it is (tool results and model arguments often are text or JSON already);
    anything else becomes compact JSON. Strings are bounded by ``limit``; this never raises."""
    try:
        if isinstance(value, str):
            return str(_content.bounded(value, limit))
        return _content.to_json(_content.bounded(_plain(value), limit))
    except Exception:
        _logger.debug("otel-openai: tool content not encodable", exc_info=True)
        return str(_content.bounded(repr(value), limit))


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

    def __enter__(self) -> Any:
        self._start()
        self._token = self._attach()
        return self

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        self._detach(self._token)
        self._end(exc)

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
            self.span = _tracer().start_span(name, kind=SpanKind.INTERNAL, attributes=self._attributes(settings))
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
        span = self.span
        try:
            # A generator closed early (GeneratorExit) was abandoned by its consumer, not failed.
            if exc is not None and not isinstance(exc, GeneratorExit) and span.is_recording():
                span.set_attribute(sc.ERROR_TYPE, error_type(exc))
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, str(exc)))
            span.end()
        except Exception:
            _logger.debug("otel-openai: could not end the %s span", self.operation, exc_info=True)

    def _set_content(self, key: str, value: Any) -> None:
        if self._content:
            self.span.set_attribute(key, _encode(value, self._limit))


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
        return attrs

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


class AgentScope(_Scope):
    """An ``invoke_agent`` span; model spans started inside it carry ``gen_ai.agent.name``."""

    operation = sc.OP_INVOKE_AGENT

    def __init__(self, name: str, *, description: Optional[str] = None, agent_id: Optional[str] = None) -> None:
        super().__init__(name)
        self.description = description
        self.agent_id = agent_id

    def _attributes(self, settings: _config.Settings) -> Attributes:
        attrs: Attributes = {
            sc.OPERATION_NAME: sc.OP_INVOKE_AGENT,
            sc.PROVIDER_NAME: settings.provider_name or sc.PROVIDER_OPENAI,
            sc.AGENT_NAME: self.name,
        }
        if self.agent_id:
            attrs[sc.AGENT_ID] = self.agent_id
        if self.description:
            attrs[sc.AGENT_DESCRIPTION] = self.description
        return attrs

    def _context(self, ctx: context.Context) -> context.Context:
        return context.set_value(sc.CONTEXT_AGENT_NAME, self.name, ctx)

    def set_result(self, result: Any) -> None:
        """Agents record no result attribute; kept so agent and tool scopes share one decorator body."""


Scope = Union[ToolScope, AgentScope]
S = TypeVar("S", ToolScope, AgentScope)
MakeScope = Callable[[tuple[Any, ...], dict[str, Any]], Scope]


# --- decorators ---------------------------------------------------------------------------------------


def _decorate(func: Any, make_scope: MakeScope) -> Any:
    """Wrap ``func`` by its kind, so ``inspect`` still sees a coroutine or generator function."""
    if isinstance(func, (staticmethod, classmethod)):
        return type(func)(_decorate(func.__func__, make_scope))
    if inspect.isasyncgenfunction(func):
        return _async_generator_wrapper(func, make_scope)
    if inspect.isgeneratorfunction(func):
        return _generator_wrapper(func, make_scope)
    if inspect.iscoroutinefunction(func):
        return _async_wrapper(func, make_scope)
    return _sync_wrapper(func, make_scope)


def _sync_wrapper(func: Callable[..., Any], make_scope: MakeScope) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with make_scope(args, kwargs) as scope:
            result = func(*args, **kwargs)
            scope.set_result(result)
        return result
    return wrapper


def _async_wrapper(func: Callable[..., Any], make_scope: MakeScope) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        with make_scope(args, kwargs) as scope:
            result = await func(*args, **kwargs)
            scope.set_result(result)
        return result
    return wrapper


def _generator_wrapper(func: Callable[..., Any], make_scope: MakeScope) -> Callable[..., Any]:
    """The span covers the iteration. It is current only while the generator runs, never in the consumer
    between items, and it ends once: on exhaustion, error, ``close()`` or garbage collection."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        scope = make_scope(args, kwargs)
        scope._start()
        yielded = _collector(scope)
        error: Optional[BaseException] = None
        try:
            token = scope._attach()
            try:
                gen = func(*args, **kwargs)
            finally:
                scope._detach(token)
            sent: Any = None
            thrown: Optional[BaseException] = None
            while True:
                token = scope._attach()
                try:
                    item = gen.send(sent) if thrown is None else gen.throw(thrown)
                except StopIteration as stop:
                    return stop.value
                finally:
                    thrown = None
                    scope._detach(token)
                _keep(yielded, item)
                try:
                    sent = yield item
                except GeneratorExit:
                    token = scope._attach()
                    try:
                        gen.close()
                    finally:
                        scope._detach(token)
                    raise
                except BaseException as exc:
                    thrown = exc
        except BaseException as exc:
            error = exc
            raise
        finally:
            _finish_generator(scope, yielded, error)
    return wrapper


def _async_generator_wrapper(func: Callable[..., Any], make_scope: MakeScope) -> Callable[..., Any]:
    """The async twin of ``_generator_wrapper``; ``aclose()`` and the event loop's finalizer end the span."""
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        scope = make_scope(args, kwargs)
        scope._start()
        yielded = _collector(scope)
        error: Optional[BaseException] = None
        try:
            token = scope._attach()
            try:
                agen = func(*args, **kwargs)
            finally:
                scope._detach(token)
            sent: Any = None
            thrown: Optional[BaseException] = None
            while True:
                token = scope._attach()
                try:
                    item = await (agen.asend(sent) if thrown is None else agen.athrow(thrown))
                except StopAsyncIteration:
                    return
                finally:
                    thrown = None
                    scope._detach(token)
                _keep(yielded, item)
                try:
                    sent = yield item
                except GeneratorExit:
                    token = scope._attach()
                    try:
                        await agen.aclose()
                    finally:
                        scope._detach(token)
                    raise
                except BaseException as exc:
                    thrown = exc
        except BaseException as exc:
            error = exc
            raise
        finally:
            _finish_generator(scope, yielded, error)
    return wrapper


def _collector(scope: Scope) -> Optional[list[Any]]:
    """A list for a tool's yielded items when they will be recorded; agents record no result."""
    return [] if scope._content and isinstance(scope, ToolScope) else None


def _keep(yielded: Optional[list[Any]], item: Any) -> None:
    if yielded is not None and len(yielded) <= _MAX_YIELDED:
        yielded.append(item if len(yielded) < _MAX_YIELDED else _content._TRUNCATED)


def _finish_generator(scope: Scope, yielded: Optional[list[Any]], error: Optional[BaseException]) -> None:
    if yielded is not None:
        scope.set_result(yielded)
    scope._end(error)


class _Binder:
    """The arguments a tool was called with, by parameter name; the signature is read on first use."""

    def __init__(self, func: Callable[..., Any]) -> None:
        self.func = func
        self.signature: Optional[inspect.Signature] = None

    def __call__(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if self.signature is None:
            self.signature = inspect.signature(self.func)
        params = self.signature.parameters
        arguments = dict(self.signature.bind_partial(*args, **kwargs).arguments)
        first = next(iter(params), None)
        if first in ("self", "cls"):
            arguments.pop(first, None)
        for name, param in params.items():
            if param.kind is inspect.Parameter.VAR_KEYWORD and name in arguments:
                arguments.update(arguments.pop(name))
        return arguments


class _Decorator(Generic[S]):
    """What ``trace_tool(...)`` / ``trace_agent(...)`` return: a decorator, or a context manager given a name."""

    def __init__(self, kind: type[S], name: Optional[str], **options: Any) -> None:
        self.kind: type[S] = kind
        self.name = name
        self.options = options
        self._scope: Optional[S] = None

    def __call__(self, func: F) -> F:
        target = func.__func__ if isinstance(func, (staticmethod, classmethod)) else func
        name = str(self.name or getattr(target, "__name__", self.kind.operation))
        options = {k: v for k, v in self.options.items() if k in ("description", "agent_id")}
        if self.kind is not ToolScope:
            return _decorate(func, lambda args, kwargs: AgentScope(name, **options))  # type: ignore[no-any-return]
        binder = _Binder(target)

        def make_scope(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Scope:
            return ToolScope(name, bind=lambda: binder(args, kwargs), **options)

        wrapper = _decorate(func, make_scope)
        setattr(getattr(wrapper, "__func__", wrapper), _TRACED_TOOL, True)
        return wrapper  # type: ignore[no-any-return]

    def __enter__(self) -> S:
        if not self.name:
            raise TypeError(f"{self.kind.operation}: a context manager needs a name (or, for tools, a tool_call)")
        self._scope = self.kind(self.name, **self.options)
        return self._scope.__enter__()  # type: ignore[no-any-return]

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        if self._scope is not None:
            self._scope.__exit__(exc_type, exc, tb)


def _is_function(target: Any) -> bool:
    # staticmethod and classmethod objects are not callable before Python 3.10.
    return callable(target) or isinstance(target, (staticmethod, classmethod))


@overload
def trace_tool(target: F, /) -> F: ...


@overload
def trace_tool(target: Optional[str] = None, /, *, name: Optional[str] = None,
               description: Optional[str] = None, call_id: Optional[str] = None, arguments: Any = None,
               tool_call: Any = None) -> _Decorator[ToolScope]: ...


def trace_tool(target: Any = None, /, *, name: Optional[str] = None, description: Optional[str] = None,
               call_id: Optional[str] = None, arguments: Any = None, tool_call: Any = None) -> Any:
    """Trace a tool as an ``execute_tool {name}`` span.

    As a decorator: ``@trace_tool``, ``@trace_tool("name")`` or ``@trace_tool(name=..., description=...)``
    on functions, coroutine functions, generators, async generators and methods. As a context manager:
    ``with trace_tool("name", call_id=..., arguments=...) as tool: ...; tool.set_result(value)``, or
    ``with trace_tool(tool_call=tool_call) as tool`` to take the name, id and arguments from the model's
    tool call. Arguments and results are recorded only with content capture on.
    """
    if _is_function(target):
        return _Decorator(ToolScope, name, description=description)(target)
    if tool_call is not None:
        call = _ToolCall.of(tool_call)
        target = target or name or call.name
        call_id = call_id if call_id is not None else call.id
        arguments = arguments if arguments is not None else call.arguments
    return _Decorator(ToolScope, target or name, description=description, call_id=call_id, arguments=arguments)


@overload
def trace_agent(target: F, /) -> F: ...


@overload
def trace_agent(target: Optional[str] = None, /, *, name: Optional[str] = None,
                description: Optional[str] = None, agent_id: Optional[str] = None) -> _Decorator[AgentScope]: ...


def trace_agent(target: Any = None, /, *, name: Optional[str] = None, description: Optional[str] = None,
                agent_id: Optional[str] = None) -> Any:
    """Trace an agent run as an ``invoke_agent {name}`` span; OpenAI calls inside it become its children
    and carry ``gen_ai.agent.name``. Decorator forms as ``trace_tool``; as a context manager,
    ``with trace_agent("name") as agent: ...``.
    """
    decorator = _Decorator(AgentScope, target if isinstance(target, str) else name, description=description,
                           agent_id=agent_id)
    return decorator(target) if _is_function(target) else decorator


# --- running the model's tool calls -------------------------------------------------------------------


def _field(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


@dataclasses.dataclass(frozen=True)
class _ToolCall:
    """The parts of a model's tool call we need, from chat completions or the Responses API."""

    id: Optional[str]
    name: str
    arguments: Any

    @classmethod
    def of(cls, tool_call: Any) -> _ToolCall:
        function = _field(tool_call, "function")
        if function is not None:  # chat completions: {"id", "function": {"name", "arguments"}}
            return cls(_field(tool_call, "id"), _field(function, "name") or "", _field(function, "arguments"))
        # Responses API function_call item: {"call_id", "name", "arguments"}
        call_id = _field(tool_call, "call_id") or _field(tool_call, "id")
        return cls(call_id, _field(tool_call, "name") or "", _field(tool_call, "arguments"))

    def kwargs(self) -> dict[str, Any]:
        raw = self.arguments
        value = json.loads(raw) if isinstance(raw, (str, bytes)) and raw.strip() else (raw or {})
        if not isinstance(value, Mapping):
            raise ValueError(f"the arguments of tool call {self.id!r} are not a JSON object: {raw!r}")
        return dict(value)


def run_tool_call(tool_call: Any, func: Callable[..., Any], /, **extra: Any) -> Any:
    """Call ``func(**arguments, **extra)`` for one of the model's tool calls, as an ``execute_tool`` span
    carrying the call's id (``gen_ai.tool.call.id``).

    ``tool_call`` is a chat-completions tool call (``message.tool_calls[i]``), a Responses API
    ``function_call`` item, or the same as a dict. A function decorated with ``trace_tool`` keeps its own
    span and gets the id; any other function gets a span named after the tool call. For a coroutine
    function this returns a coroutine: ``await run_tool_call(tool_call, async_tool)``.
    """
    call = _ToolCall.of(tool_call)
    if inspect.iscoroutinefunction(func):
        return _run_tool_call_async(call, func, extra)
    if getattr(func, _TRACED_TOOL, False):
        token = context.attach(context.set_value(_CALL_ID_KEY, call.id))
        try:
            return func(**call.kwargs(), **extra)
        finally:
            context.detach(token)
    with ToolScope(call.name, call_id=call.id, arguments=call.arguments) as scope:
        result = func(**call.kwargs(), **extra)
        scope.set_result(result)
    return result


async def _run_tool_call_async(call: _ToolCall, func: Callable[..., Any], extra: dict[str, Any]) -> Any:
    if getattr(func, _TRACED_TOOL, False):
        token = context.attach(context.set_value(_CALL_ID_KEY, call.id))
        try:
            return await func(**call.kwargs(), **extra)
        finally:
            context.detach(token)
    with ToolScope(call.name, call_id=call.id, arguments=call.arguments) as scope:
        result = await func(**call.kwargs(), **extra)
        scope.set_result(result)
    return result


# --- the SDK's own tool runner ------------------------------------------------------------------------


class _CallIdOnly:
    """For a runner function that is itself a trace_tool: its span gets the call id; no second span."""

    def __init__(self, call_id: Optional[str]) -> None:
        self._ctx = context.set_value(_CALL_ID_KEY, call_id)
        self._token: Optional[object] = None

    def __enter__(self) -> _CallIdOnly:
        self._token = context.attach(self._ctx)
        return self

    def __exit__(self, *exc: Any) -> None:
        context.detach(self._token)  # type: ignore[arg-type]

    def set_result(self, result: Any) -> None:
        """The traced function records its own result."""


def _runner_scope(runner: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Union[ToolScope, _CallIdOnly, None]:
    """The span for ``ResponsesToolRunner._execute_function(run, item)``; None passes straight through."""
    if _wrap._telemetry is None:
        return None
    try:
        run = args[0] if args else kwargs["run"]
        item = args[1] if len(args) > 1 else kwargs["item"]
        function = runner._functions[item.name]
        if getattr(function.execute, _TRACED_TOOL, False):
            return _CallIdOnly(item.call_id)
        arguments = run.arguments.get(item.call_id, item.arguments)
        return ToolScope(item.name, description=_field(function.tool, "description"), call_id=item.call_id,
                         arguments=arguments)
    except Exception:
        _logger.debug("otel-openai: could not trace a tool-runner call", exc_info=True)
        return None


def sync_runner_tool(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> Any:
    """Wraps ``ResponsesToolRunner._execute_function``: one execute_tool span per registered function call."""
    scope = _runner_scope(instance, args, kwargs)
    if scope is None:
        return wrapped(*args, **kwargs)
    with scope:
        output = wrapped(*args, **kwargs)
        scope.set_result(_field(output, "output"))
    return output


async def async_runner_tool(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                            kwargs: dict[str, Any]) -> Any:
    """The ``AsyncResponsesToolRunner`` twin of ``sync_runner_tool``."""
    scope = _runner_scope(instance, args, kwargs)
    if scope is None:
        return await wrapped(*args, **kwargs)
    with scope:
        output = await wrapped(*args, **kwargs)
        scope.set_result(_field(output, "output"))
    return output
