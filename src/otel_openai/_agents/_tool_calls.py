"""The model's tool calls: ``run_tool_call`` and the rows that trace the SDK's Responses tool runner."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from collections.abc import Mapping
from typing import Any, Callable, Optional, Union

from otel_openai import _active
from otel_openai._agents._scope import TRACED_TOOL, CallIdScope, Scope, ToolScope
from otel_openai._agents._wrappers import run_async, run_sync, wrap

__all__ = ["ToolCall", "async_runner_tool", "run_tool_call", "sync_runner_tool"]

_logger = logging.getLogger(__name__)


def _field(obj: Any, key: str) -> Any:
    return obj.get(key) if isinstance(obj, Mapping) else getattr(obj, key, None)


@dataclasses.dataclass(frozen=True)
class ToolCall:
    """The parts of a model's tool call we need, from chat completions or the Responses API."""

    id: Optional[str]
    name: str
    arguments: Any

    @classmethod
    def of(cls, tool_call: Any) -> ToolCall:
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


def _is_traced(func: Any) -> bool:
    return bool(getattr(func, TRACED_TOOL, False))


def run_tool_call(tool_call: Any, func: Callable[..., Any], /, **extra: Any) -> Any:
    """Call ``func(**arguments, **extra)`` for one of the model's tool calls, as an ``execute_tool`` span
    carrying the call's id (``gen_ai.tool.call.id``).

    ``tool_call`` is a chat-completions tool call (``message.tool_calls[i]``), a Responses API
    ``function_call`` item, or the same as a dict. A function decorated with ``trace_tool`` keeps its own
    span and gets the id; any other function gets a span named after the tool call. What ``func`` returns
    comes back in kind: for a coroutine function a coroutine (``await run_tool_call(tool_call, async_tool)``),
    for a generator function a generator whose span covers the iteration, and the same for async generators.
    """
    call = ToolCall.of(tool_call)

    def invoke() -> Any:
        return func(**call.kwargs(), **extra)

    def make_scope(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Scope:
        if _is_traced(func):
            return CallIdScope(call.id)
        return ToolScope(call.name, call_id=call.id, arguments=call.arguments)

    return wrap(invoke, make_scope, kind_of=func)()


# --- the SDK's own tool runner ------------------------------------------------------------------------


def _runner_scope(runner: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Union[ToolScope, CallIdScope, None]:
    """The span for ``ResponsesToolRunner._execute_function(run, item)``; None passes straight through."""
    if _active.telemetry is None:
        return None
    try:
        run = args[0] if args else kwargs["run"]
        item = args[1] if len(args) > 1 else kwargs["item"]
        function = runner._functions[item.name]
        if _is_traced(function.execute):  # its own span gets the call id; no second span
            return CallIdScope(item.call_id)
        arguments = run.arguments.get(item.call_id, item.arguments)
        return ToolScope(item.name, description=_field(function.tool, "description"), call_id=item.call_id,
                         arguments=arguments)
    except Exception:
        _logger.debug("otel-openai: could not trace a tool-runner call", exc_info=True)
        return None


def _output(output: Any) -> Any:
    return _field(output, "output")


def sync_runner_tool(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                     kwargs: dict[str, Any]) -> Any:
    """Wraps ``ResponsesToolRunner._execute_function``: one execute_tool span per registered function call."""
    scope = _runner_scope(instance, args, kwargs)
    invoke = functools.partial(wrapped, *args, **kwargs)
    return invoke() if scope is None else run_sync(scope, invoke, _output)


async def async_runner_tool(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                            kwargs: dict[str, Any]) -> Any:
    """The ``AsyncResponsesToolRunner`` twin of ``sync_runner_tool``."""
    scope = _runner_scope(instance, args, kwargs)
    invoke = functools.partial(wrapped, *args, **kwargs)
    return await (invoke() if scope is None else run_async(scope, invoke, _output))
