"""The content upload hook: media handed to the user's callable becomes a ``uri`` part; the shipped
MediaUploader writes to a local directory or an fsspec URL without blocking or breaking the call."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
from pathlib import Path
from typing import Any, Optional

import pytest

from otel_openai import MediaContent, MediaUploader
from otel_openai import _semconv as sc
from otel_openai._config import ENV_UPLOAD_BASE_PATH, ENV_UPLOAD_HOOK, resolve
from otel_openai._upload import upload_media
from tests.conftest import event_value, fixture_json, json_response, make_client
from tests.conftest import resolve as settle

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\x01" * 40).decode()
WAV = base64.b64encode(b"RIFF" + b"\x02" * 60).decode()
MESSAGES = [{"role": "user", "content": [
    {"type": "text", "text": "What is this?"},
    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
    {"type": "input_audio", "input_audio": {"data": WAV, "format": "wav"}},
]}]


class Recorder:
    """A hook that remembers what it was given and answers with a fixed scheme, or None."""

    def __init__(self, answer: Optional[str] = "store://media") -> None:
        self.seen: list[MediaContent] = []
        self.answer = answer

    def __call__(self, media: MediaContent) -> Optional[str]:
        self.seen.append(media)
        return f"{self.answer}/{len(self.seen)}" if self.answer else None


def blob(data: str = PNG, **extra: Any) -> dict[str, Any]:
    return {"type": "blob", "modality": "image", "mime_type": "image/png", "content": data, **extra}


# --- the pure pass over captured content -------------------------------------------------------------------


def test_blob_becomes_a_uri_part_with_the_hooks_reference() -> None:
    """A blob the hook accepts becomes a ``uri`` part with its modality, mime type, size and extra fields."""
    hook = Recorder()
    messages = [{"role": "user", "parts": [{"type": "text", "content": "hi"}, blob(filename="a.png")]}]
    assert upload_media(messages, hook, False) == [{"role": "user", "parts": [
        {"type": "text", "content": "hi"},
        {"type": "uri", "modality": "image", "uri": "store://media/1", "mime_type": "image/png",
         "byte_size": 48, "filename": "a.png"}]}]
    (media,) = hook.seen
    assert (media.modality, media.mime_type, media.base64, media.byte_size) == ("image", "image/png", PNG, 48)
    assert media.data() == base64.b64decode(PNG)


@pytest.mark.parametrize("capture_media", [False, True])
def test_a_declined_blob_stays_as_without_a_hook(capture_media: bool) -> None:
    """When the hook returns None the media is withheld, or kept with ``capture_media``."""
    out = upload_media([blob()], Recorder(answer=None), capture_media)
    if capture_media:
        assert out == [blob()]
    else:
        assert out == [{"type": "generic", "generic_type": "blob", "modality": "image", "mime_type": "image/png",
                        "byte_size": 48, "stripped_reason": "media_capture_off"}]


def test_a_failing_hook_withholds_the_media() -> None:
    """A hook that raises is contained: the media is withheld, nothing reaches the caller."""
    def broken(media: MediaContent) -> str:
        raise OSError("disk full")

    (part,) = upload_media([blob()], broken, False)
    assert part["generic_type"] == "blob" and "content" not in part


def test_nested_media_and_the_input_are_handled_safely() -> None:
    """Blobs inside a tool response are handed over too; other values are untouched and the input is not
    modified (nested values may be the caller's own objects)."""
    response = {"type": "tool_call_response", "id": "c", "response": {"value": [blob()]}}
    messages = [{"role": "tool", "parts": [response]}]
    before = json.dumps(messages)
    out = upload_media(messages, Recorder(), False)
    assert out[0]["parts"][0]["response"]["value"][0]["type"] == "uri"
    assert json.dumps(messages) == before
    assert upload_media([{"type": "blob", "content": ""}], Recorder(), False)[0]["byte_size"] == 0


# --- end to end: the hook through instrument() -----------------------------------------------------------------


async def _chat(t: Any, async_client: bool) -> Any:
    client = make_client(lambda r: json_response(fixture_json("chat/plain.json")), async_client=async_client)
    await settle(client.chat.completions.create(model="gpt-4o", messages=MESSAGES))
    return t.only_span()


async def test_hook_references_replace_inline_media(instrument: Any, async_client: bool) -> None:
    """With an upload hook each inline image and audio clip is a ``uri`` part, on the span and the event alike,
    and the hook sees each item once; no base64 is exported."""
    hook = Recorder()
    t = instrument(capture_content="SPAN_AND_EVENT", upload_hook=hook)
    span = await _chat(t, async_client)
    image, audio = json.loads(span.attributes[sc.INPUT_MESSAGES])[0]["parts"][1:]
    assert image == {"type": "uri", "modality": "image", "uri": "store://media/1", "mime_type": "image/png",
                     "byte_size": 48}
    assert audio == {"type": "uri", "modality": "audio", "uri": "store://media/2", "mime_type": "audio/wav",
                     "byte_size": 64}
    (record,) = t.log_records()
    assert event_value(record.attributes[sc.INPUT_MESSAGES]) == json.loads(span.attributes[sc.INPUT_MESSAGES])
    assert [m.base64 for m in hook.seen] == [PNG, WAV]
    dump = json.dumps(dict(span.attributes)) + repr(record.attributes)
    assert PNG[:40] not in dump and WAV[:40] not in dump


async def test_generated_images_go_through_the_hook(instrument: Any, async_client: bool) -> None:
    """Output media (a generated base64 image) is handed over too."""
    hook = Recorder()
    t = instrument(capture_content="SPAN_ONLY", upload_hook=hook)
    client = make_client(lambda r: json_response(fixture_json("images/b64.json")), async_client=async_client)
    await settle(client.images.generate(model="gpt-image-1", prompt="A red cat"))
    (message,) = json.loads(t.only_span().attributes[sc.OUTPUT_MESSAGES])
    assert message["parts"][0]["type"] == "uri" and message["parts"][0]["uri"] == "store://media/1"
    assert hook.seen[0].base64 == fixture_json("images/b64.json")["data"][0]["b64_json"]


async def test_hook_never_runs_without_content_capture(instrument: Any, async_client: bool) -> None:
    """The hook only runs while content is captured: media in a call without capture is never handed over."""
    hook = Recorder()
    t = instrument(upload_hook=hook)
    span = await _chat(t, async_client)
    assert hook.seen == []
    assert sc.INPUT_MESSAGES not in span.attributes


async def test_hook_never_runs_without_media(instrument: Any, async_client: bool) -> None:
    """A conversation without inline media never calls the hook."""
    hook = Recorder()
    t = instrument(capture_content="SPAN_AND_EVENT", upload_hook=hook)
    client = make_client(lambda r: json_response(fixture_json("chat/plain.json")), async_client=async_client)
    await settle(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}]))
    assert hook.seen == []
    assert json.loads(t.only_span().attributes[sc.INPUT_MESSAGES])[0]["parts"] == [{"type": "text", "content": "hi"}]


async def test_a_failing_hook_never_breaks_the_call(instrument: Any, async_client: bool) -> None:
    """A hook that raises leaves the call's result intact and the media withheld."""
    def broken(media: MediaContent) -> str:
        raise RuntimeError("upload service down")

    t = instrument(capture_content="SPAN_ONLY", upload_hook=broken)
    client = make_client(lambda r: json_response(fixture_json("chat/plain.json")), async_client=async_client)
    result = await settle(client.chat.completions.create(model="gpt-4o", messages=MESSAGES))
    assert result.choices[0].message.content
    parts = json.loads(t.only_span().attributes[sc.INPUT_MESSAGES])[0]["parts"]
    assert [p.get("generic_type") for p in parts[1:]] == ["blob", "blob"]


# --- configuration -----------------------------------------------------------------------------------------------


def module_hook(media: MediaContent) -> Optional[str]:
    """Named by OTEL_INSTRUMENTATION_OPENAI_UPLOAD_HOOK in a test below."""
    return None


def test_hook_from_the_environment(tmp_path: Path) -> None:
    """The env vars name a callable (``module:attribute``) or a base path for the shipped uploader; the
    argument beats both."""
    assert resolve(env={ENV_UPLOAD_HOOK: "tests.test_upload:module_hook"}).upload_hook is module_hook
    uploader = resolve(env={ENV_UPLOAD_BASE_PATH: str(tmp_path)}).upload_hook
    assert isinstance(uploader, MediaUploader)
    uploader.close()
    hook = Recorder()
    assert resolve(env={ENV_UPLOAD_HOOK: "tests.test_upload:module_hook"}, upload_hook=hook).upload_hook is hook
    assert resolve(env={}).upload_hook is None
    assert resolve(env={}).map_media is False and resolve(env={}, upload_hook=hook).map_media is True


@pytest.mark.parametrize("env", [{ENV_UPLOAD_HOOK: "tests.test_upload:nowhere"}, {ENV_UPLOAD_HOOK: "no_such_module"},
                                 {ENV_UPLOAD_HOOK: "tests.test_upload:PNG"},
                                 {ENV_UPLOAD_BASE_PATH: "nosuchprotocol://bucket/media"}])
def test_unusable_hook_settings_log_a_warning_and_mean_no_hook(env: dict[str, str], caplog: Any) -> None:
    """A hook that cannot be imported or called, or a URL fsspec cannot open, means no hook, with a warning."""
    with caplog.at_level(logging.WARNING, logger="otel_openai._config"):
        assert resolve(env=env).upload_hook is None
    assert "no upload hook" in caplog.text
    with caplog.at_level(logging.WARNING, logger="otel_openai._config"):
        assert resolve(env={}, upload_hook="not callable").upload_hook is None


# --- the shipped MediaUploader -------------------------------------------------------------------------------------


def _name(data: str, ext: str) -> str:
    return hashlib.sha256(data.encode()).hexdigest() + ext


def test_uploader_writes_each_item_once_to_a_directory(tmp_path: Path) -> None:
    """Files are named after the content hash (so a repeated image is written once) with an extension from the
    mime type; the returned reference is the file's URI."""
    uploader = MediaUploader(str(tmp_path / "media"))
    try:
        uri = uploader(MediaContent("image", "image/png", PNG))
        assert uploader(MediaContent("image", "image/png", PNG)) == uri
        other = uploader(MediaContent("audio", None, WAV))
        assert uploader.flush()
    finally:
        uploader.close()
    path = tmp_path / "media" / _name(PNG, ".png")
    assert uri == path.as_uri()
    assert path.read_bytes() == base64.b64decode(PNG)
    assert other == (tmp_path / "media" / _name(WAV, ".bin")).as_uri()
    assert sorted(p.name for p in (tmp_path / "media").iterdir()) == sorted([_name(PNG, ".png"), _name(WAV, ".bin")])


def test_uploader_writes_to_an_fsspec_url() -> None:
    """Any fsspec URL works; here the in-memory filesystem."""
    fsspec = pytest.importorskip("fsspec")
    uploader = MediaUploader("memory://otel-openai-test/media")
    try:
        uri = uploader(MediaContent("image", "image/png", PNG))
        assert uploader.flush()
    finally:
        uploader.close()
    assert uri == f"memory:///otel-openai-test/media/{_name(PNG, '.png')}"
    with fsspec.open(uri, "rb") as f:
        assert f.read() == base64.b64decode(PNG)


async def test_uploader_as_the_hook_end_to_end(instrument: Any, tmp_path: Path) -> None:
    """Instrumented with the uploader, the span holds file URIs and the files hold the media."""
    uploader = MediaUploader(str(tmp_path))
    t = instrument(capture_content="SPAN_ONLY", upload_hook=uploader)
    try:
        span = await _chat(t, False)
        assert uploader.flush()
    finally:
        uploader.close()
    image = json.loads(span.attributes[sc.INPUT_MESSAGES])[0]["parts"][1]
    assert image["type"] == "uri"
    assert Path(image["uri"].removeprefix("file://")).read_bytes() == base64.b64decode(PNG)


def test_uploader_never_blocks_on_a_full_queue(tmp_path: Path) -> None:
    """With ``max_queue`` writes waiting, a new item is not queued and the hook answers None at once (the media
    is then withheld as without a hook); queued writes still complete."""
    uploader = MediaUploader(str(tmp_path), max_queue=1)
    release = threading.Event()
    write = uploader._write

    def slow_write(path: str, text: str) -> None:
        release.wait(10)
        write(path, text)

    uploader._write = slow_write  # type: ignore[method-assign]
    try:
        assert uploader(MediaContent("image", "image/png", PNG)) is not None
        assert uploader(MediaContent("audio", "audio/wav", WAV)) is None
        release.set()
        assert uploader.flush()
    finally:
        release.set()
        uploader.close()
    assert [p.name for p in tmp_path.iterdir()] == [_name(PNG, ".png")]


def test_uploader_write_errors_are_contained(tmp_path: Path) -> None:
    """A destination that cannot be written (a file where the directory should be) loses that item only."""
    blocker = tmp_path / "taken"
    blocker.write_text("not a directory")
    uploader = MediaUploader(str(blocker / "media"))
    try:
        assert uploader(MediaContent("image", "image/png", PNG)) is not None
        assert uploader.flush()
    finally:
        uploader.close()
    assert blocker.read_text() == "not a directory"


def test_uploader_needs_a_destination() -> None:
    """An empty base path is a configuration error, raised when the uploader is built (never on a call)."""
    with pytest.raises(ValueError):
        MediaUploader("")
