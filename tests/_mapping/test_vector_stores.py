"""Vector store search mapping: the store id from the path, top-k, and the opt-in query and documents."""

from __future__ import annotations

from typing import Any

from otel_openai import _semconv as sc
from otel_openai._mapping import vector_stores


class Options:
    def __init__(self, url: Any, json_data: Any = None) -> None:
        self.url = url
        self.json_data = json_data


def test_request_body_takes_the_store_from_the_path() -> None:
    """The vector store id comes from /vector_stores/{id}/search; the search parameters are kept."""
    body = vector_stores.request_body(Options("/vector_stores/vs_1/search", {"query": "q", "max_num_results": 3}))
    assert body == {"query": "q", "max_num_results": 3, vector_stores.VECTOR_STORE_KEY: "vs_1"}
    assert vector_stores.request_body(Options("/vector_stores/vs_1/search?x=1", None)) == {
        vector_stores.VECTOR_STORE_KEY: "vs_1"}
    assert vector_stores.request_body(Options(None, {"query": "q"})) == {"query": "q"}


def test_top_k_only_when_asked() -> None:
    """max_num_results is the retrieval top-k; anything that is not a whole number is ignored."""
    assert vector_stores.request_attributes({"max_num_results": 5}) == {sc.RETRIEVAL_TOP_K: 5}
    assert vector_stores.request_attributes({}) == {}
    assert vector_stores.request_attributes({"max_num_results": True}) == {}


def test_query_text() -> None:
    """A query string as is; a list of queries keeps its strings; anything else records nothing."""
    assert vector_stores.query({"query": "refunds"}) == {sc.RETRIEVAL_QUERY_TEXT: "refunds"}
    assert vector_stores.query({"query": ["a", 1, "b"]}) == {sc.RETRIEVAL_QUERY_TEXT: ["a", "b"]}
    assert vector_stores.query({}) == {}


def test_documents_from_a_page() -> None:
    """Each hit becomes {id, score} in order; missing or non-finite values are left out, never invented."""
    page = {"data": [{"file_id": "f1", "score": 0.5, "content": [{"type": "text", "text": "secret"}]},
                     {"file_id": None, "score": float("nan")}, {"score": 1}]}
    assert vector_stores.documents(page) == {sc.RETRIEVAL_DOCUMENTS: [{"id": "f1", "score": 0.5}, {},
                                                                      {"score": 1.0}]}
    assert vector_stores.documents({"data": None}) == {}
    assert vector_stores.response_attributes(page) == {}
