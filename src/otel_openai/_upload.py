"""The content upload hook: media in captured content handed to the user's callable, recorded as a reference."""

from __future__ import annotations

import atexit
import base64
import binascii
import dataclasses
import hashlib
import importlib
import logging
import os
import posixpath
import queue
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any, Callable, Optional

from otel_openai._mapping import _parts

__all__ = ["MediaContent", "MediaUploader", "UploadHook", "upload_media"]

_logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class MediaContent:
    """What an upload hook receives: one image, audio clip or document from a request or a response."""

    modality: str
    """The part's modality: ``image``, ``audio``, ``document`` or ``video``."""
    mime_type: Optional[str]
    """The IANA media type when the API says it (``image/png``), else None."""
    base64: str
    """The media exactly as the API carried it: base64 text."""

    @property
    def byte_size(self) -> int:
        """The decoded size in bytes (padding carries none)."""
        return _parts.base64_size(self.base64)

    def data(self) -> bytes:
        """The decoded bytes; empty when the base64 is malformed."""
        try:
            return base64.b64decode(self.base64)
        except (binascii.Error, ValueError):
            return b""


UploadHook = Callable[[MediaContent], Optional[str]]
"""``hook(media) -> uri or None``: return a reference (any URI) to record a ``uri`` part instead of the bytes;
None leaves the media as it would be without a hook (withheld unless media capture is on). Called on the
caller's thread, for each media item, only while content capture is on: keep it quick and hand slow work to
another thread, as ``MediaUploader`` does. Exceptions are swallowed (logged at debug level)."""

_MAX_DEPTH = 12  # messages > parts > part > tool response > list of parts > part, with room to spare


def upload_media(content: Any, hook: UploadHook, keep_inline: bool) -> Any:
    """A copy of captured content (messages or parts) in which every ``blob`` part went through ``hook``: a
    ``uri`` part when it returned a reference, else the blob itself (``keep_inline``) or its withheld form."""
    return _walk(content, hook, keep_inline, 0)


def _walk(value: Any, hook: UploadHook, keep_inline: bool, depth: int) -> Any:
    # Copies rather than edits: nested values may be the caller's own request objects.
    if isinstance(value, dict):
        if value.get("type") == "blob" and isinstance(value.get("content"), str):
            return _uploaded(value, hook, keep_inline)
        if depth >= _MAX_DEPTH:
            return value
        return {k: _walk(v, hook, keep_inline, depth + 1) for k, v in value.items()}
    if isinstance(value, list) and depth < _MAX_DEPTH:
        return [_walk(v, hook, keep_inline, depth + 1) for v in value]
    return value


def _uploaded(part: dict[str, Any], hook: UploadHook, keep_inline: bool) -> dict[str, Any]:
    modality = part.get("modality")
    modality = modality if isinstance(modality, str) else "unknown"
    mime = part.get("mime_type") if isinstance(part.get("mime_type"), str) else None
    media = MediaContent(modality, mime, part["content"])
    reference = _call(hook, media) if media.base64 else None
    extra = {k: v for k, v in part.items() if k not in ("type", "modality", "mime_type", "content")}
    if reference is not None:
        out = _parts.uri(modality, reference, mime)
        out["byte_size"] = media.byte_size
    elif keep_inline:
        return part
    else:
        out = _parts.withheld(modality, media.base64, mime)
    out.update(extra)
    return out


def _call(hook: UploadHook, media: MediaContent) -> Optional[str]:
    try:
        reference = hook(media)
    except Exception:
        _logger.debug("otel-openai: the upload hook failed", exc_info=True)
        return None
    return reference if isinstance(reference, str) and reference else None


# --- the shipped implementation ---------------------------------------------------------------------------


class MediaUploader:
    """An upload hook that writes each media item to a local directory or, when ``fsspec`` is installed, to
    any ``fsspec`` URL (``s3://bucket/prefix``, ``gs://...``, ``memory://...``), and returns the file's URI.

    The caller's thread only hashes the base64 text: the file is named after its SHA-256 (plus an extension
    from the mime type), so media sent again in every turn of a conversation is written once. Writing
    happens on one background thread. When ``max_queue`` writes are already waiting, the item is not
    queued and the hook returns None, so the media is withheld as without a hook; write errors are logged at
    debug level. ``flush()`` waits for queued writes (also run at interpreter exit); ``close()`` stops the
    thread.
    """

    def __init__(self, base_path: str, *, max_queue: int = 64) -> None:
        if not isinstance(base_path, str) or not base_path:
            raise ValueError("MediaUploader needs a directory or an fsspec URL")
        self._fs: Any = None
        if "://" in base_path and not base_path.startswith("file://"):
            # A URL needs fsspec (an optional dependency, untyped); a plain directory does not.
            fsspec_core = importlib.import_module("fsspec.core")
            self._fs, self._root = fsspec_core.url_to_fs(base_path)
        else:
            self._root = str(Path(base_path.removeprefix("file://")).expanduser().absolute())
        self._max_queue = max(int(max_queue), 1)
        self._queue: queue.SimpleQueue[Optional[tuple[str, str]]] = queue.SimpleQueue()
        self._done = threading.Condition()
        self._pending = 0
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._thread: Optional[threading.Thread] = None
        atexit.register(self.flush, 5.0)

    def __call__(self, media: MediaContent) -> Optional[str]:
        name = hashlib.sha256(media.base64.encode("ascii", "replace")).hexdigest() + _extension(media.mime_type)
        path = posixpath.join(self._root, name) if self._fs is not None else os.path.join(self._root, name)
        with self._done:
            if name not in self._seen:
                if self._pending >= self._max_queue:
                    return None
                self._pending += 1
                self._remember(name)
                self._queue.put((path, media.base64))
                self._start()
        return self._fs.unstrip_protocol(path) if self._fs is not None else Path(path).as_uri()

    def _remember(self, name: str) -> None:
        self._seen[name] = None
        if len(self._seen) > 4096:
            self._seen.popitem(last=False)

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="otel-openai-media-upload", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            try:
                self._write(*item)
            except Exception:
                _logger.debug("otel-openai: could not write %s", item[0], exc_info=True)
            with self._done:
                self._pending -= 1
                self._done.notify_all()

    def _write(self, path: str, text: str) -> None:
        data = MediaContent("", None, text).data()
        if self._fs is not None:
            if not self._fs.exists(path):
                self._fs.makedirs(posixpath.dirname(path), exist_ok=True)
                self._fs.pipe_file(path, data)
            return
        if os.path.exists(path):
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        partial = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(partial, "wb") as f:
            f.write(data)
        os.replace(partial, path)  # readers never see a half-written file

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued write is done; False when ``timeout`` seconds passed first."""
        with self._done:
            return self._done.wait_for(lambda: self._pending == 0, timeout)

    def close(self) -> None:
        """Finish the queued writes and stop the background thread."""
        self.flush()
        thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()
        atexit.unregister(self.flush)


def _extension(mime: Optional[str]) -> str:
    """``.png`` for ``image/png``; ``.bin`` when the mime type is unknown or odd."""
    subtype = mime.partition("/")[2] if isinstance(mime, str) else ""
    return f".{subtype}" if subtype.isalnum() and len(subtype) <= 10 else ".bin"
