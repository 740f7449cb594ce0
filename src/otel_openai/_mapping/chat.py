"""Chat Completions (``POST /chat/completions``): request, response and chunk mapping."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any, Callable, Optional

from otel_openai import _semconv as sc
from otel_openai._content import json_object, json_piece, json_string, written
from otel_openai._mapping import _parts as parts
from otel_openai._mapping._common import (
    Attributes,
    as_float,
    as_int,
    as_str,
    as_str_list,
    copy_strings,
    enum_value,
    fields,
    get,
    put,
)
from otel_openai._mapping._usage import usage_attributes

_logger = logging.getLogger(__name__)

_JSON_FORMATS = frozenset({"json_object", "json_schema"})


def request_attributes(body: Mapping[str, Any]) -> Attributes:
    """Request parameters the caller actually sent (the SDK already dropped omitted ones). A body sends a
    few of them: its keys are walked once and each parameter present runs its own setter."""
    attrs: Attributes = {sc.OPENAI_API_TYPE: sc.API_TYPE_CHAT}
    for key, value in body.items():
        setter = _PARAMS.get(key)
        if setter is not None and value is not None:
            setter(attrs, value, body)
    return attrs


def _float_param(attribute: str) -> Any:
    def set_float(attrs: Attributes, value: Any, body: Mapping[str, Any]) -> None:
        if value.__class__ is float:  # the usual case, without the helpers' calls
            attrs[attribute] = value
        else:
            put(attrs, attribute, as_float(value))

    return set_float


def _max_completion_tokens(attrs: Attributes, value: Any, body: Mapping[str, Any]) -> None:
    put(attrs, sc.REQUEST_MAX_TOKENS, as_int(value))


def _max_tokens(attrs: Attributes, value: Any, body: Mapping[str, Any]) -> None:
    newer = body.get("max_completion_tokens")
    if newer is None or as_int(newer) is None:  # the newer parameter wins when both are valid
        put(attrs, sc.REQUEST_MAX_TOKENS, as_int(value))


def _stop(attrs: Attributes, value: Any, body: Mapping[str, Any]) -> None:
    put(attrs, sc.REQUEST_STOP_SEQUENCES, as_str_list(value))


def _seed(attrs: Attributes, value: Any, body: Mapping[str, Any]) -> None:
    put(attrs, sc.REQUEST_SEED, as_int(value))


def _choice_count(attrs: Attributes, value: Any, body: Mapping[str, Any]) -> None:
    n = as_int(value)
    if n is not None and n != 1:
        attrs[sc.REQUEST_CHOICE_COUNT] = n


def _stream(attrs: Attributes, value: Any, body: Mapping[str, Any]) -> None:
    if value is True:
        attrs[sc.REQUEST_STREAM] = True


def _output_type(attrs: Attributes, value: Any, body: Mapping[str, Any]) -> None:
    put(attrs, sc.OUTPUT_TYPE, output_type(body))  # modalities and response_format: set once, the same


def _reasoning(attrs: Attributes, value: Any, body: Mapping[str, Any]) -> None:
    put(attrs, sc.REQUEST_REASONING_LEVEL, as_str(value))


def _service_tier(attrs: Attributes, value: Any, body: Mapping[str, Any]) -> None:
    put(attrs, sc.OPENAI_REQUEST_SERVICE_TIER, requested_tier(body))


# Body key -> setter, run only for keys the body has (with a value).
_PARAMS: dict[str, Any] = {
    "temperature": _float_param(sc.REQUEST_TEMPERATURE),
    "top_p": _float_param(sc.REQUEST_TOP_P),
    "frequency_penalty": _float_param(sc.REQUEST_FREQUENCY_PENALTY),
    "presence_penalty": _float_param(sc.REQUEST_PRESENCE_PENALTY),
    "max_completion_tokens": _max_completion_tokens,
    "max_tokens": _max_tokens,
    "stop": _stop,
    "seed": _seed,
    "n": _choice_count,
    "stream": _stream,
    "modalities": _output_type,
    "response_format": _output_type,
    "reasoning_effort": _reasoning,
    "service_tier": _service_tier,
}


def requested_tier(body: Mapping[str, Any]) -> Optional[str]:
    """``service_tier`` unless it is ``auto``, the default that says nothing."""
    tier = as_str(body.get("service_tier"))
    return tier if tier != "auto" else None


def output_type(body: Mapping[str, Any]) -> Optional[str]:
    modalities = body.get("modalities")
    if isinstance(modalities, (list, tuple)) and "audio" in modalities:
        return "speech"
    return format_output_type(body.get("response_format"))


def format_output_type(response_format: Any) -> Optional[str]:
    """``text`` or ``json`` for a ``{"type": ...}`` format (chat ``response_format``, Responses ``text.format``)."""
    kind = as_str(get(response_format, "type"))  # odd payloads may hold unhashable values
    if kind == "text":
        return "text"
    if kind in _JSON_FORMATS:
        return "json"
    return None


def response_attributes(response: Any) -> Attributes:
    """Id, model, finish reasons, fingerprint, service tier and usage of a ``ChatCompletion``."""
    values = fields(response)  # one read of the model's fields for all of them
    attrs: Attributes = {}
    copy_strings(attrs, values, _COMMON_RESPONSE_FIELDS)
    choices = values.get("choices")
    if choices.__class__ is list and len(choices) == 1:  # the usual single choice: no sort, no comprehension
        choice = choices[0]
        reason = (choice if choice.__class__ is dict else fields(choice)).get("finish_reason")
        attrs[sc.RESPONSE_FINISH_REASONS] = [reason if reason.__class__ is str and reason
                                             else reason_or_error(reason)]
    else:
        reasons = finish_reasons(choices)
        if reasons:
            attrs[sc.RESPONSE_FINISH_REASONS] = reasons
    usage_attributes(values.get("usage"), "prompt_tokens", "completion_tokens", into=attrs)
    return attrs


_COMMON_RESPONSE_FIELDS = (
    ("id", sc.RESPONSE_ID),
    ("model", sc.RESPONSE_MODEL),
    ("system_fingerprint", sc.OPENAI_RESPONSE_SYSTEM_FINGERPRINT),
    ("service_tier", sc.OPENAI_RESPONSE_SERVICE_TIER),
)


def common_response_attributes(obj: Any) -> Attributes:
    """The fields a completion and each of its chunks share (``obj`` may be a model or its ``fields``)."""
    attrs: Attributes = {}
    copy_strings(attrs, obj, _COMMON_RESPONSE_FIELDS)
    return attrs


def finish_reasons(choices: Any) -> list[str]:
    """One reason per choice in index order; a choice that reports none says ``error``."""
    if not isinstance(choices, (list, tuple)):
        return []
    ordered = choices if len(choices) < 2 else sorted(choices, key=lambda c: as_int(get(c, "index")) or 0)
    return [reason_or_error(get(c, "finish_reason")) for c in ordered]


def reason_or_error(reason: Any) -> str:
    """A reported finish reason as text; a position where none arrived (a cut stream, a failed generation,
    a provider's null) reports ``error``, as the conventions ask, rather than being left out."""
    value = enum_value(reason)
    return str(value) if value else sc.FINISH_REASON_ERROR


def stream_finish_reasons(finish: dict[int, Any], choices: int) -> list[str]:
    """Streamed reasons in index order, ``error`` for every choice that ended without one (a stream cut
    short or failed); a stream that ended before its first choice still owed one reason."""
    count = max(choices, max(finish, default=-1) + 1, 1)
    return [reason_or_error(finish.get(i)) for i in range(count)]


def tool_calls(response: Any) -> list[tuple[str, str]]:
    """(id, name) of every function tool call in a ``ChatCompletion``, in choice and call order; not content,
    so read whatever the capture setting (the Agents SDK processor gives each id to its tool span)."""
    choices = get(response, "choices")
    found: list[tuple[str, str]] = []
    for choice in choices if isinstance(choices, (list, tuple)) else ():
        calls = get(get(choice, "message"), "tool_calls")
        for call in calls if isinstance(calls, (list, tuple)) else ():
            call_id, name = as_str(get(call, "id")), as_str(get(get(call, "function"), "name"))
            if call_id and name:
                found.append((call_id, name))
    return found


# --- content (opt-in) ---------------------------------------------------------------------------


def input_messages(body: Mapping[str, Any], capture_media: bool) -> list[dict[str, Any]]:
    """``messages`` as GenAI input messages, in the order sent; system/developer messages included."""
    messages = body.get("messages")
    if not isinstance(messages, (list, tuple)):
        return []
    return [input_message(m, capture_media) for m in messages]


def input_message(m: Any, capture_media: bool) -> dict[str, Any]:
    """One item of ``messages`` as a GenAI message."""
    if m.__class__ is dict and len(m) == 2:  # the usual {"role": ..., "content": "text"}: built as is
        role, content = m.get("role"), m.get("content")
        if content.__class__ is str and role.__class__ is str and role and role != "tool" and role != "function":
            return {"role": role, "parts": [{"type": "text", "content": content}]}
    return _input_message(parts.reader(m), capture_media)


def _input_message(read: parts.Reader, capture_media: bool) -> dict[str, Any]:
    role = parts.role(read("role"), "user")
    if role in ("tool", "function"):
        call_id = read("tool_call_id") if role == "tool" else read("name")
        msg_parts = [parts.tool_call_response(call_id, _tool_result(read("content"), capture_media))]
    else:
        msg_parts = _message_parts(read, capture_media, False)
        audio = read("audio")
        if audio is not None:  # an earlier audio answer, sent back by id
            msg_parts.append(parts.generic("audio", {"id": get(audio, "id")}))
    out: dict[str, Any] = {"role": role, "parts": msg_parts}
    name = read("name")
    if isinstance(name, str) and name and role != "function":
        out["name"] = name
    return out


def _tool_result(content: Any, capture_media: bool) -> Any:
    """A tool message's content: its text as sent, or its list of parts as GenAI parts (media withheld)."""
    return content if content is None or isinstance(content, str) else parts.content_parts(content, capture_media)


def _message_parts(read: parts.Reader, capture_media: bool, model: bool) -> list[parts.Part]:
    """Content, tool calls and refusal of a user, system or assistant message, in that order; ``model``: its
    tool calls are SDK models (a response's), read by ``fields``."""
    content = read("content")
    if content.__class__ is str:  # the usual text content, without the helpers' calls
        msg_parts: list[parts.Part] = [{"type": "text", "content": content}]
    else:
        msg_parts = parts.content_parts(content, capture_media)
    calls, legacy = read("tool_calls"), read("function_call")
    if calls or legacy is not None:
        _add_tool_call_parts(msg_parts, calls, legacy, model)
    refusal = read("refusal")
    if refusal:
        msg_parts.append(parts.generic("refusal", {"content": refusal}))
    return msg_parts


def _add_tool_call_parts(found: list[parts.Part], calls: Any, legacy: Any, model: bool) -> None:
    if isinstance(calls, (list, tuple)):
        for call in calls:
            read = call.get if call.__class__ is dict else fields(call).get if model else parts.reader(call)
            function = read("function") or read("custom")
            read_function: parts.Reader
            if function.__class__ is dict:
                read_function = function.get
            else:
                read_function = fields(function).get if model else parts.reader(function)
            call_id, name, arguments = read("id"), read_function("name"), read_function("arguments")
            if arguments is None:
                arguments = read_function("input")
            # parts.tool_call, inlined
            part: parts.Part = {"type": "tool_call"}
            if isinstance(call_id, str):
                part["id"] = call_id
            part["name"] = name if isinstance(name, str) else ""
            if arguments is not None:
                part["arguments"] = json_object(arguments)
            found.append(part)
    if legacy is not None:
        found.append(parts.tool_call(None, get(legacy, "name"), get(legacy, "arguments")))


def output_messages(response: Any, capture_media: bool) -> list[dict[str, Any]]:
    """One assistant message per choice, in index order."""
    choices = get(response, "choices")
    if not isinstance(choices, (list, tuple)):
        return []
    ordered = choices if len(choices) < 2 else sorted(choices, key=lambda c: as_int(get(c, "index")) or 0)
    return [_output_message(c, capture_media) for c in ordered]


def _output_message(choice: Any, capture_media: bool) -> dict[str, Any]:
    read = fields((choice if choice.__class__ is dict else fields(choice)).get("message")).get
    content, role = read("content"), read("role")
    if content.__class__ is str and role.__class__ is str and role and not read("tool_calls") \
            and read("function_call") is None and not read("refusal") and read("audio") is None:
        return {"role": role, "parts": [{"type": "text", "content": content}]}  # the usual answer: built as is
    msg_parts = _message_parts(read, capture_media, True)
    audio = read("audio")
    if audio is not None:
        msg_parts.append(_audio_output(audio, capture_media))
    # No per-message finish_reason: deprecated, it is in gen_ai.response.finish_reasons.
    return {"role": role if role.__class__ is str and role else parts.role(role, "assistant"), "parts": msg_parts}


def output_json(response: Any, limit: int) -> Optional[str]:
    """The span's output messages of the usual answer (one choice: text, function tool calls, or both) written
    as JSON directly: what ``bounded_json(output_messages(response, media), limit)`` gives, without building
    the messages and encoding them. None for any other answer, which goes that way.

    Reads SDK models by attribute (a field, or a pydantic extra, as ``fields`` would give it); anything else
    (a dict, a field missing) raises ``AttributeError``, and goes the general way too."""
    try:
        choices = response.choices
        if choices.__class__ is not list or len(choices) != 1:
            return None
        read = fields(choices[0].message).get  # its extras too: an older SDK leaves ``refusal`` or ``audio`` there
        role, content, calls = read("role"), read("content"), read("tool_calls")
        if role.__class__ is not str or not role or read("refusal") or read("audio") is not None \
                or read("function_call") is not None:
            return None
        if content.__class__ is str:
            found = ['{"type":"text","content":' + json_string(content) + "}"]
        elif content is None:
            found = []
        else:
            return None
        if calls:
            if calls.__class__ is not list:
                return None
            for call in calls:
                # A function call with an id, a name and arguments, as ``_add_tool_call_parts`` writes it.
                call_id, function = call.id, call.function
                name, arguments = function.name, function.arguments
                if call_id.__class__ is not str or name.__class__ is not str or arguments is None:
                    return None
                found.append('{"type":"tool_call","id":' + json_string(call_id) + ',"name":' + json_string(name)
                             + ',"arguments":' + json_piece(json_object(arguments)) + "}")
    except AttributeError:
        return None
    return written('[{"role":' + json_string(role) + ',"parts":[' + ",".join(found) + "]}]", limit)


def _audio_output(audio: Any, capture_media: bool) -> parts.Part:
    part = parts.blob("audio", get(audio, "data") or "", None, capture_media)
    transcript = get(audio, "transcript")
    if transcript:
        part["transcript"] = transcript
    return part


def tool_definitions(body: Mapping[str, Any], capture_media: bool = False) -> list[dict[str, Any]]:
    """``tools=`` as GenAI tool definitions (``capture_media`` unused: the signature of the other content)."""
    tools = body.get("tools")
    if not isinstance(tools, (list, tuple)):
        return []
    return [tool_definition(t) for t in tools]


def tool_definition(tool: Any) -> dict[str, Any]:
    """``{"type": "function", "function": {...}}`` (or ``custom``) as a definition whose name is always set."""
    read = tool.get if tool.__class__ is dict else parts.reader(tool)
    kind = read("type")
    kind = kind if isinstance(kind, str) and kind else "function"
    spec = read(kind)
    read = spec.get if spec.__class__ is dict else parts.reader(spec)
    name = read("name")
    out: dict[str, Any] = {"type": kind, "name": name if isinstance(name, str) and name else kind}
    return _tool_details(out, read)


def tool_details(out: dict[str, Any], spec: Any) -> dict[str, Any]:
    """A tool's description and parameters where the schema accepts them (a string; a JSON Schema, i.e. an
    object or a boolean), plus its ``strict`` and ``format`` settings."""
    return _tool_details(out, parts.reader(spec))


def _tool_details(out: dict[str, Any], read: parts.Reader) -> dict[str, Any]:
    description, parameters = read("description"), read("parameters")
    if isinstance(description, str):
        out["description"] = description
    if isinstance(parameters, (dict, bool)):
        out["parameters"] = parameters
    strict, fmt = read("strict"), read("format")
    if strict is not None:
        out["strict"] = strict
    if fmt is not None:
        out["format"] = fmt
    return out


# --- streaming ------------------------------------------------------------------------------------


class ChatAccumulator:
    """Folds ``ChatCompletionChunk``s into span attributes, reading a few fields per chunk.

    Text and tool-call fragments are only kept when content capture is on; they are appended to lists
    and joined once at the end, so no per-chunk object is built.
    """

    __slots__ = ("_capture", "_choices", "_delta", "_finish", "_first", "_ids", "_refusal", "_text", "_tools",
                 "_usage")

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._first: Any = None
        self._usage: Any = None
        # Choices seen so far (highest index + 1): each is a position that owes a finish reason.
        self._choices = 0
        self._finish: dict[int, str] = {}
        self._text: dict[int, list[str]] = {}
        self._refusal: dict[int, list[str]] = {}
        self._tools: dict[int, dict[int, list[Any]]] = {}
        # Tool-call ids and names without content capture: only when someone asked for them.
        self._ids: Optional[dict[int, list[Any]]] = None
        # What reads each delta: the content (capture on), the tool calls' ids (tracked), or nothing; one check
        # per chunk. Plain functions, not bound methods: no reference cycle per stream.
        self._delta: Optional[Callable[[ChatAccumulator, int, Any], None]] = (
            ChatAccumulator._add_delta if capture else None)

    def track_tool_calls(self) -> None:
        """Keep each tool call's id and name even with content capture off (see ``tool_calls``)."""
        if not self._capture:
            self._ids = {}
            self._delta = ChatAccumulator._add_ids

    def add(self, chunk: Any) -> bool:
        # Per chunk, the fields are read from the model's ``__dict__``: an attribute read on an SDK model goes
        # through pydantic's ``__getattr__`` hook (hundreds of instructions each), a dict lookup does not.
        try:
            values = chunk.__dict__
            (one,) = values["choices"]  # exactly one choice, the usual case; anything else takes ``_add``
            one = one.__dict__
            usage = values["usage"]  # absent from some SDKs' chunks: ``_add`` finds it among the extras
        except (AttributeError, KeyError, TypeError, ValueError):
            return self._add(chunk)
        if usage is not None:
            self._usage = usage
        if self._first is None and values.get("id"):
            self._first = chunk
        index = one["index"]
        if index >= self._choices:
            self._choices = index + 1
        reason = one["finish_reason"]
        if reason is not None:
            self._finish[index] = reason
        if self._delta is not None:
            self._delta(self, index, one["delta"])
        return True

    def fold(self, source: Iterator[Any]) -> Iterator[Any]:
        """Yield the rest of a stream's chunks, each folded in as ``add`` would, from the first output chunk on.
        The usual chunk (one choice, index 0, no finish reason, no usage) is read here, inline: a call per
        chunk would cost more than the reads. Any other chunk goes to ``add`` (or ``_add``). Our errors are
        logged and swallowed; the source's own propagate unchanged."""
        if self._first is None:  # no chunk with an id yet: ``add`` keeps looking for one
            for chunk in source:
                try:
                    self.add(chunk)
                except Exception:
                    _logger.debug("otel-openai: chunk not recorded", exc_info=True)
                yield chunk
            return
        delta = self._delta  # set before the stream starts (``track_tool_calls``)
        for chunk in source:
            try:
                values = chunk.__dict__
                (one,) = values["choices"]
                one = one.__dict__
                usual = values["usage"] is None and one["finish_reason"] is None and not one["index"]
            except Exception:  # another shape: the usage-only chunk has no choice, an old SDK's no ``__dict__``
                usual = None
            try:
                if usual:
                    if delta is not None:
                        delta(self, 0, one["delta"])
                elif usual is None:
                    self._add(chunk)  # by attribute: ``add`` would fail the same way first
                else:
                    self.add(chunk)
            except Exception:
                _logger.debug("otel-openai: chunk not recorded", exc_info=True)
            yield chunk

    def _add(self, chunk: Any) -> bool:
        """``add`` by attribute: any chunk shape (several choices, none, other SDK versions)."""
        if self._first is None and chunk.id:
            # Azure opens with a prompt-filter chunk whose id and model are empty; skip it.
            self._first = chunk
        usage = chunk.usage
        if usage is not None:
            self._usage = usage
        choices = chunk.choices
        for choice in choices:
            index = choice.index
            if index >= self._choices:
                self._choices = index + 1
            reason = choice.finish_reason
            if reason is not None:
                self._finish[index] = reason
            if self._capture:
                self._add_delta(index, choice.delta)
            elif self._ids is not None:
                self._add_ids(index, choice.delta)
        # The usage-only last chunk and Azure's prompt-filter first chunk have no choices: not output.
        return bool(choices)

    def _add_delta(self, index: int, delta: Any) -> None:
        if delta is None:
            return
        try:  # the delta's fields in one read, as ``add`` reads the chunk's
            values = delta.__dict__
            content, refusal, calls = values["content"], values.get("refusal"), values["tool_calls"]
        except (AttributeError, KeyError):
            # Refusals stream as their own fragments; getattr because SDKs before 1.40 lack the field.
            content, refusal, calls = delta.content, getattr(delta, "refusal", None), delta.tool_calls
        if content:
            text = self._text.get(index)
            if text is None:
                text = self._text[index] = []
            text.append(content)
        if refusal:
            self._refusal.setdefault(index, []).append(refusal)
        if calls:
            slots = self._tools.setdefault(index, {})
            for call in calls:
                self._add_tool_fragment(slots, call)

    @staticmethod
    def _add_tool_fragment(slots: dict[int, list[Any]], call: Any) -> None:
        # [id, name, argument fragments]; later fragments often carry None for id and name.
        slot = slots.setdefault(call.index if call.index is not None else len(slots), [None, None, []])
        if call.id:
            slot[0] = call.id
        function = call.function
        if function is not None:
            if function.name:
                slot[1] = function.name
            if function.arguments:
                slot[2].append(function.arguments)

    def _add_ids(self, index: int, delta: Any) -> None:
        calls = delta.tool_calls if delta is not None else None
        for call in calls or ():
            # One slot list per call index, shaped like the capture path's, which tool_calls() reads alike.
            slot = self._ids.setdefault(call.index or 0, [None, None])  # type: ignore[union-attr]
            if call.id:
                slot[0] = call.id
            if call.function is not None and call.function.name:
                slot[1] = call.function.name

    def tool_calls(self) -> list[tuple[str, str]]:
        """(id, name) of the streamed tool calls, in order (tracked, or captured with content)."""
        if self._ids is not None:
            slots = [self._ids[i] for i in sorted(self._ids)]
        else:
            slots = [slot for choice in sorted(self._tools) for _, slot in sorted(self._tools[choice].items())]
        return [(slot[0], slot[1]) for slot in slots if slot[0] and slot[1]]

    def attributes(self) -> Attributes:
        attrs = common_response_attributes(self._first) if self._first is not None else {}
        attrs[sc.RESPONSE_FINISH_REASONS] = stream_finish_reasons(self._finish, self._choices)
        attrs.update(usage_attributes(self._usage, "prompt_tokens", "completion_tokens"))
        return attrs

    def output_messages(self, capture_media: bool) -> list[dict[str, Any]]:
        indexes = sorted(set(self._finish) | set(self._text) | set(self._refusal) | set(self._tools))
        return [self._message(i) for i in indexes]

    def _message(self, index: int) -> dict[str, Any]:
        msg_parts: list[parts.Part] = []
        if index in self._text:
            msg_parts.append(parts.text("".join(self._text[index])))
        for _, (call_id, name, fragments) in sorted(self._tools.get(index, {}).items()):
            msg_parts.append(parts.tool_call(call_id, name, "".join(fragments)))
        if index in self._refusal:
            msg_parts.append(parts.generic("refusal", {"content": "".join(self._refusal[index])}))
        return {"role": "assistant", "parts": msg_parts}
