"""A traced realtime session: a text conversation with a tool call over ``client.realtime.connect()``.

It starts the loopback WebSocket server (no API key, no network), instruments the SDK with content capture
on, holds one realtime session inside the app's own span, and prints the trace as a tree plus the session's
start and end events. Needs ``otel-openai``, ``openai[realtime]`` (the ``websockets`` package) and
``opentelemetry-sdk``::

    python examples/realtime_session.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import openai  # noqa: E402  (the examples folder is not a package)
from demo import render_trace  # noqa: E402
from fake_realtime_server import FakeRealtimeServer  # noqa: E402
from opentelemetry.sdk._logs import LoggerProvider  # noqa: E402
from opentelemetry.sdk.trace import TracerProvider  # noqa: E402
from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402

from otel_openai import OpenAIInstrumentor  # noqa: E402

try:  # opentelemetry-sdk moved the in-memory log exporter between releases
    from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
except ImportError:  # pragma: no cover
    from opentelemetry.sdk._logs.export import InMemoryLogExporter as InMemoryLogRecordExporter  # type: ignore
    from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor

WEATHER = {"type": "function", "name": "get_weather", "description": "The current weather in a city.",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


def get_weather(city: str) -> str:
    return "sunny" if city == "Paris" else "cloudy"


def converse(client: openai.OpenAI, question: str) -> str:
    """One realtime session: ask, run the model's tool call, and return its spoken-as-text answer."""
    with client.realtime.connect(model="gpt-realtime") as connection:
        connection.session.update(session={"type": "realtime", "output_modalities": ["text"],
                                           "instructions": "Answer in one sentence.", "tools": [WEATHER]})
        connection.conversation.item.create(item={"type": "message", "role": "user",
                                                  "content": [{"type": "input_text", "text": question}]})
        connection.response.create()
        for event in connection:
            if event.type != "response.done":
                continue
            output = event.response.output[0]
            if output.type != "function_call":
                return "".join(c.text or "" for c in output.content)
            result = get_weather(**json.loads(output.arguments))
            connection.conversation.item.create(item={"type": "function_call_output", "call_id": output.call_id,
                                                      "output": result})
            connection.response.create()
    raise RuntimeError("the session ended without an answer")


def main() -> None:
    spans, logs = InMemorySpanExporter(), InMemoryLogRecordExporter()
    tracer_provider, logger_provider = TracerProvider(), LoggerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(spans))
    logger_provider.add_log_record_processor(SimpleLogRecordProcessor(logs))
    instrumentor = OpenAIInstrumentor()
    instrumentor.instrument(tracer_provider=tracer_provider, logger_provider=logger_provider,
                            capture_content="SPAN_ONLY")
    try:
        with FakeRealtimeServer() as server:
            client = openai.OpenAI(api_key="sk-fake-demo-key", base_url="http://127.0.0.1:9/v1",
                                   websocket_base_url=server.websocket_base_url)
            print(f"Realtime session against the loopback server at {server.websocket_base_url}\n")
            question = "What's the weather in Paris?"
            with tracer_provider.get_tracer("app").start_as_current_span("phone call"):
                answer = converse(client, question)
            print(f"Q: {question}\nA: {answer}\n")
    finally:
        instrumentor.uninstrument()
    print("\n".join(render_trace([json.loads(s.to_json()) for s in spans.get_finished_spans()])))
    print()
    for record in (r.log_record for r in logs.get_finished_logs()):
        attrs = record.attributes or {}
        print(f"event {record.event_name}  session {attrs.get('gen_ai.realtime_session.id')}")


if __name__ == "__main__":
    main()
