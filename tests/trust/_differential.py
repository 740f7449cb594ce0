"""Run one client scenario uninstrumented and instrumented, and record exactly what the user saw."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any, Callable, Optional

import pydantic
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from otel_openai import OpenAIInstrumentor
from tests._schemas import SpanCollector
from tests.conftest import http, make_client


@dataclasses.dataclass
class Wire:
    """What the mock server sends: status, content type, body pieces, and whether the connection then fails."""

    status: int
    content_type: str
    parts: list[bytes]
    fail_after: Optional[int] = None  # raise after this many parts
    failure: str = "read"  # "read" (http.ReadError) or "other" (RuntimeError)

    def _next_failure(self, sent: int) -> None:
        if self.fail_after is not None and sent >= self.fail_after:
            raise http.ReadError("peer closed mid-body") if self.failure == "read" else RuntimeError("boom")


class _Body(http.SyncByteStream, http.AsyncByteStream):  # type: ignore[misc]
    """A response body served piece by piece, sync or async, that may fail part-way."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire

    def __iter__(self) -> Iterator[bytes]:
        for sent, part in enumerate(self.wire.parts):
            self.wire._next_failure(sent)
            yield part
        self.wire._next_failure(len(self.wire.parts))

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for part in self.__iter__():
            yield part


def serve(wire: Wire) -> Callable[[Any], Any]:
    def handler(request: Any) -> Any:
        return http.Response(wire.status, headers={"content-type": wire.content_type}, stream=_Body(wire))
    return handler


_ADDRESS = re.compile(r"0x[0-9a-fA-F]+")


def plain(value: Any, depth: int = 0) -> Any:
    """A comparable snapshot of what the SDK returned (models as their raw fields, without serializing)."""
    if depth > 50:
        return "…"
    if isinstance(value, pydantic.BaseModel):
        extra = getattr(value, "__pydantic_extra__", None) or {}
        return {type(value).__name__: {k: plain(v, depth + 1) for k, v in {**vars(value), **extra}.items()}}
    if isinstance(value, dict):
        return {str(k): plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value if value == value else "nan"  # nan != nan would make equal runs differ
    return _ADDRESS.sub("0x", repr(value))


def raised(exc: BaseException) -> tuple[str, str]:
    return ("raised", f"{type(exc).__module__}.{type(exc).__qualname__}: {_ADDRESS.sub('0x', str(exc))}")


@dataclasses.dataclass
class Scenario:
    """One call: which API, streamed or not, and how the user consumes the result."""

    api: str  # "chat" | "completions" | "responses"
    stream: bool
    consume: str  # "all" | "take2_close" | "with" | "raw"
    is_async: bool

    def request(self, client: Any, raw: bool) -> Any:
        target = {"chat": client.chat.completions, "completions": client.completions,
                  "responses": getattr(client, "responses", None)}[self.api]
        create = target.with_raw_response.create if raw else target.create
        kwargs: dict[str, Any] = {"model": "gpt-4o-mini"}
        if self.api == "chat":
            kwargs["messages"] = [{"role": "user", "content": "hi"}]
        elif self.api == "completions":
            kwargs["prompt"] = "hi"
        else:
            kwargs["input"] = "hi"
        if self.stream:
            kwargs["stream"] = True
        return create(**kwargs)


async def _resolve(value: Any, is_async: bool) -> Any:
    return await value if is_async else value


async def _consume(scenario: Scenario, result: Any, seen: list[Any]) -> None:
    is_async = scenario.is_async
    if scenario.consume == "raw":
        seen.append(("headers", result.headers.get("content-type")))
        result = result.parse()  # LegacyAPIResponse.parse() is sync for both clients
    if not scenario.stream:
        seen.append(plain(result))
        return
    if scenario.consume == "with":
        if is_async:
            async with result as stream:
                seen.extend([plain(c) async for c in stream])
        else:
            with result as stream:
                seen.extend(plain(c) for c in stream)
        return
    limit = 2 if scenario.consume == "take2_close" else None
    if is_async:
        async for chunk in result:
            seen.append(plain(chunk))
            if limit is not None and len(seen) >= limit:
                break
        await result.close()
    else:
        for chunk in result:
            seen.append(plain(chunk))
            if limit is not None and len(seen) >= limit:
                break
        result.close()


async def _run(scenario: Scenario, wire: Wire) -> list[Any]:
    client = make_client(serve(wire), async_client=scenario.is_async)
    seen: list[Any] = []
    try:
        result = await _resolve(scenario.request(client, scenario.consume == "raw"), scenario.is_async)
        await _consume(scenario, result, seen)
    except Exception as exc:
        seen.append(raised(exc))
    return seen


def observe(scenario: Scenario, wire: Wire) -> list[Any]:
    """Everything the user saw: values in order, then the exception (type and message), if any."""
    return asyncio.run(_run(scenario, wire))


class _DoubleEnd(logging.Handler):
    """Counts the SDK's "ended span" warnings: a span ended twice."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "ended span" in record.getMessage():
            self.count += 1


def observe_instrumented(scenario: Scenario, wire: Wire, **settings: Any) -> tuple[list[Any], list[Any], int]:
    """What the user saw with the instrumentation on, the finished spans, and how many double ends."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.add_span_processor(SpanCollector())  # its content values count in the schema check too
    double_end = _DoubleEnd()
    logging.getLogger("opentelemetry.sdk.trace").addHandler(double_end)
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider, **settings)
    try:
        seen = observe(scenario, wire)
    finally:
        instrumentor.uninstrument()
        logging.getLogger("opentelemetry.sdk.trace").removeHandler(double_end)
    return seen, list(exporter.get_finished_spans()), double_end.count
