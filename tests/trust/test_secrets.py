"""Secrets and content: sentinel strings sent through every API never leave the process unless asked for."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Callable

import openai
import pytest

from otel_openai import _semconv as sc
from tests.conftest import BASE_URL, Telemetry, event_value, http
from tests.trust._support import is_json_text

# Content sentinels: none may appear anywhere in exported data with default settings.
PROMPT = "sentinel-prompt-5e1"
SYSTEM = "sentinel-system-8b2"
COMPLETION = "sentinel-completion-c47"
TOOL_ARGUMENT = "sentinel-tool-argument-a90"
TOOL_RESULT = "sentinel-tool-result-3d6"
# Media sentinels are valid base64, as the real payloads are.
IMAGE_B64 = "SENTiNELiMAGEbytes0000" * 4
AUDIO_B64 = "SENTiNELaUDIObytes1111" * 4
AUDIO_OUT_B64 = "SENTiNELaUDIOoutput222" * 4
FILE_BYTES = b"sentinel-upload-bytes-77"
SPEECH_BYTES = b"sentinel-speech-bytes-66"
# Credential sentinels: none may appear whatever the settings.
API_KEY = "sk-sentinel-api-key-f00"
AZURE_KEY = "sentinel-azure-key-b11"
HEADER_VALUE = "sentinel-extra-header-e22"
CREDENTIALS = (API_KEY, AZURE_KEY, HEADER_VALUE)
CONTENT = (PROMPT, SYSTEM, COMPLETION, TOOL_ARGUMENT, TOOL_RESULT)
MEDIA = (IMAGE_B64, AUDIO_B64, AUDIO_OUT_B64, FILE_BYTES.decode(), SPEECH_BYTES.decode())

_USAGE = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
_TOOL_CALL = {"id": "call_1", "type": "function",
              "function": {"name": "lookup", "arguments": json.dumps({"q": TOOL_ARGUMENT})}}


def _chat(body: dict[str, Any]) -> Any:
    if body.get("stream"):
        base = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini"}
        deltas = [{"content": COMPLETION}, {"tool_calls": [{"index": 0, **_TOOL_CALL}]},
                  {"audio": {"id": "a1", "data": AUDIO_OUT_B64, "transcript": COMPLETION}}]
        events = [{**base, "choices": [{"index": 0, "delta": d, "finish_reason": None}]} for d in deltas]
        events.append({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": _USAGE})
        text = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        return http.Response(200, content=text.encode(), headers={"content-type": "text/event-stream"})
    message = {"role": "assistant", "content": COMPLETION, "tool_calls": [_TOOL_CALL],
               "audio": {"id": "a1", "data": AUDIO_OUT_B64, "transcript": COMPLETION, "expires_at": 1}}
    return http.Response(200, json={"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
                                    "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}],
                                    "usage": _USAGE})


def _responses(body: dict[str, Any]) -> Any:
    output = [
        {"type": "message", "id": "m1", "role": "assistant", "status": "completed",
         "content": [{"type": "output_text", "text": COMPLETION, "annotations": []}]},
        {"type": "function_call", "id": "f1", "call_id": "call_1", "name": "lookup",
         "arguments": json.dumps({"q": TOOL_ARGUMENT}), "status": "completed"},
    ]
    response = {"id": "resp_1", "object": "response", "created_at": 1, "model": "gpt-4o-mini",
                "status": "completed", "output": output, "parallel_tool_calls": True, "tool_choice": "auto",
                "tools": [], "usage": {"input_tokens": 5, "output_tokens": 3, "total_tokens": 8}}
    if body.get("stream"):
        events = [{"type": "response.output_text.delta", "item_id": "m1", "output_index": 0, "content_index": 0,
                   "delta": COMPLETION, "sequence_number": 1},
                  {"type": "response.completed", "response": response, "sequence_number": 2}]
        text = "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events)
        return http.Response(200, content=text.encode(), headers={"content-type": "text/event-stream"})
    return http.Response(200, json=response)


def _server(seen: list[Any]) -> Callable[[Any], Any]:
    """One mock server for every API, answering with sentinels in every content field."""
    def handler(request: Any) -> Any:
        seen.append(request)
        path = request.url.path
        body = json.loads(request.content) if request.headers.get("content-type") == "application/json" else {}
        if path.endswith("/chat/completions"):
            return _chat(body)
        if path.endswith("/responses"):
            return _responses(body)
        if path.endswith("/completions"):
            return http.Response(200, json={"id": "x", "object": "text_completion", "created": 1, "model": "m",
                                            "choices": [{"index": 0, "text": COMPLETION, "finish_reason": "stop",
                                                         "logprobs": None}], "usage": _USAGE})
        if path.endswith("/embeddings"):
            return http.Response(200, json={"object": "list", "model": "e", "data": [
                {"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
                "usage": {"prompt_tokens": 2, "total_tokens": 2}})
        if path.endswith("/images/generations"):
            return http.Response(200, json={"created": 1, "data": [{"b64_json": IMAGE_B64,
                                                                     "revised_prompt": COMPLETION}]})
        if path.endswith("/audio/transcriptions"):
            return http.Response(200, json={"text": COMPLETION})
        if path.endswith("/audio/speech"):
            return http.Response(200, content=SPEECH_BYTES, headers={"content-type": "audio/mpeg"})
        if path.endswith("/moderations"):
            return http.Response(200, json={"id": "mod", "model": "omni-moderation-latest", "results": [
                {"flagged": False, "categories": {}, "category_scores": {}}]})
        if path.endswith("/unauthorized"):
            return http.Response(401, json={"error": {"message": "Incorrect API key provided: sk-sen***f00"}})
        return http.Response(404, json={"error": {"message": "not found"}})
    return handler


MESSAGES = [
    {"role": "system", "content": SYSTEM},
    {"role": "user", "content": [
        {"type": "text", "text": PROMPT},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{IMAGE_B64}"}},
        {"type": "input_audio", "input_audio": {"data": AUDIO_B64, "format": "wav"}},
    ]},
    {"role": "assistant", "content": None, "tool_calls": [_TOOL_CALL]},
    {"role": "tool", "tool_call_id": "call_1", "content": TOOL_RESULT},
]
TOOLS = [{"type": "function", "function": {"name": "lookup", "description": "Look up", "parameters": {}}}]
EXTRA = {"extra_headers": {"X-Custom-Secret": HEADER_VALUE}}


def _every_call(client: Any, azure: bool = False) -> int:
    """Every API this SDK has, streamed and not, with sentinels in every input; returns the calls made."""
    made = 0
    chat = client.chat.completions
    for stream in (False, True):
        result = chat.create(model="gpt-4o-mini", messages=MESSAGES, tools=TOOLS, stream=stream, **EXTRA)
        if stream:
            list(result)
        made += 1
    chat.with_raw_response.create(model="gpt-4o-mini", messages=MESSAGES, **EXTRA).parse()
    made += 1
    if azure:
        return made
    if hasattr(client, "responses"):
        input_items = [
            {"role": "user", "content": [{"type": "input_text", "text": PROMPT},
                                         {"type": "input_image", "image_url": f"data:image/png;base64,{IMAGE_B64}",
                                          "detail": "auto"}]},
            {"type": "function_call_output", "call_id": "call_1", "output": TOOL_RESULT},
        ]
        for stream in (False, True):
            result = client.responses.create(model="gpt-4o-mini", input=input_items, instructions=SYSTEM,
                                             stream=stream, **EXTRA)
            if stream:
                list(result)
            made += 1
    client.completions.create(model="gpt-3.5-turbo-instruct", prompt=PROMPT, **EXTRA)
    client.embeddings.create(model="text-embedding-3-small", input=PROMPT, **EXTRA)
    client.images.generate(model="gpt-image-1", prompt=PROMPT, **EXTRA)
    client.audio.transcriptions.create(model="whisper-1", file=("a.wav", FILE_BYTES), prompt=PROMPT, **EXTRA)
    client.audio.speech.create(model="tts-1", voice="alloy", input=PROMPT, **EXTRA).read()
    client.moderations.create(model="omni-moderation-latest", input=PROMPT, **EXTRA)
    made += 6
    with pytest.raises(openai.AuthenticationError):
        client.post("/unauthorized", cast_to=object, body={"model": "m"})
    return made


def _client(seen: list[Any], azure: bool = False) -> Any:
    http_client = http.Client(transport=http.MockTransport(_server(seen)))
    if azure:
        return openai.AzureOpenAI(api_key=AZURE_KEY, azure_endpoint="https://sentinel.openai.azure.com",
                                  api_version="2024-10-21", http_client=http_client, max_retries=0)
    return openai.OpenAI(api_key=API_KEY, base_url=BASE_URL, http_client=http_client, max_retries=0)


def exported_text(t: Telemetry) -> str:
    """Everything the pipelines received, as one searchable string."""
    parts: list[Any] = []
    for span in t.finished_spans():
        parts += [span.name, dict(span.attributes or {}), span.status.description]
        parts += [(e.name, dict(e.attributes or {})) for e in span.events]
        parts += [dict(link.attributes or {}) for link in span.links]
    for record in t.log_records():
        parts += [record.body, dict(record.attributes or {}), getattr(record, "event_name", None)]
    data = t.metric_reader.get_metrics_data()
    for rm in data.resource_metrics if data else []:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                parts += [dict(p.attributes or {}) for p in metric.data.data_points]
    return json.dumps(parts, default=repr, ensure_ascii=False)


def _found(text: str, sentinels: tuple[str, ...]) -> list[str]:
    return [s for s in sentinels if s in text]


@pytest.fixture(params=[False, True], ids=["openai", "azure"])
def azure(request: Any) -> bool:
    return bool(request.param)


@pytest.fixture
def calls(azure: bool) -> Iterator[Callable[[], tuple[int, list[Any]]]]:
    def run() -> tuple[int, list[Any]]:
        seen: list[Any] = []
        return _every_call(_client(seen, azure), azure), seen
    yield run


def _sent_credentials(seen: list[Any], azure: bool) -> None:
    """The secrets really were on the wire, so their absence from telemetry means something."""
    header = "api-key" if azure else "authorization"
    assert all((AZURE_KEY if azure else API_KEY) in r.headers.get(header, "") for r in seen)
    assert all(r.headers.get("x-custom-secret") == HEADER_VALUE for r in seen
               if not r.url.path.endswith("/unauthorized"))


def test_default_settings_export_no_content_media_or_credentials(instrument: Any, azure: bool,
                                                                  calls: Any) -> None:
    """With default settings no prompt, completion, tool argument or result, media byte or credential is
    exported on any span, span event, log record or metric point."""
    t = instrument()
    made, seen = calls()
    _sent_credentials(seen, azure)
    assert len(t.finished_spans()) >= made
    text = exported_text(t)
    assert _found(text, CONTENT + MEDIA + CREDENTIALS) == []


@pytest.mark.parametrize("capture", ["SPAN_AND_EVENT", "SPAN_ONLY", "EVENT_ONLY"])
def test_credentials_never_exported_even_with_capture_on(instrument: Any, azure: bool, calls: Any,
                                                         capture: str) -> None:
    """With content capture on (and chunk events on), keys and header values still never appear; base64
    media stays out unless asked for, while the prompt itself is captured."""
    t = instrument(capture_content=capture, stream_chunk_events=10)
    made, seen = calls()
    _sent_credentials(seen, azure)
    assert len(t.finished_spans()) >= made
    text = exported_text(t)
    assert _found(text, CREDENTIALS) == []
    assert PROMPT in text, "capture is on: the search must be able to find content"
    assert _found(text, (IMAGE_B64, AUDIO_B64)) == []


def test_media_is_a_size_reference_unless_capture_media(instrument: Any) -> None:
    """Inline base64 images and audio become withheld parts (generic ``blob``) with a size and no content;
    ``capture_media=True`` keeps them."""
    t = instrument(capture_content="SPAN_ONLY")
    seen: list[Any] = []
    client = _client(seen)
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    attrs = t.only_span().attributes
    blobs = [p for m in json.loads(attrs[sc.INPUT_MESSAGES]) for p in m["parts"] if p.get("generic_type") == "blob"]
    assert [(b["modality"], b["byte_size"] > 0, "content" in b) for b in blobs] == [("image", True, False),
                                                                                    ("audio", True, False)]
    assert _found(exported_text(t), MEDIA) == []


def test_capture_media_keeps_inline_media(telemetry: Telemetry, instrument: Any) -> None:
    """The opt-in works, which also proves the absence checks above can fail."""
    t = instrument(capture_content="SPAN_ONLY", capture_media=True)
    _client([]).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert _found(exported_text(t), (IMAGE_B64, AUDIO_B64)) == [IMAGE_B64, AUDIO_B64]


def test_stream_chunk_events_keep_media_out(instrument: Any) -> None:
    """Chunk events under content capture do not carry base64 audio unless capture_media is on."""
    t = instrument(capture_content="SPAN_ONLY", stream_chunk_events=10)
    list(_client([]).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES, stream=True))
    assert _found(exported_text(t), (AUDIO_OUT_B64,)) == []


@pytest.mark.parametrize("limit", [16, 200])
def test_max_content_length_bounds_every_string_and_keeps_json_valid(instrument: Any, limit: int) -> None:
    """A 20,000-character prompt and completion are cut to the limit inside valid JSON."""
    t = instrument(capture_content="SPAN_AND_EVENT", max_content_length=limit)
    huge = "é" * 20_000

    def server(request: Any) -> Any:
        message = {"role": "assistant", "content": huge + COMPLETION}
        return http.Response(200, json={"id": "c", "object": "chat.completion", "created": 1, "model": "m",
                                        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})

    client = openai.OpenAI(api_key=API_KEY, base_url=BASE_URL, max_retries=0,
                           http_client=http.Client(transport=http.MockTransport(server)))
    client.chat.completions.create(model="m", messages=[{"role": "user", "content": huge + PROMPT}],
                                   tools=[{"type": "function", "function": {"name": "f", "description": huge}}])
    attrs = t.only_span().attributes
    keys = (sc.INPUT_MESSAGES, sc.OUTPUT_MESSAGES, sc.TOOL_DEFINITIONS)
    for key in keys:
        assert is_json_text(attrs[key]), key
        assert _longest_string(json.loads(attrs[key])) <= limit + len("…[truncated]"), key
        assert len(attrs[key]) < 2_000, key
    (record,) = [r for r in t.log_records() if r.attributes.get(sc.OPERATION_NAME)]
    assert {k for k in keys if k in record.attributes} == set(keys)
    assert _longest_string(event_value({k: record.attributes[k] for k in keys})) <= limit + len("…[truncated]")
    assert _found(exported_text(t), (PROMPT, COMPLETION)) == []  # they sat past the limit


def _longest_string(value: Any) -> int:
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return max([0, *(_longest_string(v) for v in value.values())])
    if isinstance(value, (list, tuple)):
        return max([0, *(_longest_string(v) for v in value)])
    return 0
