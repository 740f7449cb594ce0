"""Message parts, pure: every OpenAI content shape becomes a GenAI part, and none is dropped."""

from __future__ import annotations

import base64

import pytest

from otel_openai._mapping import _parts as parts

DATA = base64.b64encode(b"0123456789abcdef0123").decode()  # 20 bytes


def test_text_and_string_content() -> None:
    """A plain string is one text part; None is no parts."""
    assert parts.content_parts("hello", False) == [{"type": "text", "content": "hello"}]
    assert parts.content_parts(None, False) == []


def test_multi_part_content_in_order() -> None:
    """Every item of a list content becomes a part, in order."""
    content = [
        {"type": "text", "text": "a"},
        {"type": "image_url", "image_url": {"url": "https://x.test/cat.png"}},
        {"type": "text", "text": "b"},
    ]
    assert [p["type"] for p in parts.content_parts(content, False)] == ["text", "uri", "text"]


def test_image_url_part() -> None:
    """A linked image is a ``uri`` part with the image modality."""
    assert parts.media("image", "https://x.test/cat.png", None, False) == \
        {"type": "uri", "modality": "image", "uri": "https://x.test/cat.png"}


@pytest.mark.parametrize("capture", [False, True])
def test_data_url_image(capture: bool) -> None:
    """A data URL is a ``blob`` with its mime type with media capture on; else the withheld part: a generic
    ``blob`` with modality, mime type and decoded size, and no content."""
    part = parts.media("image", f"data:image/jpeg;base64,{DATA}", None, capture)
    if capture:
        assert part == {"type": "blob", "modality": "image", "mime_type": "image/jpeg", "content": DATA}
    else:
        assert part == {"type": "generic", "generic_type": "blob", "modality": "image", "mime_type": "image/jpeg",
                        "byte_size": 20, "stripped_reason": "media_capture_off"}


@pytest.mark.parametrize("data", ["", "YQ==", "YWI=", "YWJj", DATA])
def test_withheld_size_is_the_decoded_size(data: str) -> None:
    """``byte_size`` is the size of the decoded bytes, padding excluded, computed without decoding."""
    assert parts.withheld("audio", data, None)["byte_size"] == len(base64.b64decode(data))


def test_input_audio_part() -> None:
    """``input_audio`` is an audio blob whose mime type comes from its format."""
    (part,) = parts.content_parts([{"type": "input_audio", "input_audio": {"data": DATA, "format": "mp3"}}],
                                  True)
    assert part == {"type": "blob", "modality": "audio", "mime_type": "audio/mp3", "content": DATA}


def test_refusal_part() -> None:
    """An assistant refusal content part is kept as a generic part of generic_type ``refusal``."""
    assert parts.content_parts([{"type": "refusal", "refusal": "no"}], False) == \
        [{"type": "generic", "generic_type": "refusal", "content": "no"}]


def test_file_parts() -> None:
    """Files by id, by inline data (with filename) and by URL each become a part; a file with none of
    these is kept as a generic part (a ``file`` part needs its id)."""
    by_id, inline, by_url, empty = parts.content_parts([
        {"type": "file", "file": {"file_id": "file-abc"}},
        {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{DATA}", "filename": "a.pdf"}},
        {"type": "input_file", "file_url": "https://x.test/a.pdf"},
        {"type": "file", "file": {"filename": "b.pdf"}},
    ], False)
    assert by_id == {"type": "file", "modality": "document", "file_id": "file-abc"}
    assert inline == {"type": "generic", "generic_type": "blob", "modality": "document",
                      "mime_type": "application/pdf", "byte_size": 20, "stripped_reason": "media_capture_off",
                      "filename": "a.pdf"}
    assert by_url == {"type": "uri", "modality": "document", "uri": "https://x.test/a.pdf"}
    assert empty == {"type": "generic", "generic_type": "file", "modality": "document", "filename": "b.pdf"}


def test_input_image_by_file_id() -> None:
    """A Responses ``input_image`` given by file id is a ``file`` part, not an empty blob."""
    assert parts.content_parts([{"type": "input_image", "file_id": "file-1", "detail": "auto"}], False) == \
        [{"type": "file", "modality": "image", "file_id": "file-1"}]


def test_unknown_part_kept() -> None:
    """A content type we do not know is a generic part with its type and payload: never dropped."""
    assert parts.content_parts([{"type": "video_url", "video_url": {"url": "https://x.test/v.mp4"}}], False) == \
        [{"type": "generic", "generic_type": "video_url", "video_url": {"url": "https://x.test/v.mp4"}}]
    assert parts.content_parts(42, False) == [{"type": "generic", "generic_type": "unknown", "content": 42}]


def test_malformed_text_and_reasoning_are_generic() -> None:
    """Text or reasoning that is not a string cannot be a text or reasoning part: it is kept as generic."""
    assert parts.text(7) == {"type": "generic", "generic_type": "text", "content": 7}
    assert parts.reasoning(None) == {"type": "generic", "generic_type": "reasoning"}


def test_tool_call_arguments() -> None:
    """Arguments are a JSON object: parsed when they are JSON text, wrapped as ``{"value": ...}`` when they are
    plain text or JSON that is no object, and omitted when absent."""
    assert parts.tool_call("c", "f", '{"x": [1]}')["arguments"] == {"x": [1]}
    assert parts.tool_call("c", "f", "{broken")["arguments"] == {"value": "{broken"}
    assert parts.tool_call("c", "f", "[1, 2]")["arguments"] == {"value": [1, 2]}
    assert "arguments" not in parts.tool_call("c", "f", None)


def test_tool_call_without_id_or_name() -> None:
    """A call without an id omits it; a name that is no string reads as empty (the schema requires one)."""
    assert parts.tool_call(None, None, "{}") == {"type": "tool_call", "name": "", "arguments": {}}


def test_tool_call_response_and_reasoning() -> None:
    """Tool results are JSON objects too (plain text wrapped); reasoning has its own part shape."""
    assert parts.tool_call_response("c", "ok") == {"type": "tool_call_response", "id": "c",
                                                   "response": {"value": "ok"}}
    assert parts.tool_call_response("c", '{"t": 20}')["response"] == {"t": 20}
    assert parts.reasoning("because") == {"type": "reasoning", "content": "because"}


def test_role() -> None:
    """A role is kept when it is a non-empty string; anything else reads as the default."""
    assert parts.role("developer", "user") == "developer"
    assert parts.role(None, "user") == "user"
    assert parts.role(["x"], "assistant") == "assistant"
