"""A tool's parameters: which hold what the model sent, which a framework injects, and where the call id is."""

from __future__ import annotations

import inspect
import logging
import sys
import types
import typing
from collections.abc import Iterable
from typing import Any, Callable, NamedTuple, Optional, Union

__all__ = ["Parameters", "exclusions"]

_logger = logging.getLogger(__name__)

Place = tuple[str, str]

# Where frameworks define the objects they pass to tools themselves, never the model: (module, class).
# Looked up only in modules already imported (we never import a framework). A parameter annotated with one,
# or a value that is one, is not a tool argument; those that know the tool call hold its id in tool_call_id.
CONTEXT_TYPES: tuple[Place, ...] = (
    ("pydantic_ai._run_context", "RunContext"),  # pydantic-ai: @agent.tool's first parameter
    ("pydantic_ai.tools", "RunContext"),  # where older pydantic-ai releases define it
    ("agents.run_context", "RunContextWrapper"),  # openai-agents: function tools (ToolContext subclasses it)
    ("langchain_core.tools.base", "_DirectlyInjectedToolArg"),  # LangChain/LangGraph ToolRuntime
    ("langchain_core.callbacks.base", "BaseCallbackManager"),  # LangChain: a `callbacks` parameter
    ("langchain_core.callbacks.manager", "BaseRunManager"),  # LangChain: a `run_manager` parameter
    ("workflows.context.context", "Context"),  # LlamaIndex: FunctionTool's `ctx: Context`
    ("workflows.context", "Context"),  # where older llama-index-workflows releases define it
)
# Types only an annotation tells: LangChain's RunnableConfig is a TypedDict, a plain dict at run time.
ANNOTATION_TYPES: tuple[Place, ...] = (("langchain_core.runnables.config", "RunnableConfig"),)
# `Annotated[T, marker]` metadata meaning "injected": LangChain's InjectedToolArg, which InjectedToolCallId
# and LangGraph's InjectedState and InjectedStore subclass.
MARKERS: tuple[Place, ...] = (("langchain_core.tools.base", "InjectedToolArg"),)
# Markers whose parameter's value is the tool-call id itself.
CALL_ID_MARKERS: tuple[Place, ...] = (("langchain_core.tools.base", "InjectedToolCallId"),)


def _find(places: tuple[Place, ...]) -> tuple[Any, ...]:
    """The objects at ``places`` whose module is imported; a module's lazy ``__getattr__`` is never run."""
    found: list[Any] = []
    for module_name, name in places:
        value = vars(sys.modules[module_name]).get(name) if module_name in sys.modules else None
        if value is not None and value not in found:
            found.append(value)
    return tuple(found)


def _subclass(value: Any, classes: tuple[Any, ...]) -> bool:
    try:
        return isinstance(value, type) and issubclass(value, classes)
    except TypeError:  # TypedDicts and some generic aliases refuse class checks
        return False


def _marked(metadata: Iterable[Any], markers: tuple[Any, ...]) -> bool:
    return any(isinstance(m, markers) or _subclass(m, markers) for m in metadata) if markers else False


def exclusions(exclude: Any) -> tuple[frozenset[str], tuple[type, ...]]:
    """``trace_tool(exclude=...)``: parameter names and types, one or an iterable of them."""
    items = (exclude,) if isinstance(exclude, (str, type)) else tuple(exclude or ())
    for item in items:
        if not isinstance(item, (str, type)):
            raise TypeError(f"trace_tool(exclude=...) takes parameter names and types, not {item!r}")
    return (frozenset(i for i in items if isinstance(i, str)), tuple(i for i in items if isinstance(i, type)))


# --- reading annotations (once per function) -----------------------------------------------------------

_PLAIN, _UNKNOWN, _INJECTED, _CONTEXT, _CALL_ID = range(5)
_UNIONS: tuple[Any, ...] = (Union, getattr(types, "UnionType", Union))


class _Known(NamedTuple):
    """The framework types and markers imported at analysis time, plus the user's types."""

    contexts: tuple[Any, ...]
    annotations: tuple[Any, ...]
    markers: tuple[Any, ...]
    call_ids: tuple[Any, ...]


def _kind(annotation: Any, known: _Known) -> int:
    """What an annotation says about its parameter."""
    if annotation is inspect.Parameter.empty or isinstance(annotation, str):
        return _UNKNOWN  # no annotation, or one that did not resolve: the value tells, per call
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        metadata = annotation.__metadata__
        if _marked(metadata, known.call_ids):
            return _CALL_ID
        return _INJECTED if _marked(metadata, known.markers) else _kind(annotation.__origin__, known)
    if origin in _UNIONS:  # Optional[RunContext[...]] and friends: the strongest arm wins
        return max((_kind(arm, known) for arm in typing.get_args(annotation)), default=_PLAIN)
    target = origin or annotation
    if any(target is t for t in known.annotations):
        return _INJECTED
    return _CONTEXT if _subclass(target, known.contexts) else _PLAIN


def _hints(func: Callable[..., Any], signature: inspect.Signature) -> dict[str, Any]:
    """Resolved annotations; a string annotation that does not resolve stays a string."""
    try:
        return typing.get_type_hints(func, include_extras=True)
    except Exception:  # one unresolvable name spoils get_type_hints: resolve what we can, one by one
        namespace = getattr(inspect.unwrap(func), "__globals__", {})
        return {name: _resolve(p.annotation, namespace) for name, p in signature.parameters.items()}


def _resolve(annotation: Any, namespace: dict[str, Any]) -> Any:
    if not isinstance(annotation, str):
        return annotation
    try:
        return eval(annotation, namespace)  # what get_type_hints does, for one annotation
    except Exception:
        return annotation


# --- per call ---------------------------------------------------------------------------------------------

_SELF = ("self", "cls")


class Parameters:
    """The arguments a tool was called with, less what a framework injected (recognised by type and by the
    frameworks' markers) and what the user excluded, plus the tool-call id a framework handed in. The
    signature and annotations are read once, on the first call, when the framework's modules are imported.
    """

    def __init__(self, func: Callable[..., Any], exclude: Any = ()) -> None:
        self.func = func
        self.names, self.types = exclusions(exclude)
        self._ready = False
        self.signature: Optional[inspect.Signature] = None
        self.dropped: frozenset[str] = frozenset()
        self.spread: Optional[str] = None  # **kwargs, recorded spread out
        # Where a call id may be: (position or -1, name, kind), for parameters of kind _CONTEXT/_CALL_ID/_UNKNOWN.
        self.id_sources: tuple[tuple[int, str, int], ...] = ()

    def _analyse(self) -> None:
        """Read the signature and annotations. Everything is assigned before ``_ready``: a thread racing
        through the first call reads them too rather than see half of them."""
        try:
            signature = inspect.signature(self.func)
            hints = _hints(self.func, signature)
            known = _Known(_find(CONTEXT_TYPES) + self.types, _find(ANNOTATION_TYPES), _find(MARKERS),
                           _find(CALL_ID_MARKERS))
            kinds = [_kind(hints.get(name, p.annotation), known) for name, p in signature.parameters.items()]
        except Exception:
            _logger.debug("otel-openai: could not read the parameters of %r", self.func, exc_info=True)
            self._ready = True
            return
        dropped, sources = set(self.names), []
        for index, ((name, param), kind) in enumerate(zip(signature.parameters.items(), kinds)):
            if kind in (_INJECTED, _CONTEXT, _CALL_ID) or (index == 0 and name in _SELF):
                dropped.add(name)
            if kind in (_CONTEXT, _CALL_ID, _UNKNOWN):
                positional = param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD)
                sources.append((index if positional else -1, name, kind))
            if param.kind is param.VAR_KEYWORD:
                self.spread = name
        self.dropped, self.id_sources, self.signature = frozenset(dropped), tuple(sources), signature
        self._ready = True

    def call_id(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Optional[str]:
        """The tool-call id a framework passed in: a context's ``tool_call_id``, or an id parameter's value."""
        if not self._ready:
            self._analyse()
        if not self.id_sources:
            return None
        try:
            contexts = _find(CONTEXT_TYPES)
            for position, name, kind in self.id_sources:
                value = args[position] if 0 <= position < len(args) else kwargs.get(name)
                if kind == _CALL_ID:
                    found = value
                elif contexts and isinstance(value, contexts):
                    found = getattr(value, "tool_call_id", None)
                else:
                    continue
                if isinstance(found, str) and found:
                    return found
        except Exception:
            _logger.debug("otel-openai: could not read a tool-call id", exc_info=True)
        return None

    def arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        """The model's arguments by parameter name; ``**kwargs`` are spread out."""
        if not self._ready:
            self._analyse()
        if self.signature is None:
            arguments = dict(kwargs)
        else:
            arguments = dict(self.signature.bind_partial(*args, **kwargs).arguments)
            spread = arguments.pop(self.spread, None) if self.spread else None
            for name in self.dropped:
                arguments.pop(name, None)
            if spread:
                arguments.update(spread)
        injected = _find(CONTEXT_TYPES) + self.types
        return {k: v for k, v in arguments.items() if k not in self.names and not isinstance(v, injected)}
