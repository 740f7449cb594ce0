"""End to end: ``responses.compact`` (``POST /responses/compact``) as a Responses-family ``chat`` span."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from otel_openai import _semconv as sc
from tests.conftest import json_response, make_client, resolve, serve


def _has_compact() -> bool:
    try:
        from openai.resources.responses import Responses
    except ImportError:  # openai < 1.66: no Responses API at all
        return False
    return hasattr(Responses, "compact")


pytestmark = pytest.mark.skipif(not _has_compact(), reason="responses.compact arrived in openai 2.9; this SDK lacks it")

MODEL = "gpt-5.4"
INPUT = [{"role": "user", "content": "Plan a three-day trip to Lisbon."}]


async def test_compact_whole_span(instrument: Any, async_client: bool) -> None:
    """A compaction is one `chat {model}` CLIENT span on the Responses API with the compacted response's id
    and the usage of the compaction pass, cache writes included; it reports no finish reason (a compacted
    response has no status)."""
    seen: list[Any] = []
    t = instrument()
    client = make_client(serve("responses/compacted.json", seen), async_client=async_client)
    result = await resolve(client.responses.compact(model=MODEL, input=INPUT, previous_response_id="resp_prev"))
    assert result.id == "resp_cmp_1"
    assert seen[0].url.path.endswith("/responses/compact")
    span = t.only_span()
    assert (span.name, span.kind) == (f"chat {MODEL}", SpanKind.CLIENT)
    assert dict(span.attributes) == {
        sc.OPERATION_NAME: "chat",
        sc.PROVIDER_NAME: "openai",
        sc.REQUEST_MODEL: MODEL,
        sc.SERVER_ADDRESS: "openai.test",
        sc.SERVER_PORT: 8080,
        sc.OPENAI_API_TYPE: "responses",
        sc.REQUEST_PREVIOUS_RESPONSE_ID: "resp_prev",
        sc.RESPONSE_ID: "resp_cmp_1",
        sc.USAGE_INPUT_TOKENS: 1200,
        sc.USAGE_OUTPUT_TOKENS: 150,
        sc.USAGE_CACHE_READ_INPUT_TOKENS: 800,
        sc.USAGE_CACHE_WRITE_INPUT_TOKENS: 300,
        sc.USAGE_REASONING_OUTPUT_TOKENS: 64,
    }
    assert span.status.status_code is StatusCode.UNSET
    usage = sorted((p.attributes[sc.TOKEN_TYPE], p.sum) for p in t.metric_points(sc.METRIC_TOKEN_USAGE))
    assert usage == [("input", 1200), ("output", 150)]


async def test_compact_latest_metrics(instrument: Any, async_client: bool, monkeypatch: Any) -> None:
    """Opted into the newest metrics, a compaction is inference: its cache write tokens are counted."""
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "gen_ai_latest_experimental")
    t = instrument()
    client = make_client(serve("responses/compacted.json"), async_client=async_client)
    await resolve(client.responses.compact(model=MODEL, input=INPUT))
    (written,) = t.metric_points(sc.METRIC_USAGE_CACHE_WRITE_INPUT_TOKENS)
    assert written.value == 300
    assert len(t.metric_points(sc.METRIC_INFERENCE_DURATION)) == 1


async def test_compact_content(instrument: Any, async_client: bool) -> None:
    """With capture on, the conversation sent is the input and the compacted items are the output."""
    t = instrument(capture_content="SPAN_ONLY")
    client = make_client(serve("responses/compacted.json"), async_client=async_client)
    await resolve(client.responses.compact(model=MODEL, input=INPUT, instructions="Keep the dates."))
    attrs = t.only_span().attributes
    assert json.loads(attrs[sc.INPUT_MESSAGES]) == [
        {"role": "user", "parts": [{"type": "text", "content": "Plan a three-day trip to Lisbon."}]}]
    assert json.loads(attrs[sc.SYSTEM_INSTRUCTIONS]) == [{"type": "text", "content": "Keep the dates."}]
    (output,) = json.loads(attrs[sc.OUTPUT_MESSAGES])
    assert output["parts"][0] == {"type": "text", "content": "Plan a three-day trip to Lisbon."}
    assert len(output["parts"]) == 2


async def test_compact_error(instrument: Any, async_client: bool) -> None:
    """A failed compaction ends its span with error.type and the exception reaches the caller."""
    t = instrument()
    client = make_client(lambda r: json_response({"error": {"message": "bad input"}}, 400),
                         async_client=async_client)
    with pytest.raises(openai.BadRequestError):
        await resolve(client.responses.compact(model=MODEL, input=INPUT))
    span = t.only_span()
    assert span.attributes[sc.ERROR_TYPE] == "openai.BadRequestError"
    assert span.status.status_code is StatusCode.ERROR
