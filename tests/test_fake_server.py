"""The loopback OpenAI-compatible server in examples/, driven by real openai clients."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.conftest import http

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from fake_openai_server import FakeOpenAIServer

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

TOOLS: list[Any] = [{"type": "function", "function": {
    "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
USER = [{"role": "user", "content": "What's the weather like in Paris today?"}]


def test_binds_loopback_on_a_free_port(server: FakeOpenAIServer) -> None:
    """Port 0 picks a free port on 127.0.0.1 and base_url points at /v1 there."""
    assert server.port > 0
    assert server.base_url == f"http://127.0.0.1:{server.port}/v1"
    assert server._httpd is not None and server._httpd.server_address[0] == "127.0.0.1"


def test_stop_releases_the_port() -> None:
    """After stop() the port can be bound again, and the server can be restarted on it."""
    server = FakeOpenAIServer().start()
    port = server.port
    server.stop()
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
    with FakeOpenAIServer(port=port) as again:
        assert again.port == port


def test_chat_returns_a_real_tool_call_then_an_answer(client: openai.OpenAI) -> None:
    """With get_weather offered, the user's question gets a tool call; the tool result gets the answer."""
    first = client.chat.completions.create(model="gpt-4o-mini", messages=USER, tools=TOOLS)
    message = first.choices[0].message
    assert first.choices[0].finish_reason == "tool_calls"
    (call,) = message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert call.id.startswith("call_")
    assert first.usage.prompt_tokens > 0 and first.usage.completion_tokens > 0
    assert first.usage.total_tokens == first.usage.prompt_tokens + first.usage.completion_tokens
    tool_result = {"role": "tool", "tool_call_id": call.id, "content": "rainy"}
    second = client.chat.completions.create(model="gpt-4o-mini", messages=[*USER, message, tool_result])
    assert second.choices[0].message.content == "The weather in Paris is rainy."
    assert second.choices[0].finish_reason == "stop"
    assert second.model == "gpt-4o-mini-2024-07-18"


def test_chat_without_tools_echoes(client: openai.OpenAI) -> None:
    """Without tools the answer echoes the user, n choices come back in index order."""
    result = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "ping"}], n=2)
    assert [c.index for c in result.choices] == [0, 1]
    assert result.choices[1].message.content == "You said: ping"
    assert result.model == "gpt-4o"


def test_chat_stream_with_usage(client: openai.OpenAI) -> None:
    """A stream carries the text in pieces and, when asked, a final usage chunk with no choices."""
    chunks = list(client.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "hello there"}], stream=True,
        stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "You said: hello there"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 0
    assert chunks[-2].choices[0].finish_reason == "stop"


def test_chat_stream_without_usage_has_none(client: openai.OpenAI) -> None:
    """Without include_usage no chunk reports usage."""
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True))
    assert all(c.usage is None for c in chunks)


def test_chat_stream_tool_call_fragments(client: openai.OpenAI) -> None:
    """Streamed tool-call fragments join into the full call, as the SDK's stream helper shows."""
    # openai < 1.4x has the helper under beta only.
    helper = getattr(client.chat.completions, "stream", None) or client.beta.chat.completions.stream
    with helper(model="gpt-4o-mini", messages=USER, tools=TOOLS) as stream:
        for _ in stream:
            pass
        final = stream.get_final_completion()
    (call,) = final.choices[0].message.tool_calls
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert final.choices[0].finish_reason == "tool_calls"


async def test_async_client(aclient: openai.AsyncOpenAI) -> None:
    """The async client works against the same server, streams included."""
    stream = await aclient.chat.completions.create(model="gpt-4o-mini", messages=USER, stream=True)
    pieces = [c.choices[0].delta.content or "" async for c in stream if c.choices]
    assert "".join(pieces).startswith("You said:")


def test_embeddings_float_and_base64(client: openai.OpenAI) -> None:
    """Embeddings honour dimensions and both encodings (the SDK decodes base64 itself)."""
    floats = client.embeddings.create(model="text-embedding-3-small", input=["a", "b"], dimensions=8,
                                      encoding_format="float")
    assert [len(d.embedding) for d in floats.data] == [8, 8]
    assert floats.usage.prompt_tokens == 2
    default = client.embeddings.create(model="text-embedding-3-small", input="a", dimensions=8)
    assert default.data[0].embedding == pytest.approx(floats.data[0].embedding, abs=1e-6)


def test_responses_plain_stream_and_tool_call(client: openai.OpenAI) -> None:
    """The Responses API: text output, typed stream events, and a function_call item for the weather."""
    if not hasattr(client, "responses"):
        pytest.skip("this openai SDK has no Responses API")
    plain = client.responses.create(model="gpt-4o-mini", input="hello")
    assert plain.output_text == "You said: hello"
    assert plain.usage.input_tokens > 0
    with client.responses.stream(model="gpt-4o-mini", input="hello") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds
    assert final.output_text == "You said: hello"
    tools = [{"type": "function", "name": "get_weather", "parameters": TOOLS[0]["function"]["parameters"]}]
    called = client.responses.create(model="gpt-4o-mini", input="Weather in Tokyo?", tools=tools)
    (item,) = called.output
    assert (item.type, item.name, json.loads(item.arguments)) == ("function_call", "get_weather", {"city": "Tokyo"})
    answer = client.responses.create(model="gpt-4o-mini", tools=tools, input=[
        {"role": "user", "content": "Weather in Tokyo?"}, item.model_dump(exclude_none=True),
        {"type": "function_call_output", "call_id": item.call_id, "output": "sunny"}])
    assert answer.output_text == "The weather in Tokyo is sunny."


WEATHER_SCHEMA = {"type": "object", "properties": {
    "city": {"type": "string"}, "sky": {"$ref": "#/$defs/Sky"}, "high": {"type": "integer"},
    "windy": {"type": "boolean"}, "alerts": {"type": "array", "items": {"type": "string"}},
    "note": {"anyOf": [{"type": "null"}, {"type": "string"}]}},
    "$defs": {"Sky": {"enum": ["clear", "cloudy"]}}, "required": ["city", "sky"]}
WEATHER_FITS = {"city": "Paris", "sky": "clear", "high": 21, "windy": True, "alerts": ["sunny"], "note": "sunny"}


def test_chat_json_schema_answers_fit_the_schema(client: openai.OpenAI) -> None:
    """A json_schema response format gets JSON content that fits it; json_object gets an object."""
    fmt = {"type": "json_schema", "json_schema": {"name": "weather", "schema": WEATHER_SCHEMA, "strict": True}}
    answer = client.chat.completions.create(model="gpt-4o-mini", messages=USER, response_format=fmt)
    assert json.loads(answer.choices[0].message.content or "") == WEATHER_FITS
    stream = client.chat.completions.create(model="gpt-4o-mini", messages=USER, response_format=fmt, stream=True)
    assert json.loads("".join(c.choices[0].delta.content or "" for c in stream if c.choices)) == WEATHER_FITS
    loose = client.chat.completions.create(model="gpt-4o-mini", messages=USER,
                                           response_format={"type": "json_object"})
    assert json.loads(loose.choices[0].message.content or "") == {}


def test_responses_json_schema_answers_fit_the_schema(client: openai.OpenAI) -> None:
    """The Responses API's text.format json_schema gets output text that fits it."""
    if not hasattr(client, "responses"):
        pytest.skip("this openai SDK has no Responses API")
    fmt = {"format": {"type": "json_schema", "name": "weather", "schema": WEATHER_SCHEMA}}
    answer = client.responses.create(model="gpt-4o-mini", input="Weather in Paris?", text=fmt)  # type: ignore[arg-type]
    assert json.loads(answer.output_text) == WEATHER_FITS


def test_forced_tool_choice_calls_the_tool(client: openai.OpenAI) -> None:
    """A tool_choice naming a function, or "required", gets a call to it with fitting arguments; with the
    weather tool beside it, "required" asks for the weather first and the other tool once it is known."""
    final = {"type": "function", "function": {"name": "final_result", "parameters": WEATHER_SCHEMA}}
    named = client.chat.completions.create(model="gpt-4o-mini", messages=USER, tools=[final],
                                           tool_choice={"type": "function", "function": {"name": "final_result"}})
    (call,) = named.choices[0].message.tool_calls or []
    assert (call.function.name, json.loads(call.function.arguments)) == ("final_result", WEATHER_FITS)
    first = client.chat.completions.create(model="gpt-4o-mini", messages=USER, tools=[final, *TOOLS],
                                           tool_choice="required")
    (call,) = first.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather"
    answered = [*USER, first.choices[0].message, {"role": "tool", "tool_call_id": call.id, "content": "rainy"}]
    second = client.chat.completions.create(model="gpt-4o-mini", messages=answered, tools=[final, *TOOLS],
                                            tool_choice="required")
    assert [c.function.name for c in second.choices[0].message.tool_calls or []] == ["final_result"]


def test_stable_servers_answer_the_same_request_the_same_way() -> None:
    """With stable=True ids and timestamps derive from the request, so two runs compare equal."""
    answers = []
    for _ in range(2):
        with FakeOpenAIServer(stable=True) as stable, openai.OpenAI(
                base_url=stable.base_url, api_key="sk-test", max_retries=0,
                http_client=http.Client(trust_env=False)) as client:
            answers.append(client.chat.completions.create(model="gpt-4o-mini", messages=USER, tools=TOOLS))
    assert answers[0].model_dump() == answers[1].model_dump()
    assert answers[0].created == 1767225600


def test_legacy_completions(client: openai.OpenAI) -> None:
    """Legacy completions, plain and streamed with usage."""
    plain = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say")
    assert plain.choices[0].finish_reason == "stop" and plain.usage.total_tokens > 0
    chunks = list(client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say", stream=True,
                                            stream_options={"include_usage": True}))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == plain.choices[0].text
    assert chunks[-1].usage is not None


@pytest.mark.parametrize(("model", "error"), [("error-429", openai.RateLimitError),
                                              ("error-500", openai.InternalServerError),
                                              ("error-401", openai.AuthenticationError)])
def test_error_models(client: openai.OpenAI, model: str, error: type[Exception]) -> None:
    """A model named error-<status> gets that status with an OpenAI-style error body."""
    with pytest.raises(error) as caught:
        client.chat.completions.create(model=model, messages=USER)
    assert caught.value.status_code == int(model[-3:])  # type: ignore[attr-defined]
    assert caught.value.body["message"]  # type: ignore[attr-defined,index]


def test_error_header(server: FakeOpenAIServer) -> None:
    """``x-fake-error: 429`` makes any model answer 429, for clients that check model names."""
    client = openai.OpenAI(base_url=server.base_url, api_key="sk-test", max_retries=0,
                           default_headers={"x-fake-error": "429"}, http_client=http.Client(trust_env=False))
    with client, pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o-mini", messages=USER)


def test_unknown_paths_are_404(client: openai.OpenAI) -> None:
    """An endpoint the server does not speak answers 404, as the API does."""
    with pytest.raises(openai.NotFoundError):
        client.files.list()


def test_requests_are_recorded(server: FakeOpenAIServer, client: openai.OpenAI) -> None:
    """server.requests lists each POST with its path and JSON body, in order."""
    client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    client.embeddings.create(model="text-embedding-3-small", input="x")
    assert [(r["path"], r["body"]["model"]) for r in server.requests] == [
        ("/v1/chat/completions", "gpt-4o-mini"), ("/v1/embeddings", "text-embedding-3-small")]


def test_command_line() -> None:
    """``python fake_openai_server.py --port N`` serves until it is stopped."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([sys.executable, str(EXAMPLES / "fake_openai_server.py"), "--port", str(port)],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        assert f"http://127.0.0.1:{port}/v1" in process.stdout.readline()
        with openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-test", max_retries=0,
                           http_client=http.Client(trust_env=False)) as client:
            assert client.models.list().data[0].id == "gpt-4o-mini"
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
