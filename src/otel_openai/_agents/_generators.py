"""Generator and async generator tools and agents: one stepping body, the span current only inside a step."""

from __future__ import annotations

import functools
from collections.abc import AsyncGenerator, Generator
from typing import Any, Callable, Optional

from otel_openai import _content
from otel_openai._agents._scope import MakeScope, Scope

__all__ = ["Steps", "async_generator_wrapper", "generator_wrapper"]

# A generator tool's result is the list of what it yielded, up to this many items.
_MAX_YIELDED = 100


def _exception(typ: Any, val: Any) -> BaseException:
    """The exception ``throw(typ[, val[, tb]])`` means, as one instance (the three-argument form is deprecated)."""
    if isinstance(typ, BaseException):
        return typ
    return val if isinstance(val, BaseException) else typ() if val is None else typ(val)


class Steps(Generator[Any, Any, Any]):
    """Drives the wrapped (async) generator one step at a time: the scope is current only during a step,
    yielded items are kept for the result, and the span ends once, on exhaustion, error or close.

    ``with self`` is one step. The sync methods serve ``yield from``; the ``a*`` twins differ by ``await``.
    """

    def __init__(self, scope: Scope, invoke: Callable[[], Any]) -> None:
        self._scope = scope
        self._token: Optional[object] = None
        scope._start()
        self._items: Optional[list[Any]] = [] if scope.records_result else None
        with self:
            self._gen = invoke()

    def __enter__(self) -> None:
        self._token = self._scope._attach()

    def __exit__(self, exc_type: Any, exc: Optional[BaseException], tb: Any) -> None:
        self._scope._detach(self._token)
        if exc_type is not None:
            self._finish(None if issubclass(exc_type, (StopIteration, StopAsyncIteration)) else exc)

    def _keep(self, item: Any) -> Any:
        items = self._items
        if items is not None and len(items) <= _MAX_YIELDED:
            items.append(item if len(items) < _MAX_YIELDED else _content._TRUNCATED)
        return item

    def _finish(self, exc: Optional[BaseException]) -> None:
        if self._items is not None:
            self._scope.set_result(self._items)
        self._scope._end(exc)

    def send(self, value: Any) -> Any:
        with self:
            return self._keep(self._gen.send(value))

    def throw(self, typ: Any, val: Any = None, tb: Any = None, /) -> Any:
        with self:
            return self._keep(self._gen.throw(_exception(typ, val)))

    def close(self) -> None:
        with self:
            self._gen.close()
        self._finish(None)

    async def asend(self, value: Any) -> Any:
        with self:
            return self._keep(await self._gen.asend(value))

    async def athrow(self, exc: BaseException) -> Any:
        with self:
            return self._keep(await self._gen.athrow(exc))

    async def aclose(self) -> None:
        with self:
            await self._gen.aclose()
        self._finish(None)


def generator_wrapper(func: Callable[..., Any], make_scope: MakeScope) -> Callable[..., Any]:
    """The span covers the iteration. It is current only while the generator runs, never in the consumer
    between items, and it ends once: on exhaustion, error, ``close()`` or garbage collection."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        # yield from passes send(), throw() and close() on to Steps, and returns the generator's value.
        return (yield from Steps(make_scope(args, kwargs), functools.partial(func, *args, **kwargs)))
    return wrapper


def async_generator_wrapper(func: Callable[..., Any], make_scope: MakeScope) -> Callable[..., Any]:
    """The async twin of ``generator_wrapper``: async generators have no ``yield from``, so this loop is it;
    ``aclose()`` and the event loop's finalizer end the span."""
    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        steps = Steps(make_scope(args, kwargs), functools.partial(func, *args, **kwargs))
        try:
            item = await steps.asend(None)
            while True:
                try:
                    sent = yield item
                except GeneratorExit:
                    await steps.aclose()
                    raise
                except BaseException as exc:
                    item = await steps.athrow(exc)
                else:
                    item = await steps.asend(sent)
        except StopAsyncIteration:
            return
    return wrapper
