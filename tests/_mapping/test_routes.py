"""The route table: which (method, path) pairs become spans, and which pass through."""

from __future__ import annotations

import pytest

from otel_openai import _mapping as m


@pytest.mark.parametrize(("method", "url", "api"), [
    ("post", "/chat/completions", m.CHAT),
    ("POST", "/embeddings", m.EMBEDDINGS),
    ("post", "/responses", m.RESPONSES),
    ("get", "/responses/resp_123", m.FETCH_RESPONSE),
    ("post", "/responses/compact", m.COMPACT),
    ("post", "/vector_stores/vs_abc/search", m.RETRIEVAL),
    # openai 3.x client.beta.responses puts a query string in the path.
    ("post", "/responses?beta=true", m.RESPONSES),
    ("get", "/responses/resp_123?beta=true", m.FETCH_RESPONSE),
    ("post", "/responses/compact?beta=true", m.COMPACT),
    ("post", "/completions", m.COMPLETIONS),
    ("post", "/images/generations", m.IMAGES),
    ("post", "/images/edits", m.IMAGES),
    ("post", "/images/variations", m.IMAGE_VARIATIONS),
    ("post", "/audio/speech", m.SPEECH),
    ("post", "/audio/transcriptions", m.TRANSCRIPTION),
    ("post", "/audio/translations", m.TRANSCRIPTION),
    ("post", "/moderations", m.MODERATIONS),
])
def test_traced_routes(method: str, url: str, api: m.Api) -> None:
    """Each model endpoint maps to its API mapping, whatever the method's case."""
    assert m.route(method, url) is api


@pytest.mark.parametrize(("method", "url"), [
    ("get", "/models"),
    ("get", "/files"),
    ("post", "/batches"),
    ("delete", "/responses/resp_123"),
    ("post", "/responses/resp_123/cancel"),
    ("get", "/responses/resp_123/input_items"),
    ("get", "/responses/"),
    ("post", "/responses/input_tokens"),
    ("post", "/responses/input_tokens?beta=true"),
    ("post", "/responses/resp_123/cancel?beta=true"),
    ("get", "/chat/completions/chatcmpl_1"),
    ("post", "/vector_stores"),
    ("get", "/vector_stores/vs_abc"),
    ("post", "/vector_stores/vs_abc"),
    ("post", "/vector_stores//search"),
    ("post", "/vector_stores/vs_abc/files/file_1/search"),
    ("get", "/vector_stores/vs_abc/search"),
])
def test_untraced_routes(method: str, url: str) -> None:
    """Everything else, including the non-model Responses endpoints, passes through."""
    assert m.route(method, url) is None
