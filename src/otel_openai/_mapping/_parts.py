"""Message parts in the GenAI conventions' shape, built from OpenAI content of any API.

Every builder returns a part valid against the conventions' JSON schemas whatever it is given: a value that
does not fit a dedicated shape becomes a ``generic`` part (``generic_type`` says what it was), never dropped.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Callable, Optional

from otel_openai import _content
from otel_openai._mapping._common import enum_value, fields, get

Part = dict[str, Any]

# Why a withheld blob has no content (the ``stripped_reason`` proposed upstream in semantic-conventions-genai#144).
MEDIA_WITHHELD = "media_capture_off"


Reader = Callable[[str], Any]


def reader(obj: Any) -> Reader:
    """``get`` for one object read field by field: a plain dict's own ``get`` (what callers send), else ``get``
    bound to it."""
    return obj.get if obj.__class__ is dict else partial(get, obj)


def model_reader(obj: Any) -> Reader:
    """The reader for an SDK response model: one read of its fields (``fields``), then plain lookups."""
    return fields(obj).get


def text(content: Any) -> Part:
    if isinstance(content, str):
        return {"type": "text", "content": content}
    return generic("text", {"content": content})  # malformed (non-string) text is kept, not dropped


def tool_call(call_id: Any, name: Any, arguments: Any) -> Part:
    """A tool call the model asked for; arguments as a JSON object (``_content.json_object``), omitted when absent."""
    part: Part = {"type": "tool_call"}
    if isinstance(call_id, str):
        part["id"] = call_id
    part["name"] = name if isinstance(name, str) else ""
    if arguments is not None:
        part["arguments"] = _content.json_object(arguments)
    return part


def tool_call_response(call_id: Any, response: Any) -> Part:
    """A tool's result sent back to the model, as a JSON object (``_content.json_object``)."""
    part: Part = {"type": "tool_call_response"}
    if isinstance(call_id, str):
        part["id"] = call_id
    part["response"] = _content.json_object(response)
    return part


def reasoning(content: Any) -> Part:
    if isinstance(content, str):
        return {"type": "reasoning", "content": content}
    return generic("reasoning", {"content": content})


def generic(kind: Any, payload: Any) -> Part:
    """Anything without a dedicated shape: ``{"type": "generic", "generic_type": <provider type>, ...payload}``.

    A mapping payload keeps its fields but its own ``type`` and empty (None) ones; any other payload is kept
    as ``content``.
    """
    part: Part = {"type": "generic", "generic_type": kind if isinstance(kind, str) else "unknown"}
    if isinstance(payload, dict):
        part.update({k: v for k, v in payload.items() if k not in ("type", "generic_type") and v is not None})
    elif payload is not None:
        part["content"] = payload
    return part


def role(value: Any, default: str) -> str:
    """A message's role as the schemas require it, a string; a malformed one reads as ``default``."""
    value = enum_value(value)
    return value if isinstance(value, str) and value else default


def media(modality: str, url_or_data: Any, mime_type: Optional[str], capture_media: bool) -> Part:
    """An image or audio input: a ``uri`` part for links, a ``blob`` part for inline (base64) data.

    Inline data is withheld unless the user opted into media capture (see ``blob``), so a screenshot
    does not turn into a megabyte attribute by accident.
    """
    value = url_or_data if isinstance(url_or_data, str) else ""
    if value.startswith("data:"):
        header, _, data = value.partition(",")
        mime_type = header[5:].split(";", 1)[0] or mime_type
        return blob(modality, data, mime_type, capture_media)
    if "://" in value:
        return uri(modality, value, mime_type)
    return blob(modality, value, mime_type, capture_media)


def uri(modality: str, link: str, mime_type: Optional[str]) -> Part:
    part: Part = {"type": "uri", "modality": modality, "uri": link}
    if mime_type:
        part["mime_type"] = mime_type
    return part


def blob(modality: str, data: Any, mime_type: Optional[str], capture_media: bool) -> Part:
    """Inline base64 media: a ``blob`` part with media capture on, else the ``withheld`` part."""
    if not isinstance(data, str):
        data = ""  # malformed input (a number or object where base64 belongs) carries no media
    if not capture_media:
        return withheld(modality, data, mime_type)
    part: Part = {"type": "blob", "modality": modality}
    if mime_type:
        part["mime_type"] = mime_type
    part["content"] = data
    return part


def withheld(modality: str, data: str, mime_type: Optional[str]) -> Part:
    """Media that was there but is not exported: a ``generic`` part of ``generic_type`` ``blob`` with its
    modality, mime type and decoded size (``byte_size``), and why there is no ``content``.

    Not a ``blob`` part: the schemas require a blob's ``content``, and an empty one would claim zero bytes.
    """
    part = generic("blob", {"modality": modality})
    if mime_type:
        part["mime_type"] = mime_type
    part["byte_size"] = base64_size(data)
    part["stripped_reason"] = MEDIA_WITHHELD
    return part


def base64_size(data: str) -> int:
    """The decoded size of base64 text, without decoding it: padding characters carry no bytes."""
    return max(len(data) * 3 // 4 - data[-2:].count("="), 0)


def audio_mime(fmt: Any) -> Optional[str]:
    return f"audio/{fmt}" if isinstance(fmt, str) and fmt else None


def content_parts(content: Any, capture_media: bool) -> list[Part]:
    """Chat-style content (a string or a list of typed parts) as GenAI parts, in order."""
    if content is None:
        return []
    if isinstance(content, str):
        return [text(content)]
    if not isinstance(content, (list, tuple)):
        return [generic("unknown", content)]
    return [content_part(item, capture_media) for item in content]


def content_part(item: Any, capture_media: bool) -> Part:
    """One typed part of chat-style content (``content_parts``)."""
    kind = get(item, "type")
    if kind in ("text", "input_text", "output_text"):
        return text(get(item, "text"))
    if kind == "refusal":
        return generic("refusal", {"content": get(item, "refusal")})
    if kind == "image_url":
        image = get(item, "image_url")
        return media("image", get(image, "url"), None, capture_media)
    if kind == "input_image":
        if get(item, "image_url") is None and isinstance(get(item, "file_id"), str):
            return {"type": "file", "modality": "image", "file_id": get(item, "file_id")}
        return media("image", get(item, "image_url"), None, capture_media)
    if kind == "input_audio":
        audio = get(item, "input_audio")
        return blob("audio", get(audio, "data") or "", audio_mime(get(audio, "format")), capture_media)
    if kind in ("file", "input_file"):
        return _file_part(item, capture_media)
    return generic(kind, item if isinstance(item, dict) else None)


def _file_part(item: Any, capture_media: bool) -> Part:
    file = get(item, "file") or item
    file_data, file_id, file_url = get(file, "file_data"), get(file, "file_id"), get(file, "file_url")
    if isinstance(file_data, str):
        part = media("document", file_data, None, capture_media)
    elif isinstance(file_id, str):
        part = {"type": "file", "modality": "document", "file_id": file_id}
    elif isinstance(file_url, str):
        part = uri("document", file_url, None)
    else:
        part = generic("file", {"modality": "document"})
    if get(file, "filename"):
        part["filename"] = get(file, "filename")
    return part
