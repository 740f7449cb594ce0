"""Responses API (``POST /responses``, ``GET /responses/{id}``, ``POST /responses/compact``): request, response
and event mapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Callable, Optional

from opentelemetry.util.types import AttributeValue

from otel_openai import _semconv as sc
from otel_openai._mapping import _parts as parts
from otel_openai._mapping import chat
from otel_openai._mapping._common import Attributes, as_float, as_int, as_str, enum_value, fields, get, put
from otel_openai._mapping._usage import usage_attributes

# Items the model produced for the user's own tools; every other ``*_call`` ran on OpenAI's side.
_CLIENT_CALLS = frozenset({"function_call", "custom_tool_call"})
_CLIENT_OUTPUTS = frozenset({"function_call_output", "custom_tool_call_output"})
# Events that carry the whole ``Response`` object so far.
_RESPONSE_EVENTS = frozenset({"response.created", "response.in_progress", "response.queued"})
_FINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})
_UNFINISHED = frozenset({"queued", "in_progress"})
# Incomplete reasons in the chat vocabulary the conventions use (``content_filter`` is already one).
_INCOMPLETE_REASONS = {"max_output_tokens": "length"}
# Fields of a built-in tool's item that hold what it produced (the rest is what it was asked).
_TOOL_RESULTS = frozenset({"outputs", "results", "output", "error"})
# Tool definition fields that are not settings to report: the definition's own keys, and credentials.
_NOT_SETTINGS = frozenset({"type", "name", "authorization", "headers"})


# --- request --------------------------------------------------------------------------------------


def retrieve_body(options: Any) -> Mapping[str, Any]:
    """``GET /responses/{id}`` has no body: the id comes from the path, ``stream`` and the stream cursor
    ``starting_after`` from the query."""
    body: dict[str, Any] = {}
    url = getattr(options, "url", None)
    if isinstance(url, str):
        body["response_id"] = url.partition("?")[0].rpartition("/")[2]
    params = getattr(options, "params", None)
    if params.__class__ is dict or isinstance(params, Mapping):  # a dict skips the ABC check
        if params.get("stream") in (True, "true"):
            body["stream"] = True
        cursor = params.get("starting_after")
        if isinstance(cursor, (int, str)) and not isinstance(cursor, bool):
            body["starting_after"] = str(cursor)
    return body


def fetch_request_attributes(body: Mapping[str, Any]) -> Attributes:
    """``fetch_response``: the fetched response's id (required by the conventions, known even when the
    fetch fails), the stream flag and the stream cursor of a resumed stream."""
    attrs: Attributes = {sc.OPENAI_API_TYPE: sc.API_TYPE_RESPONSES}
    put(attrs, sc.RESPONSE_ID, as_str(body.get("response_id")))
    if body.get("stream") is True:
        attrs[sc.REQUEST_STREAM] = True
    cursor = body.get("starting_after")  # only a resumed stream has one
    if cursor is not None:
        put(attrs, sc.REQUEST_STREAM_CURSOR, as_str(cursor))
    return attrs


def request_attributes(body: Mapping[str, Any]) -> Attributes:
    """Request parameters the caller sent; nested ones (``reasoning.effort``, ``text.format``) included."""
    attrs: Attributes = {sc.OPENAI_API_TYPE: sc.API_TYPE_RESPONSES}
    # A table walk: an absent parameter (most of them, on most calls) costs one dict read and no call.
    for key, attribute, convert in _REQUEST_PARAMETERS:
        value = body.get(key)
        if value is not None:
            value = convert(value)
            if value is not None:
                attrs[attribute] = value
    return attrs


def _stream_flag(value: Any) -> Optional[bool]:
    return True if value is True else None


def _reasoning_level(reasoning: Any) -> Optional[str]:
    return as_str(get(reasoning, "effort"))


def _output_type(text: Any) -> Optional[str]:
    fmt = get(text, "format")
    return chat.format_output_type(fmt) if fmt is not None else None


def _requested_tier(tier: Any) -> Optional[str]:
    """``service_tier`` unless it is ``auto``, the default that says nothing (as ``chat.requested_tier``)."""
    text = as_str(tier)
    return text if text != "auto" else None


def _conversation_id(conversation: Any) -> Optional[str]:
    return as_str(conversation) or as_str(get(conversation, "id"))


# (body key, attribute, conversion of a present value to the attribute's value or None), in report order.
_REQUEST_PARAMETERS: tuple[tuple[str, str, Callable[[Any], Optional[AttributeValue]]], ...] = (
    ("temperature", sc.REQUEST_TEMPERATURE, as_float),
    ("top_p", sc.REQUEST_TOP_P, as_float),
    ("max_output_tokens", sc.REQUEST_MAX_TOKENS, as_int),
    ("stream", sc.REQUEST_STREAM, _stream_flag),
    ("reasoning", sc.REQUEST_REASONING_LEVEL, _reasoning_level),
    ("previous_response_id", sc.REQUEST_PREVIOUS_RESPONSE_ID, as_str),
    ("conversation", sc.CONVERSATION_ID, _conversation_id),
    ("text", sc.OUTPUT_TYPE, _output_type),
    ("service_tier", sc.OPENAI_REQUEST_SERVICE_TIER, _requested_tier),
)


# --- response -------------------------------------------------------------------------------------


def response_attributes(response: Any) -> Attributes:
    """Id, model, status as finish reason, service tier, conversation and usage of a ``Response``."""
    values = fields(response)  # one read of the model's fields for all of them
    attrs = _outcome_attributes(values)
    attrs.update(usage_attributes(values.get("usage"), "input_tokens", "output_tokens"))
    return attrs


def fetch_attributes(response: Any) -> Attributes:
    """A fetched ``Response`` (``fetch_response``): what it was and how it ended, plus its lifecycle status,
    but no token usage: fetching performs no inference, and reporting the stored usage again would count
    the same tokens once per poll."""
    values = fields(response)
    attrs = _outcome_attributes(values)
    put(attrs, sc.RESPONSE_STATUS, as_str(enum_value(values.get("status"))))
    return attrs


def compact_attributes(response: Any) -> Attributes:
    """A ``CompactedResponse`` (``POST /responses/compact``): its id and the usage of the compaction pass.
    It has no status, model or finish reason to report."""
    values = fields(response)
    attrs = chat.common_response_attributes(values)
    attrs.update(usage_attributes(values.get("usage"), "input_tokens", "output_tokens"))
    return attrs


def _outcome_attributes(values: Mapping[str, Any]) -> Attributes:
    """What a response was and how it ended, from its ``fields``."""
    attrs = chat.common_response_attributes(values)  # a Response has no system_fingerprint to copy
    conversation = values.get("conversation")
    if conversation is not None:
        put(attrs, sc.CONVERSATION_ID, _conversation_id(conversation))
    reason = _finish_reason(values)
    if reason:
        attrs[sc.RESPONSE_FINISH_REASONS] = [reason]
    if values.get("status") == "failed":
        attrs[sc.ERROR_TYPE] = as_str(get(values.get("error"), "code")) or "failed"
    return attrs


def finish_reason(response: Any) -> Optional[str]:
    """The chat-style reason for a response's status: ``stop`` or ``tool_calls`` when completed, the
    incomplete reason (``max_output_tokens`` as ``length``, ``content_filter``), ``error`` for a failed or
    cancelled response (the conventions' word for a generation that ended abnormally), or None while it
    is queued or in progress, or when the server sent no status at all."""
    return _finish_reason(fields(response))


def _finish_reason(values: Mapping[str, Any]) -> Optional[str]:
    status = values.get("status")
    if status.__class__ is not str:  # the SDK sends plain strings; anything else goes the long way
        status = as_str(enum_value(status))
    if status == "completed":
        for item in values.get("output") or ():
            if _kind(item) in _CLIENT_CALLS:
                return "tool_calls"
        return "stop"
    if status == "incomplete":
        reason = as_str(enum_value(get(values.get("incomplete_details"), "reason")))
        return _INCOMPLETE_REASONS.get(reason, reason) if reason else sc.FINISH_REASON_ERROR
    # A background response that is still queued or running has not finished yet.
    if not status or status in _UNFINISHED:
        return None
    return sc.FINISH_REASON_ERROR


def tool_calls(response: Any) -> list[tuple[str, str]]:
    """(call_id, name) of the calls a ``Response`` asks the user's tools to make, in output order; not content
    (the Agents SDK processor gives each id to its tool span)."""
    found: list[tuple[str, str]] = []
    for item in get(response, "output") or ():
        if _kind(item) in _CLIENT_CALLS:
            call_id, name = as_str(get(item, "call_id")), as_str(get(item, "name"))
            if call_id and name:
                found.append((call_id, name))
    return found


# --- content (opt-in) -----------------------------------------------------------------------------


def system_instructions(body: Mapping[str, Any], capture_media: bool) -> list[dict[str, Any]]:
    """``instructions=`` as parts: a string, or (newer SDKs) a list of input items."""
    instructions = body.get("instructions")
    if isinstance(instructions, str):
        return [{"type": "text", "content": instructions}]
    if isinstance(instructions, (list, tuple)):
        found: list[dict[str, Any]] = []
        for item in instructions:
            found.extend(item_parts(item, capture_media))
        return found
    return []


def input_messages(body: Mapping[str, Any], capture_media: bool) -> list[dict[str, Any]]:
    """``input`` as GenAI messages: a string is one user message; each item becomes one message."""
    items = body.get("input")
    if isinstance(items, str):
        return [{"role": "user", "parts": [{"type": "text", "content": items}]}]
    if not isinstance(items, (list, tuple)):
        return []
    return [input_item(item, capture_media) for item in items]


def input_item(item: Any, capture_media: bool) -> dict[str, Any]:
    """One item of a list ``input`` as a GenAI message."""
    if item.__class__ is dict and len(item) == 2:  # the usual {"role": ..., "content": "text"}: built as is
        role, content = item.get("role"), item.get("content")
        if content.__class__ is str and role.__class__ is str and role:
            return {"role": role, "parts": [{"type": "text", "content": content}]}
    return {"role": item_role(item), "parts": item_parts(item, capture_media)}


def _kind(item: Any) -> Any:
    """The item's ``type``; anything but a string (a malformed item) reads as an unknown kind."""
    kind = get(item, "type")
    return kind if kind is None or isinstance(kind, str) else "unknown"


def item_role(item: Any) -> str:
    kind = _kind(item)
    if kind in _CLIENT_OUTPUTS:
        return "tool"
    return parts.role(get(item, "role"), "assistant") if kind in (None, "message") else "assistant"


def item_parts(item: Any, capture_media: bool) -> list[parts.Part]:
    """One input or output item as parts: messages keep their content; calls become tool-call parts."""
    kind = _kind(item)
    if kind in (None, "message"):
        return parts.content_parts(get(item, "content"), capture_media)
    if kind == "function_call":
        return [parts.tool_call(get(item, "call_id"), get(item, "name"), get(item, "arguments"))]
    if kind == "custom_tool_call":
        return [parts.tool_call(get(item, "call_id"), get(item, "name"), get(item, "input"))]
    if kind in _CLIENT_OUTPUTS:
        return [parts.tool_call_response(get(item, "call_id"), _tool_output(get(item, "output"), capture_media))]
    if kind == "reasoning":
        return _reasoning_parts(item)
    if kind == "compaction":
        return [_compaction(item)]
    if isinstance(kind, str) and kind.endswith("_call"):
        return _server_tool_call(item, kind, capture_media)
    return [parts.generic(kind, _as_dict(item))]


def _tool_output(output: Any, capture_media: bool) -> Any:
    """A function call's output: text as sent, or a list of input content (text, images, files) as parts."""
    return output if output is None or isinstance(output, str) else parts.content_parts(output, capture_media)


def _reasoning_parts(item: Any) -> list[parts.Part]:
    """The summary (and, for open models, the reasoning text) of a reasoning item; its encrypted content is
    opaque and never exported. A reasoning item with no readable text is kept as a generic part."""
    found = [parts.reasoning(get(s, "text")) for s in [*_items(get(item, "summary")), *_items(get(item, "content"))]]
    if not found:
        found.append(parts.generic("reasoning", {"id": get(item, "id")} if isinstance(get(item, "id"), str) else None))
    return found


def _items(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _compaction(item: Any) -> parts.Part:
    """Compacted conversation state: only its id is readable (the content is encrypted)."""
    part: parts.Part = {"type": "compaction"}
    if isinstance(get(item, "id"), str):
        part["id"] = get(item, "id")
    return part


def _server_tool_call(item: Any, kind: str, capture_media: bool) -> list[parts.Part]:
    """A built-in tool OpenAI ran (web search, code interpreter, ...): a ``server_tool_call`` part with what it
    was asked, then a ``server_tool_call_response`` part with what it produced (outputs, results, errors), both
    typed with the tool's name as in the conventions' examples. An image generation's image follows as its own
    image part (a blob, withheld unless media capture is on)."""
    name = kind[: -len("_call")]
    details = _as_dict(item)
    call: dict[str, Any] = {"type": name}
    response: dict[str, Any] = {"type": name}
    for key, value in details.items():
        if key not in ("type", "id", "status", "result"):
            (response if key in _TOOL_RESULTS else call)[key] = value
    found: list[parts.Part] = [_server_part("server_tool_call", item, {"name": name, "server_tool_call": call})]
    if len(response) > 1:
        found.append(_server_part("server_tool_call_response", item, {"server_tool_call_response": response}))
    result = get(item, "result")
    if kind == "image_generation_call" and isinstance(result, str):
        found.append(parts.blob("image", result, _image_mime(get(item, "output_format")), capture_media))
    return found


def _server_part(kind: str, item: Any, fields: dict[str, Any]) -> parts.Part:
    part: parts.Part = {"type": kind}
    if isinstance(get(item, "id"), str):
        part["id"] = get(item, "id")
    part.update(fields)
    return part


def _image_mime(fmt: Any) -> Optional[str]:
    return f"image/{fmt}" if isinstance(fmt, str) and fmt else None


def _as_dict(item: Any) -> dict[str, Any]:
    if isinstance(item, Mapping):
        return dict(item)
    dump = getattr(item, "model_dump", None)
    # warnings=False: a malformed server item must not make pydantic warn into the user's logs.
    return dump(exclude_none=True, warnings=False) if dump is not None else {}


def output_messages(response: Any, capture_media: bool) -> list[dict[str, Any]]:
    """The output items as one assistant message, in order, with the response's finish reason."""
    output = get(response, "output")
    if not isinstance(output, (list, tuple)):
        return []
    msg_parts: list[parts.Part] = []
    for item in output:
        values = fields(item)  # an SDK model (or a dict): its fields read once
        content = values.get("content")
        if values.get("type") == "message" and content.__class__ is list:  # the usual message, parts inline
            for part in content:
                read = (part if part.__class__ is dict else fields(part)).get
                text = read("text")
                if read("type") == "output_text" and text.__class__ is str:
                    msg_parts.append({"type": "text", "content": text})
                else:
                    msg_parts.append(parts.content_part(part, capture_media))
        else:
            msg_parts.extend(item_parts(item, capture_media))
    # No per-message finish_reason: deprecated, it is in gen_ai.response.finish_reasons.
    return [{"role": "assistant", "parts": msg_parts}]


def tool_definitions(body: Mapping[str, Any], capture_media: bool = False) -> list[dict[str, Any]]:
    """``tools=``: function tools are flat in this API; built-in tools keep their own settings."""
    tools = body.get("tools")
    if not isinstance(tools, (list, tuple)):
        return []
    return [tool_definition(t) for t in tools]


def plain_tool(tool: Any) -> bool:
    """Whether a tool may be kept by value (``_content.JsonMemo``): a function or custom tool. A built-in
    tool's settings can hold credentials, which must not outlive the request."""
    return tool.__class__ is dict and tool.get("type") in ("function", "custom")


def tool_definition(tool: Any, capture_media: bool = False) -> dict[str, Any]:
    """Function tools by their name; built-in tools (``web_search``, ``file_search``, ...) named after their
    type, keeping their settings but never credentials (an MCP server's ``authorization`` and ``headers``)."""
    spec = _as_dict(tool)
    kind = spec.get("type")
    kind = kind if isinstance(kind, str) and kind else "function"
    name = spec.get("name")
    out: dict[str, Any] = {"type": kind, "name": name if isinstance(name, str) and name else kind}
    if kind in ("function", "custom"):
        return chat.tool_details(out, spec)
    out.update({k: v for k, v in spec.items() if k not in _NOT_SETTINGS and v is not None})
    return out


# --- streaming ------------------------------------------------------------------------------------


class ResponsesAccumulator:
    """Folds typed stream events. The last event carrying a ``Response`` (``response.completed`` and
    friends) supplies everything; text deltas and finished items are kept, when capturing, only to
    report a stream cut short. Nothing outlives the span: the invocation drops it when the span ends."""

    __slots__ = ("_at", "_capture", "_error", "_final", "_items", "_latest", "_run", "_text")

    # What a ``Response`` says; the fetch_response twin below reports no usage.
    _describe = staticmethod(response_attributes)

    def __init__(self, capture: bool) -> None:
        self._capture = capture
        self._latest: Any = None
        self._final: Any = None
        self._error: Optional[str] = None
        self._items: dict[int, Any] = {}
        # Text deltas per output index, as sent (non-strings dropped at the end); ``_run`` is the list of the
        # index ``_at`` that the last delta went to, so a delta costs one comparison and one append.
        self._text: dict[Any, list[Any]] = {}
        self._at: Any = self
        self._run: list[Any] = []

    def add(self, event: Any) -> bool:
        # ``getattr``, not ``event.type``: on these pydantic events CPython 3.11's attribute-load fast path
        # misses and walks the class hierarchy each time (measured: ~100k more instructions per stream).
        kind = getattr(event, "type", None)
        if kind == "response.output_text.delta":  # nearly every event: nothing else is read unless capturing
            if self._capture:
                index = getattr(event, "output_index", 0)
                if index != self._at:
                    self._run = self._text.setdefault(index, [])
                    self._at = index
                self._run.append(getattr(event, "delta", None))
            return True
        if kind in _FINAL_EVENTS:
            self._final = self._latest = event.response
        elif kind in _RESPONSE_EVENTS:
            self._latest = event.response
        elif kind == "response.output_item.done":
            if self._capture:
                self._items[event.output_index] = event.item
        elif kind == "error":
            self._error = as_str(getattr(event, "code", None)) or "error"
        # Lifecycle events (created, in_progress, output_item.added…) are not output; deltas are.
        return isinstance(kind, str) and kind.endswith(".delta")

    def attributes(self) -> Attributes:
        attrs = self._describe(self._latest) if self._latest is not None else {}
        if self._final is None:
            # The stream ended (cut, closed, failed) before its final event: a reason was owed.
            attrs[sc.RESPONSE_FINISH_REASONS] = [sc.FINISH_REASON_ERROR]
        if self._error is not None:
            attrs[sc.ERROR_TYPE] = self._error
        return attrs

    def tool_calls(self) -> list[tuple[str, str]]:
        """The finished response's tool calls; read at the end, so nothing is kept per event."""
        return tool_calls(self._final) if self._final is not None else []

    def output_messages(self, capture_media: bool) -> list[dict[str, Any]]:
        if self._final is not None:
            return output_messages(self._final, capture_media)
        text = {i: [d for d in run if isinstance(d, str)] for i, run in self._text.items()}
        text = {i: run for i, run in text.items() if run}
        msg_parts: list[parts.Part] = []
        for index in sorted(set(self._items) | set(text)):
            if index in self._items:
                msg_parts.extend(item_parts(self._items[index], capture_media))
            else:
                msg_parts.append(parts.text("".join(text[index])))
        return [{"role": "assistant", "parts": msg_parts}] if msg_parts else []


class FetchAccumulator(ResponsesAccumulator):
    """A resumed stream of a stored response (``retrieve(stream=True)``, ``stream(response_id=)``): the same
    events, reported as ``fetch_response``, without token usage."""

    __slots__ = ()

    _describe = staticmethod(fetch_attributes)
