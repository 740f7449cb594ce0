"""Message parts in the GenAI conventions' shape, built from OpenAI content of any API."""

from __future__ import annotations

from typing import Any, Optional

from otel_openai._mapping._common import get, parse_json

Part = dict[str, Any]


def text(content: Any) -> Part:
    return {"type": "text", "content": content}


def tool_call(call_id: Any, name: Any, arguments: Any) -> Part:
    part: Part = {"type": "tool_call", "id": call_id, "name": name}
    if arguments is not None:
        part["arguments"] = parse_json(arguments)
    return part


def tool_call_response(call_id: Any, response: Any) -> Part:
    return {"type": "tool_call_response", "id": call_id, "response": response}


def reasoning(content: Any) -> Part:
    return {"type": "reasoning", "content": content}


def generic(kind: Any, payload: Any) -> Part:
    """Anything we have no dedicated shape for keeps its type and payload: never drop a part."""
    part: Part = {"type": kind if isinstance(kind, str) else "unknown"}
    if isinstance(payload, dict):
        part.update({k: v for k, v in payload.items() if k != "type"})
    elif payload is not None:
        part["content"] = payload
    return part


def media(modality: str, url_or_data: Any, mime_type: Optional[str], capture_media: bool) -> Part:
    """An image or audio input: a ``uri`` part for links, a ``blob`` part for inline (base64) data.

    Inline data is replaced by its size unless the user opted into media capture, so a screenshot
    does not turn into a megabyte attribute by accident.
    """
    value = url_or_data if isinstance(url_or_data, str) else ""
    if value.startswith("data:"):
        header, _, data = value.partition(",")
        mime_type = header[5:].split(";", 1)[0] or mime_type
        return blob(modality, data, mime_type, capture_media)
    if "://" in value:
        part: Part = {"type": "uri", "modality": modality, "uri": value}
        if mime_type:
            part["mime_type"] = mime_type
        return part
    return blob(modality, value, mime_type, capture_media)


def blob(modality: str, data: Any, mime_type: Optional[str], capture_media: bool) -> Part:
    if not isinstance(data, str):
        data = ""  # malformed input (a number or object where base64 belongs) carries no media
    part: Part = {"type": "blob", "modality": modality}
    if mime_type:
        part["mime_type"] = mime_type
    if capture_media:
        part["content"] = data
    else:
        part["content"] = None
        # Decoded size of the base64 payload: padding characters carry no bytes.
        part["size"] = len(data) * 3 // 4 - data[-2:].count("=")
    return part


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
    return [_content_part(item, capture_media) for item in content]


def _content_part(item: Any, capture_media: bool) -> Part:
    kind = get(item, "type")
    if kind in ("text", "input_text", "output_text"):
        return text(get(item, "text"))
    if kind == "refusal":
        return generic("refusal", {"content": get(item, "refusal")})
    if kind == "image_url":
        image = get(item, "image_url")
        return media("image", get(image, "url"), None, capture_media)
    if kind == "input_image":
        return media("image", get(item, "image_url"), None, capture_media)
    if kind == "input_audio":
        audio = get(item, "input_audio")
        return blob("audio", get(audio, "data") or "", audio_mime(get(audio, "format")), capture_media)
    if kind in ("file", "input_file"):
        return _file_part(item, capture_media)
    return generic(kind, item if isinstance(item, dict) else None)


def _file_part(item: Any, capture_media: bool) -> Part:
    file = get(item, "file") or item
    file_data = get(file, "file_data")
    if isinstance(file_data, str):
        part = media("document", file_data, None, capture_media)
    else:
        part = {"type": "file", "modality": "document"}
        if get(file, "file_id"):
            part["file_id"] = get(file, "file_id")
        if get(file, "file_url"):
            part = {"type": "uri", "modality": "document", "uri": get(file, "file_url")}
    if get(file, "filename"):
        part["filename"] = get(file, "filename")
    return part
