"""End to end: ``vector_stores.search`` as a ``retrieval {vector_store_id}`` span over a mock transport."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from otel_openai import _semconv as sc
from tests.conftest import json_response, make_client, resolve


def _has_search() -> bool:
    try:
        from openai.resources.vector_stores import VectorStores
    except ImportError:
        return False
    return hasattr(VectorStores, "search")


pytestmark = pytest.mark.skipif(
    not _has_search(),
    reason="vector_stores.search arrived in openai 1.66 (the beta.vector_stores of older SDKs has no search)")
# ../shared beside the checkout (CI), or beside a folder of checkouts (worktrees): the nearest one up.
SCHEMA = next((parent / "shared" / "semconv" / "gen-ai-retrieval-documents.json"
               for parent in Path(__file__).resolve().parents if (parent / "shared" / "semconv").is_dir()), None)
PAGE = {
    "object": "vector_store.search_results.page",
    "search_query": ["refund policy"],
    "data": [
        {"file_id": "file_a", "filename": "policy.md", "score": 0.92, "attributes": {"lang": "en"},
         "content": [{"type": "text", "text": "Refunds within 30 days."}]},
        {"file_id": "file_b", "filename": "faq.md", "score": 0.61, "attributes": None,
         "content": [{"type": "text", "text": "Contact support."}]},
    ],
    "has_more": False,
    "next_page": None,
}


def serve_page(seen: list[Any] | None = None, status: int = 200) -> Any:
    def handler(request: Any) -> Any:
        if seen is not None:
            seen.append(request)
        return json_response(PAGE if status == 200 else {"error": {"message": "no such store"}}, status)
    return handler


async def search(client: Any, **kwargs: Any) -> Any:
    return await resolve(client.vector_stores.search("vs_abc", query="refund policy", **kwargs))


async def test_search_whole_span(instrument: Any, async_client: bool) -> None:
    """A search is one CLIENT span `retrieval {vector store id}` with the data source and top-k; the page
    reaches the caller intact, and only a duration point is recorded."""
    seen: list[Any] = []
    t = instrument()
    client = make_client(serve_page(seen), async_client=async_client)
    page = await search(client, max_num_results=5)
    assert [hit.file_id for hit in page.data] == ["file_a", "file_b"]
    assert seen[0].method == "POST" and seen[0].url.path.endswith("/vector_stores/vs_abc/search")
    span = t.only_span()
    assert (span.name, span.kind) == ("retrieval vs_abc", SpanKind.CLIENT)
    assert dict(span.attributes) == {
        sc.OPERATION_NAME: "retrieval",
        sc.PROVIDER_NAME: "openai",
        sc.DATA_SOURCE_ID: "vs_abc",
        sc.SERVER_ADDRESS: "openai.test",
        sc.SERVER_PORT: 8080,
        sc.RETRIEVAL_TOP_K: 5,
    }
    assert span.status.status_code is StatusCode.UNSET
    (duration,) = t.metric_points(sc.METRIC_OPERATION_DURATION)
    assert dict(duration.attributes) == {sc.OPERATION_NAME: "retrieval", sc.PROVIDER_NAME: "openai",
                                         sc.SERVER_ADDRESS: "openai.test", sc.SERVER_PORT: 8080}
    assert t.metric_points(sc.METRIC_TOKEN_USAGE) == []


async def test_no_top_k_when_not_asked(instrument: Any, async_client: bool) -> None:
    """Without max_num_results there is no top-k: we never invent the server's default."""
    t = instrument()
    await search(make_client(serve_page(), async_client=async_client))
    assert sc.RETRIEVAL_TOP_K not in t.only_span().attributes


async def test_query_and_documents_with_capture(instrument: Any, async_client: bool) -> None:
    """With capture on spans, the query text and one {id, score} per hit (chunk texts never) are recorded."""
    t = instrument(capture_content="SPAN_ONLY")
    await search(make_client(serve_page(), async_client=async_client))
    attrs = t.only_span().attributes
    assert attrs[sc.RETRIEVAL_QUERY_TEXT] == "refund policy"
    documents = json.loads(attrs[sc.RETRIEVAL_DOCUMENTS])
    assert documents == [{"id": "file_a", "score": 0.92}, {"id": "file_b", "score": 0.61}]
    assert "Refunds within" not in json.dumps(dict(attrs))


def test_documents_match_the_official_schema(instrument: Any) -> None:
    """The recorded documents validate against gen-ai-retrieval-documents.json (../shared/semconv)."""
    if SCHEMA is None or not SCHEMA.exists():
        pytest.skip("../shared/semconv is not beside this checkout (a plain clone); the shape is asserted above")
    import jsonschema

    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(serve_page())
    client.vector_stores.search("vs_abc", query="refund policy")
    documents = json.loads(t.only_span().attributes[sc.RETRIEVAL_DOCUMENTS])
    jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text())).validate(documents)


async def test_query_list_is_a_json_array(instrument: Any, async_client: bool) -> None:
    """Several queries are recorded as one JSON array string, bounded like any captured text."""
    t = instrument(capture_content="SPAN_ONLY", max_content_length=4)
    client = make_client(serve_page(), async_client=async_client)
    await resolve(client.vector_stores.search("vs_abc", query=["refund", "returns"]))
    assert json.loads(t.only_span().attributes[sc.RETRIEVAL_QUERY_TEXT]) == ["refu…[truncated]", "retu…[truncated]"]


@pytest.mark.parametrize("capture", ["NO_CONTENT", "EVENT_ONLY"])
async def test_no_content_on_spans_otherwise(instrument: Any, async_client: bool, capture: str) -> None:
    """Without content on spans, neither the query nor the hits appear on the span."""
    t = instrument(capture_content=capture)
    await search(make_client(serve_page(), async_client=async_client))
    attrs = t.only_span().attributes
    assert sc.RETRIEVAL_QUERY_TEXT not in attrs and sc.RETRIEVAL_DOCUMENTS not in attrs


async def test_search_error(instrument: Any, async_client: bool) -> None:
    """A failed search ends its span with error.type and status ERROR; the exception reaches the caller."""
    t = instrument()
    with pytest.raises(openai.NotFoundError):
        await search(make_client(serve_page(status=404), async_client=async_client))
    span = t.only_span()
    assert span.name == "retrieval vs_abc"
    assert span.attributes[sc.ERROR_TYPE] == "openai.NotFoundError"
    assert span.status.status_code is StatusCode.ERROR


async def test_other_vector_store_endpoints_untouched(instrument: Any, async_client: bool) -> None:
    """Creating, reading and listing vector stores are not retrievals: no span."""
    store = {"id": "vs_abc", "object": "vector_store", "created_at": 0, "name": "n", "usage_bytes": 0,
             "file_counts": {"in_progress": 0, "completed": 0, "failed": 0, "cancelled": 0, "total": 0},
             "status": "completed", "last_active_at": None, "metadata": None}
    t = instrument()
    client = make_client(lambda r: json_response(store), async_client=async_client)
    await resolve(client.vector_stores.create(name="n"))
    await resolve(client.vector_stores.retrieve("vs_abc"))
    assert t.finished_spans() == []
