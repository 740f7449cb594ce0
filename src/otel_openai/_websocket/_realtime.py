"""A realtime session: one ``realtime_inference`` span per server-side generation, session events, and the
opt-in ``user_speech`` spans.

A generation starts when the client sends ``response.create`` (matched in order with the server's
``response.created``) or, for server-initiated ones (VAD, ``send_raw``, queued sends), at
``response.created``; it ends at ``response.done``, at an ``error`` answering its ``response.create``
(matched by ``event_id``), or when the connection closes or is lost.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterable
from typing import Any, Callable, Optional

from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from otel_openai import _content
from otel_openai import _semconv as sc
from otel_openai._invocation import start_attributes
from otel_openai._mapping import Api
from otel_openai._mapping import realtime as mapping
from otel_openai._mapping._common import Attributes, as_str, get, put
from otel_openai._websocket._session import Generation, Session, gone_attributes, guard

REALTIME = Api(
    operation=sc.OP_REALTIME_INFERENCE,
    request_attributes=mapping.request_attributes,
    response_attributes=mapping.response_attributes,
    accumulator=mapping.RealtimeAccumulator,
    input_messages=mapping.input_messages,
    system_instructions=mapping.system_instructions,
    tool_definitions=mapping.tool_definitions,
)

Handler = Callable[["RealtimeSession", Any], None]


class RealtimeSession(Session):
    """``client.realtime`` / ``client.beta.realtime`` connections (openai >= 1.x where they exist)."""

    api = REALTIME
    skipped_without_content = mapping.TEXT_DELTAS | mapping.TRANSCRIPT_DELTAS | mapping.AUDIO_DELTAS

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        settings = self.t.settings
        self.capture = settings.capture_content
        self.handlers = _handlers(settings.capture_content, settings.user_speech_spans)
        self.session: Any = None
        self.session_id: Optional[str] = None
        self.started = False
        self.pending: collections.deque[Generation] = collections.deque()
        self.active: dict[Any, Generation] = {}
        # Only when capturing: input items since the previous generation, their transcripts, and the ids of
        # items the model itself is producing (echoed as conversation items, but they are output).
        self.items: list[Any] = []
        self.transcripts: dict[Any, str] = {}
        self.outputs: set[Any] = set()
        self.speech: Optional[_Speech] = None

    def on_event(self, event: Any) -> None:
        kind: Any = getattr(event, "type", None)  # an event type the SDK does not know is a plain dict
        handler = self.handlers.get(kind)
        if handler is not None:
            handler(self, event)

    # --- generations ------------------------------------------------------------------------------------

    def on_create(self, event: Any) -> Optional[Generation]:
        params = get(event, "response")
        generation = self._start(params if params is not None else {}, as_str(get(event, "event_id")))
        self.pending.append(generation)
        return generation

    def _start(self, params: Any, event_id: Optional[str] = None) -> Generation:
        body: dict[str, Any] = {"model": self.model or get(self.session, "model"), "session": self.session,
                                "response": params}
        extra: Attributes = {}
        put(extra, sc.REALTIME_SESSION_ID, self.session_id)
        generation = self.start(body, extra, event_id)
        if self.session is not None:
            self._bind(generation)
        return generation

    def _answered(self, generation: Generation) -> None:
        """The server answered: what the client sent before ``response.create`` (session updates, items)
        has been echoed by now, so the generation's configuration and input are complete."""
        body = generation.body
        body["session"] = self.session
        if self.capture:
            body["items"], body["transcripts"] = self.items, self.transcripts
            self.items, self.transcripts = [], {}
            generation.item_ids = frozenset(get(i, "id") for i in body["items"])
        generation.invocation.refresh_request()

    def _bind(self, generation: Generation) -> None:
        guard(generation.acc.bind, self.session, self.t.settings.capture_media)

    def _created(self, event: Any) -> None:
        generation = self.pending.popleft() if self.pending else self._start({})
        self.active[get(event.response, "id")] = generation
        self._answered(generation)
        generation.feed(event)

    def _done(self, event: Any) -> None:
        generation = self.active.pop(get(event.response, "id"), None)
        if generation is not None:  # a generation we saw start
            generation.feed(event)
            generation.end()
        if not self.active:
            self.outputs.clear()  # echoes of output items arrive while their generation runs

    def _response_event(self, event: Any) -> None:
        generation = self.active.get(event.response_id)
        if generation is not None:
            generation.feed(event)

    def _error(self, event: Any) -> None:
        """An error answering a ``response.create`` (by its ``event_id``) ends that generation."""
        error = event.error
        event_id = as_str(get(error, "event_id"))
        for generation in list(self.pending):  # another thread may be sending
            if event_id is not None and generation.event_id == event_id:
                self.pending.remove(generation)
                generation.cut(as_str(get(error, "code")) or as_str(get(error, "type")) or "error")
                return

    def forget(self, generation: Generation) -> None:
        if generation in self.pending:
            self.pending.remove(generation)

    def open_generations(self) -> Iterable[Generation]:
        pending, active = self.pending, self.active
        self.pending, self.active = collections.deque(), {}
        return [*pending, *active.values()]

    # --- the session ------------------------------------------------------------------------------------

    def _session(self, event: Any) -> None:
        """``session.created`` / ``session.updated``: the configuration generations use, and the session id
        (a new one after a reconnect starts a new session)."""
        self.session = session = event.session
        session_id = as_str(get(session, "id"))
        if session_id is not None and session_id != self.session_id:
            self.session_id = session_id
            self.started = True
            self.emit(sc.EVENT_REALTIME_SESSION_STARTED, self.session_attributes())
        for generation in [*self.pending, *self.active.values()]:
            self._bind(generation)

    def session_attributes(self) -> Attributes:
        body = {"model": self.model or get(self.session, "model")}
        attrs = start_attributes(REALTIME, self.client, body, self.t.settings, self.parent)
        attrs.pop(sc.OPERATION_NAME, None)
        attrs.update(self.server)
        put(attrs, sc.REALTIME_SESSION_ID, self.session_id)
        return attrs

    def on_gone(self, exc: Optional[BaseException]) -> None:
        self._end_speech(cut=gone_attributes(exc).get(sc.ERROR_TYPE, sc.ERROR_TYPE_WEBSOCKET_CLOSED))
        if self.started:
            self.started = False
            self.emit(sc.EVENT_REALTIME_SESSION_ENDED, {**self.session_attributes(), **gone_attributes(exc)})
        # A reconnect opens a new server-side session and conversation: nothing carries over.
        self.session_id = None
        self.items, self.transcripts, self.outputs = [], {}, set()

    # --- input items and transcripts (only when capturing) --------------------------------------------------

    def _item_added(self, event: Any) -> None:
        item = event.item
        item_id = get(item, "id")
        if item_id in self.outputs:
            self.outputs.discard(item_id)
        elif get(item, "status") == "in_progress":
            return  # the model is producing it: output of a generation, not input to the next
        elif item_id is None or all(get(i, "id") != item_id for i in self.items):  # echoed once per item
            self.items.append(item)

    def _output_item(self, event: Any) -> None:
        self.outputs.add(get(event.item, "id"))
        self._response_event(event)

    def _transcript(self, event: Any) -> None:
        key, transcript = (event.item_id, event.content_index), event.transcript
        if self.speech is not None and self.speech.item_id == event.item_id:
            self._end_speech(transcript)
        if not self.capture:
            return
        for generation in self.active.values():
            if event.item_id in generation.item_ids:
                generation.body["transcripts"][key] = transcript
                generation.invocation.refresh_request()
                return
        self.transcripts[key] = transcript

    def _transcript_failed(self, event: Any) -> None:
        if self.speech is not None and self.speech.item_id == event.item_id:
            self._end_speech()

    # --- user speech (opt-in) ------------------------------------------------------------------------------

    def _speech_started(self, event: Any) -> None:
        self._end_speech()
        self.speech = _Speech(self, as_str(get(event, "item_id")))

    def _speech_stopped(self, event: Any) -> None:
        if self.speech is None:
            return
        self.speech.stopped = time.time_ns()
        # Wait for the transcript only if it can be recorded and the session transcribes its input.
        if not (self.t.settings.content_on_span and _transcribes(self.session)):
            self._end_speech()

    def _end_speech(self, transcript: Optional[str] = None, cut: Any = None) -> None:
        speech, self.speech = self.speech, None
        if speech is not None:
            speech.end(transcript, cut)


class _Speech:
    """One ``user_speech`` span, from speech start to speech stop; the transcript, when it can be recorded,
    arrives later and is added before the span ends at the stop time."""

    __slots__ = ("item_id", "mime", "span", "stopped", "t")

    def __init__(self, session: RealtimeSession, item_id: Optional[str]) -> None:
        self.t = session.t
        self.item_id = item_id
        self.mime = mapping.audio_mime(session.session, "input")
        self.stopped: Optional[int] = None
        attrs = {sc.OPERATION_NAME: sc.OP_USER_SPEECH,
                 sc.PROVIDER_NAME: session.session_attributes().get(sc.PROVIDER_NAME, sc.PROVIDER_OPENAI)}
        put(attrs, sc.REALTIME_SESSION_ID, session.session_id)
        self.span: Span = self.t.tracer.start_span(sc.OP_USER_SPEECH, context=session.parent,
                                                   kind=SpanKind.INTERNAL, attributes=attrs)

    def end(self, transcript: Optional[str] = None, cut: Any = None) -> None:
        """End at the stop time; ``cut`` is the ``error.type`` of a connection gone while the user spoke."""
        settings = self.t.settings
        if transcript and settings.content_on_span and self.span.is_recording():
            part = mapping.audio_part(None, self.mime, transcript, settings.capture_media)
            messages = _content.bounded([{"role": "user", "parts": [part]}], settings.max_content_length)
            self.span.set_attribute(sc.INPUT_MESSAGES, _content.to_json(messages))
        if self.stopped is None and cut:
            self.span.set_status(Status(StatusCode.ERROR, str(cut)))
            self.span.set_attribute(sc.ERROR_TYPE, cut)
        self.span.end(end_time=self.stopped)


def _transcribes(session: Any) -> bool:
    """Whether the session transcribes input audio (GA ``audio.input.transcription``, beta
    ``input_audio_transcription``)."""
    ga = get(get(get(session, "audio"), "input"), "transcription")
    return ga is not None or get(session, "input_audio_transcription") is not None


_BASE: dict[str, Handler] = {
    "session.created": RealtimeSession._session,
    "session.updated": RealtimeSession._session,
    "response.created": RealtimeSession._created,
    "response.done": RealtimeSession._done,
    "error": RealtimeSession._error,
}
# Content arrives in these, kept only when capturing (GA and beta names).
_CONTENT: dict[str, Handler] = {
    **{kind: RealtimeSession._response_event
       for kind in (*mapping.TEXT_DELTAS, *mapping.TRANSCRIPT_DELTAS, *mapping.AUDIO_DELTAS)},
    "response.output_item.added": RealtimeSession._output_item,
    "response.output_item.done": RealtimeSession._response_event,
    "conversation.item.added": RealtimeSession._item_added,
    "conversation.item.created": RealtimeSession._item_added,
    "conversation.item.input_audio_transcription.completed": RealtimeSession._transcript,
}
_SPEECH: dict[str, Handler] = {
    "input_audio_buffer.speech_started": RealtimeSession._speech_started,
    "input_audio_buffer.speech_stopped": RealtimeSession._speech_stopped,
    "conversation.item.input_audio_transcription.completed": RealtimeSession._transcript,
    "conversation.item.input_audio_transcription.failed": RealtimeSession._transcript_failed,
}


def _handlers(capture: bool, speech: bool) -> dict[str, Handler]:
    """The events this session reads; audio deltas are among them only when capturing content."""
    return {**_BASE, **(_CONTENT if capture else {}), **(_SPEECH if speech else {})}
