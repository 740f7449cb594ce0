"""Hundreds of concurrent async calls and dozens of threads: right parents, right attributes, no leaks, no blocking."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import openai
from opentelemetry import trace

from otel_openai import _semconv as sc
from tests.conftest import Telemetry, http, make_client
from tests.trust._calls import chat_server

ASYNC_CALLS = 400
THREADS = 32
CALLS_PER_THREAD = 10


def _async_client() -> Any:
    """An async client whose server yields to the event loop once per request, like a real socket would."""
    async def handler(request: Any) -> Any:
        await asyncio.sleep(0)
        return chat_server(request)

    return openai.AsyncOpenAI(api_key="sk-test", base_url="http://openai.test:8080/v1", max_retries=0,
                              http_client=http.AsyncClient(transport=http.MockTransport(handler)))


def _check_spans(t: Telemetry, parents: dict[str, Any], streamed: set[str]) -> None:
    """Each caller's model names exactly one GenAI span, under that caller's parent, with its own answer."""
    genai = [s for s in t.finished_spans() if s.instrumentation_scope.name == "otel_openai"]
    assert len(genai) == len(parents)
    by_model = {s.attributes[sc.REQUEST_MODEL]: s for s in genai}
    assert set(by_model) == set(parents)
    for model, span in by_model.items():
        parent = parents[model]
        assert span.parent is not None and span.parent.span_id == parent.span_id, model
        assert span.context.trace_id == parent.trace_id, model
        assert span.attributes[sc.RESPONSE_MODEL] == model
        assert span.attributes[sc.RESPONSE_FINISH_REASONS] == ("stop",)
        assert (sc.RESPONSE_TIME_TO_FIRST_CHUNK in span.attributes) == (model in streamed)


async def test_hundreds_of_concurrent_async_calls(instrument: Any) -> None:
    """400 tasks, half streaming with chunks interleaved, each under its own parent: no mix-ups, no leaks,
    and the event loop keeps running other tasks during every call."""
    t = instrument()
    tracer = trace.get_tracer("app", tracer_provider=t.tracer_provider)
    client = _async_client()
    ticks = 0
    stop = asyncio.Event()

    async def ticker() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1
            await asyncio.sleep(0)

    parents: dict[str, Any] = {}
    streamed: set[str] = set()
    ticks_during: list[int] = []

    async def one(i: int) -> None:
        model = f"model-{i}"
        with tracer.start_as_current_span(f"task {i}") as parent:
            parents[model] = parent.get_span_context()
            messages = [{"role": "user", "content": f"answer {i}"}]
            before = ticks
            if i % 2:
                streamed.add(model)
                stream = await client.chat.completions.create(model=model, messages=messages, stream=True)
                assert trace.get_current_span() is parent
                text = ""
                async for chunk in stream:
                    assert trace.get_current_span() is parent
                    text += "".join(c.delta.content or "" for c in chunk.choices)
                    await asyncio.sleep(0)  # let other tasks' chunks interleave with ours
            else:
                response = await client.chat.completions.create(model=model, messages=messages)
                text = response.choices[0].message.content or ""
            ticks_during.append(ticks - before)
            assert text == f"answer {i}"
            assert trace.get_current_span() is parent

    tick_task = asyncio.ensure_future(ticker())
    await asyncio.gather(*(one(i) for i in range(ASYNC_CALLS)))
    stop.set()
    await tick_task
    assert trace.get_current_span() is trace.INVALID_SPAN
    _check_spans(t, parents, streamed)
    # Count-based, not timed: the ticker ran while every single call was in flight.
    assert min(ticks_during) >= 1


def test_dozens_of_threads(instrument: Any) -> None:
    """32 threads x 10 calls, streams and plain calls mixed, each under the thread's own parent span."""
    t = instrument()
    tracer = trace.get_tracer("app", tracer_provider=t.tracer_provider)
    client = make_client(chat_server)
    barrier = threading.Barrier(THREADS)
    parents: dict[str, Any] = {}
    streamed: set[str] = set()
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        try:
            barrier.wait()
            for j in range(CALLS_PER_THREAD):
                model = f"model-{n}-{j}"
                with tracer.start_as_current_span(f"thread {n} call {j}") as parent:
                    with lock:
                        parents[model] = parent.get_span_context()
                    _thread_call(client, model, stream=bool(j % 2), parent=parent)
                    if j % 2:
                        with lock:
                            streamed.add(model)
                assert trace.get_current_span() is trace.INVALID_SPAN
        except BaseException as exc:  # surfaced below: a thread's assertion must fail the test
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    _check_spans(t, parents, streamed)


def _thread_call(client: Any, model: str, stream: bool, parent: Any) -> None:
    messages = [{"role": "user", "content": json.dumps(model)}]
    if stream:
        result = client.chat.completions.create(model=model, messages=messages, stream=True)
        assert trace.get_current_span() is parent
        text = ""
        for chunk in result:
            assert trace.get_current_span() is parent
            text += "".join(c.delta.content or "" for c in chunk.choices)
    else:
        text = client.chat.completions.create(model=model, messages=messages).choices[0].message.content
    assert text == json.dumps(model)
    assert trace.get_current_span() is parent
