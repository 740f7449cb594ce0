"""Mechanics: the wrap table, install/uninstall, and the one traced-call body behind every OpenAI request.

Every HTTP API of openai 1.x-3.x goes through ``SyncAPIClient.request`` / ``AsyncAPIClient.request``
(retries happen inside, so it runs once per logical call), which makes it the one choke point we wrap.
The other rows follow the result out: raw responses the user parses later, and ``.stream()`` helpers
that close their HTTP response without closing the stream we handed them.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
import threading
import weakref
from collections.abc import Mapping
from typing import Any, Callable, Optional

import wrapt
from opentelemetry import context, trace
from opentelemetry.instrumentation.utils import is_instrumentation_enabled, unwrap
from opentelemetry.trace import NonRecordingSpan, SpanKind

from otel_openai import _active, _websocket
from otel_openai import _semconv as sc
from otel_openai._agents import async_runner_tool, sync_runner_tool
from otel_openai._invocation import Invocation, Telemetry
from otel_openai._mapping import Api, route
from otel_openai._streams import AsyncStreamProxy, SyncStreamProxy, end_helper_stream

_logger = logging.getLogger(__name__)

try:  # the keys is_instrumentation_enabled() reads, so one read of the context serves every check of a call
    from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY
    from opentelemetry.instrumentation.utils import _SUPPRESS_INSTRUMENTATION_KEY_PLAIN

    _SUPPRESS_KEYS: Optional[tuple[str, str]] = (_SUPPRESS_INSTRUMENTATION_KEY, _SUPPRESS_INSTRUMENTATION_KEY_PLAIN)
except ImportError:  # pragma: no cover - an OpenTelemetry that moved them: ask it instead
    _SUPPRESS_KEYS = None

try:  # the key trace.get_current_span() reads
    from opentelemetry.trace.propagation import _SPAN_KEY as _IMPORTED_SPAN_KEY

    _SPAN_KEY: Optional[str] = _IMPORTED_SPAN_KEY
except ImportError:  # pragma: no cover
    _SPAN_KEY = None

# The active telemetry; None when uninstrumented. Every wrapper checks it first, because the SDK caches
# bound methods (``with_raw_response``) that can outlive ``uninstrument()``.
_installed: list[tuple[Any, str]] = []
_types: dict[str, Any] = {}


@dataclasses.dataclass
class _Pending:
    """A raw response whose body the user has not parsed yet."""

    invocation: Invocation
    finalizer: Any
    proxy: Any = None


# Raw responses awaiting ``parse()``/``close()``, by ``id()``: nothing is written onto the SDK's objects, and
# the check every ``parse()`` makes (the SDK parses each response itself) is one plain dict lookup, where a
# WeakKeyDictionary builds a weak reference. An entry leaves when its response is parsed, closed, or
# collected (its finalizer runs before the id can be reused).
_pending: dict[int, _Pending] = {}


# --- the traced call --------------------------------------------------------------------------------


def _begin(client: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Optional[Invocation]:
    """Start a span if this request is one we trace; None means pass straight through. Runs on every call:
    the usual path calls no helper of ours but ``route`` (each Python call costs hundreds of instructions)."""
    t = _active.telemetry
    if t is None:
        return None
    try:
        ctx = context.get_current()  # read once: suppression, the current span, trace_agent's values
        if _SUPPRESS_KEYS is None:
            if not is_instrumentation_enabled():
                return None
        elif ctx.get(_SUPPRESS_KEYS[0]) or ctx.get(_SUPPRESS_KEYS[1]):  # is_instrumentation_enabled(), inlined
            return None
        options = args[1] if len(args) > 1 else kwargs["options"]
        try:  # FinalRequestOptions' fields in one read (each attribute read of a model goes through its hooks)
            values = options.__dict__
            method, url, extra = values["method"], values["url"], values.get("extra_json")
        except (AttributeError, KeyError):
            method, url, extra = options.method, options.url, getattr(options, "extra_json", None)
        api = route(method, url)
        if api is None:
            return None
        body = api.request_body(options)
        if extra:  # usually None
            body = _with_extra_body(body, extra)
        span = ctx.get(_SPAN_KEY) if _SPAN_KEY is not None else trace.get_current_span(ctx)
        # No span, or a remote parent (no failed attribute lookup, an exception, per call): not traced yet.
        if span is not None and span.__class__ is not NonRecordingSpan and _already_traced(api, body, span):
            return None
        return Invocation(t, api, client, body, ctx, current=ctx)
    except Exception:
        _logger.debug("otel-openai: could not start a span", exc_info=True)
        return None


def _with_extra_body(body: Mapping[str, Any], extra: Any) -> Mapping[str, Any]:
    """The body as sent: the SDK merges ``extra_body`` over ``json_data`` (where SDKs too old to know a
    parameter, such as ``max_completion_tokens`` on openai 1.40, make users put it)."""
    return {**body, **extra} if isinstance(extra, Mapping) else body


def _already_traced(api: Api, body: Mapping[str, Any], span: Any) -> bool:
    """True when ``span``, the current one, is another instrumentation's span for this same model call."""
    if getattr(span, "kind", None) is not SpanKind.CLIENT:
        return False
    attrs = getattr(span, "attributes", None) or {}
    return attrs.get(sc.OPERATION_NAME) == api.operation and attrs.get(sc.REQUEST_MODEL) == body.get("model")


def _on_result(invocation: Invocation, result: Any, stream: bool) -> Any:
    """Hand the result back unchanged in type; streams come back as proxies of the same class."""
    try:
        if isinstance(result, _types["Stream"]):
            return SyncStreamProxy(result, invocation)
        if isinstance(result, _types["AsyncStream"]):
            return AsyncStreamProxy(result, invocation)
        if isinstance(result, _types["raw"]):
            _on_raw_response(invocation, result, stream)
            return result
        invocation.end_response(result)
    except Exception:
        _logger.debug("otel-openai: could not record the response", exc_info=True)
        invocation.end_unread()
    return result


def _on_raw_response(invocation: Invocation, response: Any, stream: bool) -> None:
    """``with_raw_response``: a read body is parsed now (the SDK caches it, so the user gets the same
    object); anything else waits for the user's ``parse()`` or ``close()``, or ends when collected."""
    if not stream and isinstance(response, _types["LegacyAPIResponse"]):
        invocation.end_response(response.parse())
        return
    if not _raw_rows["installed"]:
        _install_raw_rows()
    key = id(response)
    _pending[key] = _Pending(invocation, weakref.finalize(response, _on_collected, key))


def _on_collected(key: int) -> None:
    """A raw response was garbage-collected: if its body was never parsed, its span ends unread."""
    pending = _pending.pop(key, None)
    if pending is not None and pending.proxy is None:
        pending.invocation.end_unread()


def _sync_request(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                  kwargs: dict[str, Any]) -> Any:
    invocation = _begin(instance, args, kwargs)
    if invocation is None:
        return wrapped(*args, **kwargs)
    token = context.attach(trace.set_span_in_context(invocation.span, invocation.parent))
    try:
        result = wrapped(*args, **kwargs)
    except BaseException as exc:
        invocation.end_error(exc)
        raise
    finally:
        context.detach(token)
    return _on_result(invocation, result, kwargs.get("stream", False))


async def _async_request(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                         kwargs: dict[str, Any]) -> Any:
    invocation = _begin(instance, args, kwargs)
    if invocation is None:
        return await wrapped(*args, **kwargs)
    token = context.attach(trace.set_span_in_context(invocation.span, invocation.parent))
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as exc:
        invocation.end_error(exc)
        raise
    finally:
        context.detach(token)
    return _on_result(invocation, result, kwargs.get("stream", False))


# --- raw responses parsed or closed later -----------------------------------------------------------


def _on_parsed(response: Any, result: Any) -> Any:
    pending = _pending.get(id(response))
    if pending is None:
        return result
    try:
        if pending.proxy is not None:
            # The SDK caches parse(); give back the same proxy for the same stream.
            return pending.proxy if pending.proxy.__wrapped__ is result else result
        if isinstance(result, _types["Stream"]):
            pending.proxy = SyncStreamProxy(result, pending.invocation)
            return pending.proxy
        if isinstance(result, _types["AsyncStream"]):
            pending.proxy = AsyncStreamProxy(result, pending.invocation)
            return pending.proxy
        del _pending[id(response)]
        pending.finalizer.detach()
        pending.invocation.end_response(result)
    except Exception:
        _logger.debug("otel-openai: could not record the parsed response", exc_info=True)
    return result


def _on_parse_error(response: Any, exc: BaseException) -> None:
    pending = _pending.pop(id(response), None)
    if pending is None:
        return
    pending.finalizer.detach()
    if pending.proxy is None:
        pending.invocation.end_error(exc)


def _on_closed(response: Any) -> None:
    pending = _pending.pop(id(response), None)
    if pending is None:
        return
    pending.finalizer.detach()
    if pending.proxy is not None:
        pending.proxy._self_end()
    else:
        pending.invocation.end_unread()


def _sync_parse(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Any:
    if id(instance) not in _pending:
        return wrapped(*args, **kwargs)
    try:
        result = wrapped(*args, **kwargs)
    except BaseException as exc:
        _on_parse_error(instance, exc)
        raise
    return _on_parsed(instance, result)


async def _async_parse(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                       kwargs: dict[str, Any]) -> Any:
    if id(instance) not in _pending:
        return await wrapped(*args, **kwargs)
    try:
        result = await wrapped(*args, **kwargs)
    except BaseException as exc:
        _on_parse_error(instance, exc)
        raise
    return _on_parsed(instance, result)


def _closing(hook: Callable[[Any], None]) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """Sync and async wrappers that run ``hook(instance)`` after the SDK's own close, whatever happens."""

    def sync_close(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                   kwargs: dict[str, Any]) -> Any:
        try:
            return wrapped(*args, **kwargs)
        finally:
            hook(instance)

    async def async_close(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                          kwargs: dict[str, Any]) -> Any:
        try:
            return await wrapped(*args, **kwargs)
        finally:
            hook(instance)

    return sync_close, async_close


_sync_close, _async_close = _closing(_on_closed)
_sync_helper_close, _async_helper_close = _closing(end_helper_stream)


# --- the wrap table ---------------------------------------------------------------------------------

# (module, "Class.method", wrapper, required). Required rows are the choke point: without them we do
# nothing. Optional rows exist only in some SDK versions.
WRAPS: tuple[tuple[str, str, Callable[..., Any], bool], ...] = (
    # openai >= 1.0: every HTTP call, sync and async.
    ("openai._base_client", "SyncAPIClient.request", _sync_request, True),
    ("openai._base_client", "AsyncAPIClient.request", _async_request, True),
    # chat.completions.stream() helpers close the HTTP response, not the stream (openai >= 1.40).
    ("openai.lib.streaming.chat._completions", "ChatCompletionStream.close", _sync_helper_close, False),
    ("openai.lib.streaming.chat._completions", "AsyncChatCompletionStream.close", _async_helper_close, False),
    # responses.stream() helpers close the HTTP response, not the stream (openai >= 1.66; absent in 1.40).
    ("openai.lib.streaming.responses._responses", "ResponseStream.close", _sync_helper_close, False),
    ("openai.lib.streaming.responses._responses", "AsyncResponseStream.close", _async_helper_close, False),
    # The SDK's own tool runner, which runs the user's registered functions for the Responses API (recent
    # openai 3.x, e.g. 3.57; absent from 1.x and 2.x, and no chat-completions runner exists in any):
    # one execute_tool span per call, with its call id.
    ("openai.lib.responses_tool_runner", "ResponsesToolRunner._execute_function", sync_runner_tool, False),
    ("openai.lib.responses_tool_runner", "AsyncResponsesToolRunner._execute_function", async_runner_tool, False),
    # The WebSocket APIs (realtime, Responses over WebSocket): their connection classes' read, send and close,
    # and their managers' enter; the rows, with the SDK versions each applies to, are in _websocket/_rows.py.
    *_websocket.WRAPS,
)


# Installed with the first raw response, not by instrument(): the SDK parses every response through
# ``APIResponse.parse`` itself, so wrapped from the start these rows would cost every call a wrapper dispatch
# for the few apps that use with_raw_response / with_streaming_response. uninstall() restores them too.
RAW_WRAPS: tuple[tuple[str, str, Callable[..., Any], bool], ...] = (
    # with_raw_response (LegacyAPIResponse, parse() is sync for both clients) and
    # with_streaming_response (APIResponse / AsyncAPIResponse), openai >= 1.0.
    ("openai._legacy_response", "LegacyAPIResponse.parse", _sync_parse, False),
    ("openai._response", "APIResponse.parse", _sync_parse, False),
    ("openai._response", "AsyncAPIResponse.parse", _async_parse, False),
    ("openai._response", "APIResponse.close", _sync_close, False),
    ("openai._response", "AsyncAPIResponse.close", _async_close, False),
)
_raw_rows = {"installed": False}
_raw_lock = threading.Lock()


def _install_raw_rows() -> None:
    """Wrap ``RAW_WRAPS`` once per ``instrument()``, before the first raw response is registered."""
    with _raw_lock:
        if _raw_rows["installed"] or _active.telemetry is None:
            return
        for module, name, wrapper, _required in RAW_WRAPS:
            _install_row(module, name, wrapper)
        _raw_rows["installed"] = True


def _load_types() -> None:
    from openai._legacy_response import LegacyAPIResponse
    from openai._response import BaseAPIResponse
    from openai._streaming import AsyncStream, Stream

    _types.update(Stream=Stream, AsyncStream=AsyncStream, LegacyAPIResponse=LegacyAPIResponse,
                  raw=(LegacyAPIResponse, BaseAPIResponse))


def install(telemetry: Telemetry) -> bool:
    """Wrap every row; returns False (and wraps nothing) when the SDK's choke point is missing."""
    try:
        _load_types()
        for module, name, _wrapper, required in WRAPS:
            if required:
                _resolve(module, name)
    except Exception:
        _logger.warning("otel-openai: this openai SDK has no request choke point we know; not instrumenting",
                        exc_info=_logger.isEnabledFor(logging.DEBUG))
        return False
    for module, name, wrapper, _required in WRAPS:
        _install_row(module, name, wrapper)
    _active.telemetry = telemetry
    return True


def _resolve(module: str, name: str) -> tuple[Any, str]:
    owner: Any = importlib.import_module(module)
    *path, attr = name.split(".")
    for part in path:
        owner = getattr(owner, part)
    getattr(owner, attr)
    return owner, attr


def _install_row(module: str, name: str, wrapper: Callable[..., Any]) -> None:
    try:
        owner, attr = _resolve(module, name)
    except (ImportError, AttributeError):
        _logger.debug("otel-openai: %s.%s not in this SDK version; skipped", module, name)
        return
    if isinstance(owner, type) and attr not in vars(owner):
        # Inherited: wrapping it here would shadow the base class's method (and outlive uninstrument()); the
        # row naming the defining class wraps it once.
        _logger.debug("otel-openai: %s.%s is inherited; skipped", module, name)
        return
    wrapt.wrap_function_wrapper(owner, attr, wrapper)
    _installed.append((owner, attr))


def uninstall() -> None:
    """Restore the SDK exactly as it was; wrappers still held by the SDK's caches now pass through."""
    with _raw_lock:
        _active.telemetry = None
        _raw_rows["installed"] = False
        while _installed:
            owner, attr = _installed.pop()
            unwrap(owner, attr)
