"""One wrapper per kind of function (plain, coroutine, generator, async generator), each a scope per call."""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, Optional

from otel_openai._agents._generators import async_generator_wrapper, generator_wrapper
from otel_openai._agents._scope import MakeScope, Scope

__all__ = ["run_async", "run_sync", "wrap"]


def _same(value: Any) -> Any:
    return value


def run_sync(scope: Scope, invoke: Callable[[], Any], result: Callable[[Any], Any] = _same) -> Any:
    """``invoke()`` inside ``scope``, recording ``result(value)`` of what it returns."""
    with scope:
        value = invoke()
        scope.set_result(result(value))
    return value


async def run_async(scope: Scope, invoke: Callable[[], Any], result: Callable[[Any], Any] = _same) -> Any:
    """The awaiting twin of ``run_sync``."""
    with scope:
        value = await invoke()
        scope.set_result(result(value))
    return value


def _function_wrapper(func: Callable[..., Any], make_scope: MakeScope) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return run_sync(make_scope(args, kwargs), functools.partial(func, *args, **kwargs))
    return wrapper


def _coroutine_wrapper(func: Callable[..., Any], make_scope: MakeScope) -> Callable[..., Any]:
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        return await run_async(make_scope(args, kwargs), functools.partial(func, *args, **kwargs))
    return wrapper


def wrap(func: Callable[..., Any], make_scope: MakeScope, kind_of: Optional[Callable[..., Any]] = None) -> Any:
    """Wrap ``func`` by the kind of ``kind_of`` (default: ``func``), so ``inspect`` still sees a coroutine
    or generator function, and its generators get a span over their whole iteration."""
    kind = func if kind_of is None else kind_of
    if inspect.isasyncgenfunction(kind):
        return async_generator_wrapper(func, make_scope)
    if inspect.isgeneratorfunction(kind):
        return generator_wrapper(func, make_scope)
    if inspect.iscoroutinefunction(kind):
        return _coroutine_wrapper(func, make_scope)
    return _function_wrapper(func, make_scope)
