"""Realtime API over WebSocket (``realtime.connect``, ``beta.realtime.connect``): one generation's mapping.

Read against openai 1.109 (GA and beta), 2.54 and 3.57: GA events say ``response.output_text.delta`` /
``response.output_audio.delta`` / ``conversation.item.added``, beta ones ``response.text.delta`` /
``response.audio.delta`` / ``conversation.item.created``; both report usage with ``input_token_details`` /
``output_token_details`` (not the ``*_tokens_details`` of the HTTP APIs).

The mechanics hand each generation a body of their own making, so the invocation treats it like a request:
``model`` (the session's), ``session`` (the latest ``session.created``/``updated`` object), ``response``
(the client's ``response.create`` parameters, if it sent them), and, only when capturing content, ``items``
(conversation items added since the previous generation) and ``transcripts`` (``{(item id, content index):
text}`` of input audio, filled in as transcription finishes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Optional

from otel_openai import _semconv as sc
from otel_openai._mapping import _parts as parts
from otel_openai._mapping import _usage
from otel_openai._mapping._common import (
    Attributes,
    as_float,
    as_int,
    as_str,
    enum_value,
    get,
    put,
)

Messages = list[dict[str, Any]]

# A completed generation that called a function stops for the tool; an incomplete one reports its reason in
# the usual vocabulary; a cancelled one keeps the provider's reason (turn_detected, client_cancelled).
FINISH_TOOL_CALL = "tool_call"
# stripped_reason of audio the session never saw (the server does not echo the user's audio back).
AUDIO_NOT_RECEIVED = "not_received"
_INCOMPLETE_REASONS = {"max_output_tokens": "length", "content_filter": "content_filter"}
_UNFINISHED = frozenset({"in_progress"})
# Beta names audio formats; GA gives the MIME type itself.
_AUDIO_MIME = {"pcm16": "audio/pcm", "g711_ulaw": "audio/pcmu", "g711_alaw": "audio/pcma"}

# Event types, GA and beta.
TEXT_DELTAS = frozenset({"response.output_text.delta", "response.text.delta"})
TRANSCRIPT_DELTAS = frozenset({"response.output_audio_transcript.delta", "response.audio_transcript.delta"})
AUDIO_DELTAS = frozenset({"response.output_audio.delta", "response.audio.delta"})


# --- request ----------------------------------------------------------------------------------------


def request_attributes(body: Mapping[str, Any]) -> Attributes:
    """What this generation was asked for: the ``response.create`` parameters, else the session's."""
    response, session = body.get("response"), body.get("session")
    attrs: Attributes = {}
    put(attrs, sc.REQUEST_MAX_TOKENS, max_tokens(response) or max_tokens(session))
    put(attrs, sc.OUTPUT_TYPE, output_type(modalities(response) or modalities(session)))
    put(attrs, sc.REQUEST_REASONING_LEVEL, _effort(response) or _effort(session))
    temperature = as_float(get(response, "temperature"))  # beta only; GA models have none
    put(attrs, sc.REQUEST_TEMPERATURE, temperature if temperature is not None else as_float(
        get(session, "temperature")))
    return attrs


def max_tokens(obj: Any) -> Optional[int]:
    """GA ``max_output_tokens``, beta session ``max_response_output_tokens``; ``"inf"`` is no limit."""
    found = as_int(get(obj, "max_output_tokens"))
    return found if found is not None else as_int(get(obj, "max_response_output_tokens"))


def modalities(obj: Any) -> Any:
    return get(obj, "output_modalities") or get(obj, "modalities")


def output_type(kinds: Any) -> Optional[str]:
    """``speech`` when audio is among the output modalities (it always comes with a transcript), else text."""
    if not isinstance(kinds, (list, tuple)):
        return None
    if "audio" in kinds:
        return sc.OUTPUT_TYPE_SPEECH
    return sc.OUTPUT_TYPE_TEXT if "text" in kinds else None


def _effort(obj: Any) -> Optional[str]:
    return as_str(enum_value(get(get(obj, "reasoning"), "effort")))


def audio_mime(session: Any, direction: str) -> Optional[str]:
    """The session's ``input`` or ``output`` audio MIME type: GA ``audio.{direction}.format.type``, beta
    ``{direction}_audio_format``."""
    ga = as_str(get(get(get(get(session, "audio"), direction), "format"), "type"))
    if ga:
        return ga
    beta = as_str(get(session, f"{direction}_audio_format"))
    return _AUDIO_MIME.get(beta, beta) if beta else None


# --- response -----------------------------------------------------------------------------------------


def response_attributes(response: Any) -> Attributes:
    """Id, conversation, output type, finish reason, failure and usage of a realtime ``response`` object."""
    attrs: Attributes = {}
    put(attrs, sc.RESPONSE_ID, as_str(get(response, "id")))
    put(attrs, sc.CONVERSATION_ID, as_str(get(response, "conversation_id")))
    put(attrs, sc.OUTPUT_TYPE, output_type(modalities(response)))
    reason = finish_reason(response)
    if reason:
        attrs[sc.RESPONSE_FINISH_REASONS] = [reason]
    if enum_value(get(response, "status")) == "failed":
        error = get(get(response, "status_details"), "error")
        attrs[sc.ERROR_TYPE] = as_str(get(error, "code")) or as_str(get(error, "type")) or "failed"
    attrs.update(usage_attributes(get(response, "usage")))
    return attrs


def finish_reason(response: Any) -> Optional[str]:
    """``stop``, ``tool_call``, the incomplete reason (``length``, ``content_filter``), the cancel reason
    (``turn_detected``, ``client_cancelled``), or ``error``; None while the generation runs."""
    status = as_str(enum_value(get(response, "status")))
    if status is None or status in _UNFINISHED:
        return None
    reason = as_str(enum_value(get(get(response, "status_details"), "reason")))
    if status == "completed":
        output = get(response, "output")
        calls = isinstance(output, (list, tuple)) and any(get(i, "type") == "function_call" for i in output)
        return FINISH_TOOL_CALL if calls else "stop"
    if status == "incomplete":
        return _INCOMPLETE_REASONS.get(reason or "", reason) or sc.FINISH_REASON_ERROR
    if status == "cancelled":
        return reason or sc.FINISH_REASON_ERROR
    return sc.FINISH_REASON_ERROR


# (details field, attribute): per-modality counts, each a subset of its total.
def usage_attributes(usage: Any) -> Attributes:
    """Totals, cache reads and the text/audio/image splits (cached ones too), through the shared usage
    reader: realtime spells its details ``input_token_details``, which the reader also finds."""
    return _usage.usage_attributes(usage, "input_tokens", "output_tokens")


# --- content (opt-in) ------------------------------------------------------------------------------------


def system_instructions(body: Mapping[str, Any], capture_media: bool) -> Messages:
    """The generation's instructions: ``response.create`` overrides the session's."""
    instructions = get(body.get("response"), "instructions") or get(body.get("session"), "instructions")
    return [parts.text(instructions)] if isinstance(instructions, str) and instructions else []


def tool_definitions(body: Mapping[str, Any]) -> Messages:
    """The generation's tools (``response.create`` overrides the session's): function tools with their
    name, description and parameters; MCP servers by label, never their headers or authorization."""
    tools = get(body.get("response"), "tools")
    if tools is None:
        tools = get(body.get("session"), "tools")
    if not isinstance(tools, (list, tuple)):
        return []
    return [_tool_definition(t) for t in tools]


def _tool_definition(tool: Any) -> dict[str, Any]:
    kind = as_str(get(tool, "type")) or "function"
    out: dict[str, Any] = {"type": kind, "name": get(tool, "name") or get(tool, "server_label") or kind}
    for key in ("description", "parameters", "server_url"):
        value = get(tool, key)
        if value is not None:
            out[key] = value
    return out


def input_messages(body: Mapping[str, Any], capture_media: bool) -> Messages:
    """Items added to the conversation since the previous generation, then ``response.create``'s own
    ``input`` (out-of-band items), one message each, in order."""
    session, transcripts = body.get("session"), body.get("transcripts") or {}
    mime = audio_mime(session, "input")
    items = [*(body.get("items") or ()), *(get(body.get("response"), "input") or ())]
    return [item_message(item, capture_media, mime, transcripts) for item in items]


def item_message(item: Any, capture_media: bool, mime: Optional[str],
                 transcripts: Mapping[Any, str]) -> dict[str, Any]:
    """One conversation item as a message: messages keep their role, function calls are the assistant's
    tool calls, function call outputs are tool messages; anything else keeps its type."""
    kind = as_str(get(item, "type"))
    if kind in (None, "message"):
        item_id, content = get(item, "id"), get(item, "content")
        found = [content_part(c, capture_media, mime, transcripts.get((item_id, i)))
                 for i, c in enumerate(content if isinstance(content, (list, tuple)) else ())]
        return {"role": str(get(item, "role") or "user"), "parts": found}
    if kind == "function_call":
        call = parts.tool_call(get(item, "call_id"), get(item, "name"), get(item, "arguments"))
        return {"role": "assistant", "parts": [call]}
    if kind == "function_call_output":
        return {"role": "tool", "parts": [parts.tool_call_response(get(item, "call_id"), get(item, "output"))]}
    return {"role": "assistant", "parts": [parts.generic(kind, _as_dict(item))]}


def content_part(content: Any, capture_media: bool, mime: Optional[str],
                 transcript: Optional[str] = None, audio: Any = None) -> parts.Part:
    """Text, audio (with its transcript), images and item references, GA and beta spellings."""
    kind = as_str(get(content, "type"))
    if kind in ("input_text", "output_text", "text"):
        return parts.text(get(content, "text"))
    if kind in ("input_audio", "output_audio", "audio"):
        data = get(content, "audio") if audio is None else audio
        return audio_part(data, mime, get(content, "transcript") or transcript, capture_media)
    if kind == "input_image":
        return parts.media("image", get(content, "image_url"), None, capture_media)
    return parts.generic(kind, _as_dict(content))


def audio_part(data: Any, mime: Optional[str], transcript: Optional[str], capture_media: bool) -> parts.Part:
    """An audio part with its transcript. ``data`` is the base64 audio, or its decoded size in bytes when
    only the size was kept (the withheld part); audio that never reached us (the server does not echo the
    user's audio back) is a withheld part without a size, saying so."""
    if isinstance(data, int) and not isinstance(data, bool):
        part = parts.withheld("audio", "", mime)
        part["byte_size"] = data
    elif isinstance(data, str) and data:
        part = parts.blob("audio", data, mime, capture_media)
    else:
        part = parts.withheld("audio", "", mime)
        del part["byte_size"]
        part["stripped_reason"] = AUDIO_NOT_RECEIVED
    if transcript:
        part["transcript"] = transcript
    return part


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, Mapping):
        return dict(obj)
    dump = getattr(obj, "model_dump", None)
    return dump(exclude_none=True, warnings=False) if dump is not None else {}


# --- one generation's events ------------------------------------------------------------------------------


class RealtimeAccumulator:
    """Folds one generation's server events. ``response.created`` and ``response.done`` carry everything
    but content; deltas are kept only when capturing (text and transcripts to report a generation cut
    short, audio as base64 pieces when media capture is on, else as a byte count). Never an output chunk
    for timing: the conventions give realtime generations no time-to-first-chunk."""

    __slots__ = ("_audio", "_capture", "_cut", "_final", "_items", "_keep_audio", "_latest", "_mime", "_model",
                 "_session_id", "_text", "_transcripts")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._keep_audio = False
        self._latest: Any = None
        self._final: Any = None
        self._cut: Optional[str] = None
        self._session_id: Optional[str] = None
        self._model: Optional[str] = None
        self._mime: Optional[str] = None
        self._items: dict[int, Any] = {}
        self._text: dict[Any, list[str]] = {}
        self._transcripts: dict[Any, list[str]] = {}
        self._audio: dict[Any, Any] = {}

    def bind(self, session: Any, keep_audio: bool) -> None:
        """The session it runs in (id, model, output audio format), known once ``session.created`` arrived;
        ``keep_audio`` keeps the audio itself rather than its size (media capture)."""
        self._session_id = as_str(get(session, "id"))
        self._model = as_str(get(session, "model"))
        self._mime = audio_mime(session, "output")
        self._keep_audio = keep_audio

    def cut(self, error_type: str) -> None:
        """The generation ends without ``response.done`` and without an exception (its WebSocket closed)."""
        self._cut = error_type

    def add(self, event: Any) -> bool:
        kind = event.type
        if kind == "response.done":
            self._final = self._latest = event.response
        elif kind == "response.created":
            self._latest = event.response
        elif self._capture:
            self._add_content(kind, event)
        return False

    def _add_content(self, kind: str, event: Any) -> None:
        if kind in AUDIO_DELTAS:
            self._add_audio(event)
        elif kind in TEXT_DELTAS or kind in TRANSCRIPT_DELTAS:
            pieces = self._text if kind in TEXT_DELTAS else self._transcripts
            delta = event.delta
            if isinstance(delta, str):
                pieces.setdefault((event.item_id, event.content_index), []).append(delta)
        elif kind == "response.output_item.done":
            self._items[event.output_index] = event.item

    def _add_audio(self, event: Any) -> None:
        delta, key = event.delta, (event.item_id, event.content_index)
        if not isinstance(delta, str):
            return
        if self._keep_audio:
            self._audio.setdefault(key, []).append(delta)
        else:  # decoded size only: each delta is base64 with its own padding
            size = len(delta) * 3 // 4 - delta.endswith("=") - delta.endswith("==")
            self._audio[key] = self._audio.get(key, 0) + size

    def attributes(self) -> Attributes:
        attrs = response_attributes(self._latest) if self._latest is not None else {}
        if self._final is None:
            # No response.done: a reason was expected and none came.
            attrs[sc.RESPONSE_FINISH_REASONS] = [sc.FINISH_REASON_ERROR]
        if self._cut is not None:
            attrs[sc.ERROR_TYPE] = self._cut
        put(attrs, sc.REALTIME_SESSION_ID, self._session_id)
        put(attrs, sc.RESPONSE_MODEL, self._model)
        return attrs

    def output_messages(self, capture_media: bool) -> Messages:
        items = get(self._final, "output") if self._final is not None else None
        if isinstance(items, (list, tuple)):
            found = [p for item in items for p in self._item_parts(item, capture_media)]
        else:
            found = self._partial_parts(capture_media)
        return [{"role": "assistant", "parts": found}] if found else []

    def _item_parts(self, item: Any, capture_media: bool) -> list[parts.Part]:
        if as_str(get(item, "type")) not in (None, "message"):
            return list(item_message(item, capture_media, self._mime, {})["parts"])
        item_id, content = get(item, "id"), get(item, "content")
        return [content_part(c, capture_media, self._mime, self._joined(self._transcripts, (item_id, i)),
                             self._audio_of((item_id, i)))
                for i, c in enumerate(content if isinstance(content, (list, tuple)) else ())]

    def _partial_parts(self, capture_media: bool) -> list[parts.Part]:
        """A generation cut short: finished items, then the text and audio of unfinished ones."""
        found = [p for _, item in sorted(self._items.items()) for p in self._item_parts(item, capture_media)]
        done = {get(item, "id") for item in self._items.values()}
        for key in dict.fromkeys([*self._text, *self._transcripts, *self._audio]):
            if key[0] in done:
                continue
            if key in self._text:
                found.append(parts.text(self._joined(self._text, key)))
            else:
                found.append(audio_part(self._audio_of(key), self._mime, self._joined(self._transcripts, key),
                                        capture_media))
        return found

    @staticmethod
    def _joined(pieces: dict[Any, list[str]], key: Any) -> Optional[str]:
        found = pieces.get(key)
        return "".join(found) if found else None

    def _audio_of(self, key: Any) -> Any:
        audio = self._audio.get(key)
        return "".join(audio) if isinstance(audio, list) else audio
