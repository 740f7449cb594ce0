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
    """A data URL is a ``blob`` with its mime type; the bytes only with media capture, else their size."""
    part = parts.media("image", f"data:image/jpeg;base64,{DATA}", None, capture)
    expected = {"type": "blob", "modality": "image", "mime_type": "image/jpeg"}
    expected.update({"content": DATA} if capture else {"content": None, "size": 20})
    assert part == expected


def test_input_audio_part() -> None:
    """``input_audio`` is an audio blob whose mime type comes from its format."""
    (part,) = parts.content_parts([{"type": "input_audio", "input_audio": {"data": DATA, "format": "mp3"}}],
                                  True)
    assert part == {"type": "blob", "modality": "audio", "mime_type": "audio/mp3", "content": DATA}


def test_refusal_part() -> None:
    """An assistant refusal content part is kept."""
    assert parts.content_parts([{"type": "refusal", "refusal": "no"}], False) == \
        [{"type": "refusal", "content": "no"}]


def test_file_parts() -> None:
    """Files by id, by inline data (with filename) and by URL each become a part."""
    by_id, inline = parts.content_parts([
        {"type": "file", "file": {"file_id": "file-abc"}},
        {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{DATA}", "filename": "a.pdf"}},
    ], False)
    assert by_id == {"type": "file", "modality": "document", "file_id": "file-abc"}
    assert inline == {"type": "blob", "modality": "document", "mime_type": "application/pdf", "content": None,
                      "size": 20, "filename": "a.pdf"}


def test_unknown_part_kept() -> None:
    """A content type we do not know keeps its type and payload: never dropped."""
    assert parts.content_parts([{"type": "video_url", "video_url": {"url": "https://x.test/v.mp4"}}], False) == \
        [{"type": "video_url", "video_url": {"url": "https://x.test/v.mp4"}}]
    assert parts.content_parts(42, False) == [{"type": "unknown", "content": 42}]


def test_tool_call_arguments() -> None:
    """Arguments are parsed when they are JSON, kept as sent otherwise, and omitted when absent."""
    assert parts.tool_call("c", "f", '{"x": [1]}')["arguments"] == {"x": [1]}
    assert parts.tool_call("c", "f", "{broken")["arguments"] == "{broken"
    assert "arguments" not in parts.tool_call("c", "f", None)


def test_tool_call_response_and_reasoning() -> None:
    """Tool results and reasoning have their own part shapes."""
    assert parts.tool_call_response("c", "ok") == {"type": "tool_call_response", "id": "c", "response": "ok"}
    assert parts.reasoning("because") == {"type": "reasoning", "content": "because"}
