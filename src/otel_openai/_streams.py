"""Stream proxies: the user keeps an ``openai.Stream``/``AsyncStream``; the span ends exactly once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from types import TracebackType
from typing import Any, Optional

import wrapt

from otel_openai._invocation import Invocation

_logger = logging.getLogger(__name__)


# The SDK's ``Stream.__iter__``/``AsyncStream.__aiter__`` as written in openai 1.x-3.x, compiled here: a stream
# class whose method compiles to the same code only relays its ``_iterator``.
def _relay(self: Any) -> Iterator[Any]:
    for item in self._iterator:  # noqa: UP028 (the SDK's own code, which ``yield from`` would not match)
        yield item


async def _async_relay(self: Any) -> AsyncIterator[Any]:
    async for item in self._iterator:
        yield item


def _same_code(method: Any, reference: Any) -> bool:
    code, ref = getattr(method, "__code__", None), reference.__code__
    return (code is not None and code.co_code == ref.co_code and code.co_names == ref.co_names
            and code.co_argcount == ref.co_argcount)


_REFERENCE = {"__iter__": _relay, "__aiter__": _async_relay}
# (``__iter__``/``__aiter__``, the stream class's method) -> whether it only relays ``stream._iterator``.
_relays: dict[tuple[str, Any], bool] = {}


def _sdk_chunks(stream: Any, name: str) -> Any:
    """What our loop iterates: the SDK stream's own chunk iterator when the stream's ``__iter__`` (or
    ``__aiter__``) does nothing but relay it, as in every openai 1.x-3.x: our generator then takes the
    place of the SDK's relay instead of adding a layer per chunk. Anything else (a subclass that iterates
    differently, a patched ``__iter__``, another SDK's code): the stream itself. Checked once per method."""
    key = (name, getattr(type(stream), name, None))
    relays = _relays.get(key)
    if relays is None:
        relays = _relays[key] = _same_code(key[1], _REFERENCE[name])
    iterator = getattr(stream, "_iterator", None) if relays else None
    return stream if iterator is None else iterator


class _StreamProxyBase(wrapt.ObjectProxy):  # type: ignore[type-arg, misc, unused-ignore]
    """Shared state and ending. All proxy state lives in ``_self_*`` fields, so wrapt keeps it on the
    proxy and nothing is ever written onto the SDK's stream object."""

    def __init__(self, stream: Any, invocation: Invocation) -> None:
        super().__init__(stream)
        self._self_invocation: Optional[Invocation] = invocation
        invocation.begin_stream()

    def _self_end(self, exc: Optional[BaseException] = None) -> None:
        invocation, self._self_invocation = self._self_invocation, None
        if invocation is not None:
            invocation.end_stream(exc)

    def __del__(self) -> None:
        # Abandoned half-read: the span still ends, when the proxy is collected.
        if getattr(self, "_self_invocation", None) is not None:
            self._self_end()


class SyncStreamProxy(_StreamProxyBase):
    """Proxy for ``openai.Stream``: ``isinstance(proxy, openai.Stream)`` holds."""

    def __iter__(self) -> Iterator[Any]:
        # ``for``/``async for`` run a generator over the SDK's own iterator: per chunk one generator step and
        # the invocation's ``step``, the proxy's fields read once per loop (each read goes through wrapt's
        # attribute lookup) and no call of the SDK's ``__next__``. ``next()`` works too, chunk by chunk.
        return self._self_chunks()

    def _self_chunks(self) -> Iterator[Any]:
        invocation = self._self_invocation  # None once the span ended: then there is nothing to record
        source = _sdk_chunks(self.__wrapped__, "__iter__")
        try:
            if invocation is None:
                # Not ``yield from``: it would close the SDK's stream when the loop is left early.
                for chunk in source:
                    yield chunk
            else:
                for chunk in source:
                    try:
                        invocation.step(chunk)
                    except Exception:  # the accumulator's own add, which the invocation lets us call directly
                        _logger.debug("otel-openai: chunk not recorded", exc_info=True)
                    yield chunk
                    if invocation.fold is not None:
                        # From the first output chunk on, the accumulator folds the rest in its own loop: per
                        # chunk one generator step of its, instead of a call (its reads are guarded inside).
                        for chunk in invocation.fold(source):
                            yield chunk
                        break
        except GeneratorExit:  # the loop was left early: the stream stays open, and so does the span
            raise
        except BaseException as exc:
            self._self_end(exc)
            raise
        self._self_end()

    def __next__(self) -> Any:
        # Per chunk: two reads of the proxy's fields (each goes through wrapt's attribute lookup) and the
        # invocation's step; no other call of ours.
        invocation = self._self_invocation
        try:
            chunk = self.__wrapped__.__next__()
        except StopIteration:
            self._self_end()
            raise
        except BaseException as exc:
            self._self_end(exc)
            raise
        if invocation is not None:
            try:
                invocation.step(chunk)
            except Exception:  # the accumulator's own add, which the invocation lets us call directly
                _logger.debug("otel-openai: chunk not recorded", exc_info=True)
        return chunk

    def __enter__(self) -> SyncStreamProxy:
        self.__wrapped__.__enter__()
        return self

    def __exit__(self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException],
                 tb: Optional[TracebackType]) -> None:
        try:
            self.__wrapped__.__exit__(exc_type, exc, tb)
        finally:
            self._self_end()

    def close(self) -> None:
        try:
            self.__wrapped__.close()
        finally:
            self._self_end()


class AsyncStreamProxy(_StreamProxyBase):
    """Proxy for ``openai.AsyncStream``: ``isinstance(proxy, openai.AsyncStream)`` holds."""

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._self_chunks()  # see SyncStreamProxy.__iter__

    async def _self_chunks(self) -> AsyncIterator[Any]:
        invocation = self._self_invocation
        source = _sdk_chunks(self.__wrapped__, "__aiter__")
        try:
            if invocation is None:
                async for chunk in source:
                    yield chunk
            else:
                async for chunk in source:
                    try:
                        invocation.step(chunk)
                    except Exception:  # the accumulator's own add, which the invocation lets us call directly
                        _logger.debug("otel-openai: chunk not recorded", exc_info=True)
                    yield chunk
        except GeneratorExit:  # the loop was left early: the stream stays open, and so does the span
            raise
        except BaseException as exc:
            self._self_end(exc)
            raise
        self._self_end()

    async def __anext__(self) -> Any:
        # Per chunk: two reads of the proxy's fields (each goes through wrapt's attribute lookup) and the
        # invocation's step; no other call of ours.
        invocation = self._self_invocation
        try:
            chunk = await self.__wrapped__.__anext__()
        except StopAsyncIteration:
            self._self_end()
            raise
        except BaseException as exc:
            self._self_end(exc)
            raise
        if invocation is not None:
            try:
                invocation.step(chunk)
            except Exception:  # the accumulator's own add, which the invocation lets us call directly
                _logger.debug("otel-openai: chunk not recorded", exc_info=True)
        return chunk

    async def __aenter__(self) -> AsyncStreamProxy:
        await self.__wrapped__.__aenter__()
        return self

    async def __aexit__(self, exc_type: Optional[type[BaseException]], exc: Optional[BaseException],
                        tb: Optional[TracebackType]) -> None:
        try:
            await self.__wrapped__.__aexit__(exc_type, exc, tb)
        finally:
            self._self_end()

    async def close(self) -> None:
        try:
            await self.__wrapped__.close()
        finally:
            self._self_end()

    async def aclose(self) -> None:
        # Older SDKs have no aclose(); delegate to close() so the HTTP response is always released.
        target = getattr(self.__wrapped__, "aclose", None) or self.__wrapped__.close
        try:
            await target()
        finally:
            self._self_end()


def end_helper_stream(helper: Any) -> None:
    """End the span under an SDK ``.stream()`` helper that closed its HTTP response directly."""
    raw = getattr(helper, "_raw_stream", None)
    if isinstance(raw, _StreamProxyBase):
        raw._self_end()
