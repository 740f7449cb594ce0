"""Vector store search (``POST /vector_stores/{id}/search``): a ``retrieval`` span, query and hits opt-in.

``client.vector_stores.search`` exists from openai 1.66 (when vector stores left ``beta``; the ``beta``
resource of 1.40-1.65 has no search) through 3.x. It returns a ``SyncPage``/``AsyncPage`` of
``VectorStoreSearchResponse`` (``file_id``, ``filename``, ``score``, ``content``, ``attributes``); the async
page is awaited through the same ``request`` choke point.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from otel_openai import _semconv as sc
from otel_openai._mapping._common import Attributes, as_float, as_int, as_str, get, utf8_safe

# The body key under which ``request_body`` leaves the store id taken from the path (search params have no
# such key, so it cannot clash with anything the user sent).
VECTOR_STORE_KEY = "vector_store_id"


def request_body(options: Any) -> Mapping[str, Any]:
    """The search parameters plus the vector store id from ``/vector_stores/{id}/search``."""
    body = options.json_data
    out = dict(body) if isinstance(body, Mapping) else {}
    url = getattr(options, "url", None)
    if isinstance(url, str):
        parts = url.partition("?")[0].split("/")
        if len(parts) >= 3 and parts[-3] == "vector_stores":
            out[VECTOR_STORE_KEY] = parts[-2]
    return out


def request_attributes(body: Mapping[str, Any]) -> Attributes:
    """The number of results asked for (``max_num_results``) as the retrieval top-k."""
    attrs: Attributes = {}
    top_k = as_int(body.get("max_num_results"))
    if top_k is not None:
        attrs[sc.RETRIEVAL_TOP_K] = top_k
    return attrs


def response_attributes(response: Any) -> Attributes:
    """A search page has no id, model or usage to report: the hits are content (see ``documents``)."""
    return {}


def query(body: Mapping[str, Any]) -> dict[str, Any]:
    """Opt-in: the query text. A list of queries (the API accepts one) is recorded as its JSON array."""
    text = body.get("query")
    if isinstance(text, str):
        return {sc.RETRIEVAL_QUERY_TEXT: utf8_safe(text)}
    if isinstance(text, (list, tuple)):
        return {sc.RETRIEVAL_QUERY_TEXT: [utf8_safe(t) for t in text if isinstance(t, str)]}
    return {}


def documents(page: Any) -> dict[str, Any]:
    """Opt-in: one ``{"id", "score"}`` per hit, in the order returned (gen-ai-retrieval-documents.json). The
    id is the hit's ``file_id``; chunk texts are never recorded."""
    data = get(page, "data")
    if not isinstance(data, (list, tuple)):
        return {}
    return {sc.RETRIEVAL_DOCUMENTS: [_document(hit) for hit in data]}


def _document(hit: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    file_id = as_str(get(hit, "file_id"))
    if file_id is not None:
        doc["id"] = file_id
    score = as_float(get(hit, "score"))
    if score is not None and math.isfinite(score):  # the schema wants a JSON number
        doc["score"] = score
    return doc
