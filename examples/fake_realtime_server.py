"""A loopback server speaking the OpenAI WebSocket APIs: Realtime (GA and beta dialects) and Responses.

Scripted, deterministic, for tests and examples; needs only the ``websockets`` package (the SDK's
``realtime`` extra). ``with FakeRealtimeServer() as server:`` gives ``server.websocket_base_url``
(``ws://127.0.0.1:<port>/v1``), which an ``openai`` client takes as ``websocket_base_url=``.

Realtime (``/v1/realtime``; the beta dialect when the client sends ``OpenAI-Beta: realtime=v1``):
``session.created`` on connect; ``session.update``; ``conversation.item.create``; ``response.create``
and ``response.cancel``; ``input_audio_buffer.append``/``commit`` with server VAD (a non-silent append
starts speech, an all-zero one stops it, commits the audio and, unless ``create_response`` is false,
answers it). The answer depends on the conversation: a tool result gets a text answer, a question about
the weather with tools configured gets a ``get_weather`` call, anything else a greeting, as text or as
audio with a transcript. ``response.metadata.scenario`` picks a failure instead: ``error`` (an ``error``
event answering the request), ``hang`` (never finishes), ``drop`` (the server drops the connection
mid-generation), ``cancelled``, ``incomplete`` or ``failed``.

Responses (``/v1/responses``): each ``response.create`` is answered like an HTTP Responses stream, on its
``stream_id`` lane when it has one; ``metadata.scenario`` ``error``, ``hang`` or ``tool`` as above.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import logging
import threading
from typing import Any, Optional

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

Event = dict[str, Any]

_BETA_NAMES = {
    "response.output_text.delta": "response.text.delta",
    "response.output_text.done": "response.text.done",
    "response.output_audio.delta": "response.audio.delta",
    "response.output_audio.done": "response.audio.done",
    "response.output_audio_transcript.delta": "response.audio_transcript.delta",
    "response.output_audio_transcript.done": "response.audio_transcript.done",
    "conversation.item.added": "conversation.item.created",
}
GREETING = "Hello! How can I help?"
ANSWER = "It is sunny in Paris."
TRANSCRIPT = "What is the weather in Paris?"
AUDIO_CHUNKS = [base64.b64encode(bytes([i]) * 4800).decode() for i in (1, 2, 3)]


def _merge(base: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in update.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(
            merged.get(key), dict) else value
    return merged


class _Realtime:
    """One realtime connection's script."""

    def __init__(self, ws: ServerConnection, model: str, beta: bool, ids: Any) -> None:
        self.ws, self.beta, self.ids = ws, beta, ids
        self.items: list[Event] = []
        self.speaking: Optional[str] = None
        self.hanging: Optional[str] = None
        if beta:
            self.session: Event = {"id": f"sess_{next(ids)}", "object": "realtime.session", "model": model,
                                   "modalities": ["text", "audio"], "instructions": "", "tools": [],
                                   "input_audio_format": "pcm16", "output_audio_format": "pcm16",
                                   "input_audio_transcription": None, "temperature": 0.8,
                                   "turn_detection": {"type": "server_vad"}, "max_response_output_tokens": "inf"}
        else:
            audio_format = {"type": "audio/pcm", "rate": 24000}
            self.session = {"id": f"sess_{next(ids)}", "object": "realtime.session", "type": "realtime",
                            "model": model, "output_modalities": ["audio"], "instructions": "", "tools": [],
                            "max_output_tokens": "inf",
                            "audio": {"input": {"format": audio_format, "transcription": None,
                                                "turn_detection": {"type": "server_vad"}},
                                      "output": {"format": audio_format, "voice": "marin"}}}

    def send(self, event: Event) -> None:
        if self.beta:
            event = {**event, "type": _BETA_NAMES.get(event["type"], event["type"])}
            if event["type"] == "conversation.item.done":
                return
        self.ws.send(json.dumps({"event_id": f"event_{next(self.ids)}", **event}))

    def run(self) -> None:
        self.send({"type": "session.created", "session": self.session})
        for message in self.ws:
            event = json.loads(message)
            handler = getattr(self, "on_" + event.get("type", "").replace(".", "_"), None)
            if handler is not None:
                handler(event)

    # --- client events -------------------------------------------------------------------------------------

    def on_session_update(self, event: Event) -> None:
        self.session = _merge(self.session, event.get("session") or {})
        self.send({"type": "session.updated", "session": self.session})

    def on_conversation_item_create(self, event: Event) -> None:
        item = {"id": f"item_{next(self.ids)}", "object": "realtime.item", **event["item"], "status": "completed"}
        self.add_item(item)

    def add_item(self, item: Event) -> None:
        self.items.append(item)
        self.send({"type": "conversation.item.added", "item": item})
        self.send({"type": "conversation.item.done", "item": item})

    def on_input_audio_buffer_append(self, event: Event) -> None:
        if self.turn_detection() is None:
            return
        silent = not any(base64.b64decode(event["audio"]))
        if self.speaking is None and not silent:
            self.speaking = f"item_{next(self.ids)}"
            self.send({"type": "input_audio_buffer.speech_started", "audio_start_ms": 0, "item_id": self.speaking})
        elif self.speaking is not None and silent:
            item_id, self.speaking = self.speaking, None
            self.send({"type": "input_audio_buffer.speech_stopped", "audio_end_ms": 900, "item_id": item_id})
            self.commit(item_id)
            if self.turn_detection().get("create_response", True):
                self.respond({}, None)

    def on_input_audio_buffer_commit(self, event: Event) -> None:
        self.commit(f"item_{next(self.ids)}")

    def commit(self, item_id: str) -> None:
        self.send({"type": "input_audio_buffer.committed", "item_id": item_id, "previous_item_id": None})
        content = {"type": "input_audio", "transcript": None}
        self.add_item({"id": item_id, "object": "realtime.item", "type": "message", "role": "user",
                       "status": "completed", "content": [content]})

    def on_response_create(self, event: Event) -> None:
        self.respond(event.get("response") or {}, event.get("event_id"))

    def on_response_cancel(self, event: Event) -> None:
        if self.hanging is not None:
            response_id, self.hanging = self.hanging, None
            self.send({"type": "response.done", "response": self.response(
                response_id, {}, "cancelled", [], {"type": "cancelled", "reason": "client_cancelled"})})

    # --- answers ------------------------------------------------------------------------------------------

    def turn_detection(self) -> Any:
        return self.session.get("turn_detection") if self.beta else self.session["audio"]["input"].get(
            "turn_detection")

    def modalities(self, params: Event) -> list[str]:
        key = "modalities" if self.beta else "output_modalities"
        return list(params.get(key) or self.session.get(key) or ["text"])

    def response(self, response_id: str, params: Event, status: str, output: list[Event],
                 details: Optional[Event] = None, usage: Optional[Event] = None) -> Event:
        key = "modalities" if self.beta else "output_modalities"
        return {"id": response_id, "object": "realtime.response", "status": status, "status_details": details,
                "output": output, "conversation_id": None if params.get("conversation") == "none" else "conv_1",
                key: self.modalities(params), "max_output_tokens": params.get("max_output_tokens", "inf"),
                "metadata": params.get("metadata"), "usage": usage}

    def respond(self, params: Event, event_id: Optional[str]) -> None:
        scenario = (params.get("metadata") or {}).get("scenario")
        if scenario == "error":
            self.send({"type": "error", "error": {"type": "invalid_request_error", "code": "invalid_value",
                                                  "message": "Invalid response parameters.",
                                                  "param": "response", "event_id": event_id}})
            return
        response_id = f"resp_{next(self.ids)}"
        self.send({"type": "response.created", "response": self.response(response_id, params, "in_progress", [])})
        if self.transcribes() and self.items and self.items[-1]["content"][0].get("type") == "input_audio":
            item = self.items[-1]
            self.send({"type": "conversation.item.input_audio_transcription.completed", "item_id": item["id"],
                       "content_index": 0, "transcript": TRANSCRIPT,
                       "usage": {"type": "duration", "seconds": 0.9}})
        if scenario in ("hang", "drop"):
            self.hanging = response_id
            self.text_item(response_id, GREETING[:5], finish=False)
            if scenario == "drop":
                self.ws.close(code=1011, reason="server dropped the connection")
            return
        last = self.items[-1] if self.items else {}
        spoken = last.get("content", [{}])[0].get("type") == "input_audio"
        if last.get("type") == "function_call_output":
            output = self.text_item(response_id, ANSWER)
        elif self.session.get("tools") and (spoken or "weather" in json.dumps(last).lower()):
            output = self.call_item(response_id)
        elif "audio" in self.modalities(params):
            output = self.audio_item(response_id)
        else:
            output = self.text_item(response_id, GREETING)
        status, details = {"cancelled": ("cancelled", {"type": "cancelled", "reason": "turn_detected"}),
                           "incomplete": ("incomplete", {"type": "incomplete", "reason": "max_output_tokens"}),
                           "failed": ("failed", {"type": "failed", "error": {"type": "server_error",
                                                                              "code": "internal_error"}}),
                           }.get(scenario or "", ("completed", None))
        usage = self.usage("audio" in self.modalities(params))
        self.send({"type": "response.done", "response": self.response(response_id, params, status, output,
                                                                       details, usage)})

    def transcribes(self) -> bool:
        if self.beta:
            return self.session.get("input_audio_transcription") is not None
        return self.session["audio"]["input"].get("transcription") is not None

    def usage(self, audio: bool) -> Event:
        audio_in = 100 if any(i.get("content", [{}])[0].get("type") == "input_audio" for i in self.items) else 0
        audio_out = 48 if audio else 0
        return {"total_tokens": 32 + audio_in + audio_out, "input_tokens": 20 + audio_in,
                "output_tokens": 12 + audio_out,
                "input_token_details": {"text_tokens": 20, "audio_tokens": audio_in, "image_tokens": 0,
                                        "cached_tokens": 8,
                                        "cached_tokens_details": {"text_tokens": 8, "audio_tokens": 0,
                                                                  "image_tokens": 0}},
                "output_token_details": {"text_tokens": 12, "audio_tokens": audio_out}}

    def item_events(self, response_id: str, item: Event, deltas: list[Event], finish: bool = True) -> Event:
        """``output_item.added`` (and its conversation echo), the deltas, then ``output_item.done``."""
        started = {**item, "status": "in_progress", "content": [] if "content" in item else None}
        started = {k: v for k, v in started.items() if v is not None}
        self.send({"type": "response.output_item.added", "response_id": response_id, "output_index": 0,
                   "item": started})
        self.send({"type": "conversation.item.added", "item": started})
        for delta in deltas:
            self.send({"response_id": response_id, "item_id": item["id"], "output_index": 0, **delta})
        if finish:
            self.send({"type": "response.output_item.done", "response_id": response_id, "output_index": 0,
                       "item": item})
            self.send({"type": "conversation.item.done", "item": item})
            self.items.append(item)
        return item

    def text_item(self, response_id: str, text: str, finish: bool = True) -> list[Event]:
        kind = "text" if self.beta else "output_text"
        item = {"id": f"item_{next(self.ids)}", "object": "realtime.item", "type": "message", "role": "assistant",
                "status": "completed", "content": [{"type": kind, "text": text}]}
        pieces = [text[i:i + 8] for i in range(0, len(text), 8)]
        deltas = [{"type": "response.output_text.delta", "content_index": 0, "delta": p} for p in pieces]
        if finish:
            deltas.append({"type": "response.output_text.done", "content_index": 0, "text": text})
        return [self.item_events(response_id, item, deltas, finish)]

    def audio_item(self, response_id: str) -> list[Event]:
        kind = "audio" if self.beta else "output_audio"
        item = {"id": f"item_{next(self.ids)}", "object": "realtime.item", "type": "message", "role": "assistant",
                "status": "completed", "content": [{"type": kind, "transcript": GREETING}]}
        deltas = [{"type": "response.output_audio.delta", "content_index": 0, "delta": c} for c in AUDIO_CHUNKS]
        deltas += [{"type": "response.output_audio_transcript.delta", "content_index": 0, "delta": p}
                   for p in (GREETING[:6], GREETING[6:])]
        deltas += [{"type": "response.output_audio.done", "content_index": 0},
                   {"type": "response.output_audio_transcript.done", "content_index": 0, "transcript": GREETING}]
        return [self.item_events(response_id, item, deltas)]

    def call_item(self, response_id: str) -> list[Event]:
        arguments = json.dumps({"city": "Paris"})
        item = {"id": f"item_{next(self.ids)}", "object": "realtime.item", "type": "function_call",
                "status": "completed", "name": "get_weather", "call_id": f"call_{next(self.ids)}",
                "arguments": arguments}
        deltas = [{"type": "response.function_call_arguments.delta", "call_id": item["call_id"], "delta": arguments},
                  {"type": "response.function_call_arguments.done", "call_id": item["call_id"],
                   "arguments": arguments}]
        return [self.item_events(response_id, item, deltas)]


class _Responses:
    """One Responses-over-WebSocket connection's script."""

    def __init__(self, ws: ServerConnection, ids: Any) -> None:
        self.ws, self.ids = ws, ids
        self.sequence = itertools.count()

    def send(self, lane: Optional[str], event: Event) -> None:
        extra = {"stream_id": lane} if lane is not None else {}
        self.ws.send(json.dumps({**event, "sequence_number": next(self.sequence), **extra}))

    def run(self) -> None:
        for message in self.ws:
            event = json.loads(message)
            if event.get("type") == "response.create":
                self.respond(event)

    def respond(self, request: Event) -> None:
        lane, scenario = request.get("stream_id"), (request.get("metadata") or {}).get("scenario")
        if scenario == "error":
            self.send(lane, {"type": "error", "status": 400, "error": {
                "type": "invalid_request_error", "code": "model_not_found", "message": "No such model."}})
            return
        response = {"id": f"resp_{next(self.ids)}", "object": "response", "created_at": 0,
                    "model": f"{request.get('model')}-2026-01-01", "status": "in_progress", "output": [],
                    "usage": None, "metadata": request.get("metadata") or {}}
        self.send(lane, {"type": "response.created", "response": response})
        self.send(lane, {"type": "response.in_progress", "response": response})
        if scenario == "tool":
            item: Event = {"id": f"fc_{next(self.ids)}", "type": "function_call", "status": "completed",
                           "name": "get_weather", "call_id": f"call_{next(self.ids)}",
                           "arguments": json.dumps({"city": "Paris"})}
        else:
            item = {"id": f"msg_{next(self.ids)}", "type": "message", "role": "assistant", "status": "completed",
                    "content": [{"type": "output_text", "text": GREETING, "annotations": []}]}
        self.send(lane, {"type": "response.output_item.added", "output_index": 0,
                         "item": {**item, "status": "in_progress"}})
        if item["type"] == "message":
            for piece in (GREETING[:6], GREETING[6:]):
                self.send(lane, {"type": "response.output_text.delta", "item_id": item["id"], "output_index": 0,
                                 "content_index": 0, "delta": piece, "logprobs": []})
                if scenario == "hang":
                    return
        self.send(lane, {"type": "response.output_item.done", "output_index": 0, "item": item})
        usage = {"input_tokens": 14, "input_tokens_details": {"cached_tokens": 4}, "output_tokens": 7,
                 "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 21}
        self.send(lane, {"type": "response.completed", "response": {
            **response, "status": "completed", "output": [item], "usage": usage}})


class FakeRealtimeServer:
    """The loopback WebSocket server: started on enter, stopped on exit."""

    def __init__(self) -> None:
        self.ids = itertools.count(1)
        self.received: list[Event] = []
        self.connections = 0
        self._logger = logging.getLogger("fake_realtime_server")
        self._logger.addHandler(logging.NullHandler())
        self._logger.propagate = False
        self._server = serve(self._handle, "127.0.0.1", 0, logger=self._logger, compression=None)
        self.port = self._server.socket.getsockname()[1]
        self.websocket_base_url = f"ws://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-realtime", daemon=True)

    def __enter__(self) -> FakeRealtimeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)

    def _handle(self, ws: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):  # the client went away (or the script dropped it)
            self._serve(ws)

    def _serve(self, ws: ServerConnection) -> None:
        self.connections += 1
        recorder = _Recorder(ws, self.received)
        path = ws.request.path if ws.request is not None else ""
        if path.startswith("/v1/responses"):
            _Responses(recorder, self.ids).run()  # type: ignore[arg-type]
            return
        model = path.partition("model=")[2].partition("&")[0] or "gpt-realtime"
        beta = (ws.request.headers.get("OpenAI-Beta") if ws.request is not None else None) == "realtime=v1"
        _Realtime(recorder, model, beta, self.ids).run()  # type: ignore[arg-type]


class _Recorder:
    """The connection, remembering every client event the server received."""

    def __init__(self, ws: ServerConnection, received: list[Event]) -> None:
        self.ws, self.received = ws, received

    def __iter__(self) -> Any:
        for message in self.ws:
            self.received.append(json.loads(message))
            yield message

    def send(self, data: str) -> None:
        self.ws.send(data)

    def close(self, code: int, reason: str) -> None:
        self.ws.close(code=code, reason=reason)
