"""``trace_tool`` and ``trace_agent``: decorators for every kind of function, and context managers."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Callable, Generic, Optional, TypeVar, Union, overload

from otel_openai._agents._parameters import Parameters, exclusions
from otel_openai._agents._scope import TRACED_TOOL, AgentScope, S, Scope, ToolScope
from otel_openai._agents._tool_calls import ToolCall
from otel_openai._agents._wrappers import wrap

__all__ = ["trace_agent", "trace_tool"]

F = TypeVar("F", bound=Callable[..., Any])
# trace_tool(exclude=...): parameter names and types that are not the model's arguments.
Exclude = Union[str, type, Iterable[Union[str, type]]]


def _decorate(func: Any, make_scope: Callable[[tuple[Any, ...], dict[str, Any]], Scope]) -> Any:
    """Wrap ``func`` by its kind; a staticmethod or classmethod is wrapped inside and stays one."""
    if isinstance(func, (staticmethod, classmethod)):
        return type(func)(wrap(func.__func__, make_scope))
    return wrap(func, make_scope)


class _Decorator(Generic[S]):
    """What ``trace_tool(...)`` / ``trace_agent(...)`` return: a decorator, or a context manager given a name."""

    def __init__(self, kind: type[S], name: Optional[str], **options: Any) -> None:
        self.kind: type[S] = kind
        self.name = name
        self.exclude = options.pop("exclude", ())
        exclusions(self.exclude)  # a wrong exclude= fails where it is written, not at the first call
        self.options = options
        self._scope: Optional[S] = None

    def __call__(self, func: F) -> F:
        target = func.__func__ if isinstance(func, (staticmethod, classmethod)) else func
        name = str(self.name or getattr(target, "__name__", self.kind.operation))
        options = {k: v for k, v in self.options.items() if k in ("description", "agent_id")}
        if self.kind is not ToolScope:
            return _decorate(func, lambda args, kwargs: AgentScope(name, **options))  # type: ignore[no-any-return]
        params = Parameters(target, self.exclude)

        def make_scope(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Scope:
            return ToolScope(name, call_id=params.call_id(args, kwargs), bind=lambda: params.arguments(args, kwargs),
                             **options)

        wrapper = _decorate(func, make_scope)
        setattr(getattr(wrapper, "__func__", wrapper), TRACED_TOOL, True)
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
               tool_call: Any = None, exclude: Exclude = ()) -> _Decorator[ToolScope]: ...


def trace_tool(target: Any = None, /, *, name: Optional[str] = None, description: Optional[str] = None,
               call_id: Optional[str] = None, arguments: Any = None, tool_call: Any = None,
               exclude: Exclude = ()) -> Any:
    """Trace a tool as an ``execute_tool {name}`` span.

    As a decorator: ``@trace_tool``, ``@trace_tool("name")`` or ``@trace_tool(name=..., description=...)``
    on functions, coroutine functions, generators, async generators and methods. As a context manager:
    ``with trace_tool("name", call_id=..., arguments=...) as tool: ...; tool.set_result(value)``, or
    ``with trace_tool(tool_call=tool_call) as tool`` to take the name, id and arguments from the model's
    tool call. Arguments and results are recorded only with content capture on.

    Recorded arguments are what the model sent: parameters a framework injects (pydantic-ai ``RunContext``,
    openai-agents ``RunContextWrapper``/``ToolContext``, LangChain ``RunnableConfig``, ``InjectedToolArg``
    and callbacks, LlamaIndex ``Context``) are left out, and ``exclude=`` names more: parameter names and
    types. A framework's tool-call id (``ToolContext.tool_call_id``, ``RunContext.tool_call_id``, LangChain's
    ``InjectedToolCallId``) becomes ``gen_ai.tool.call.id``.
    """
    if _is_function(target):
        return _Decorator(ToolScope, name, description=description, exclude=exclude)(target)
    if tool_call is not None:
        call = ToolCall.of(tool_call)
        target = target or name or call.name
        call_id = call_id if call_id is not None else call.id
        arguments = arguments if arguments is not None else call.arguments
    return _Decorator(ToolScope, target or name, description=description, call_id=call_id, arguments=arguments,
                      exclude=exclude)


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
