"""Pure Responses-over-WebSocket mapping: the request envelope, lanes, and the WebSocket error shape."""

from __future__ import annotations

from typing import Any

import pytest

from otel_openai import _semconv as sc
from otel_openai._mapping import responses_ws

types = pytest.importorskip("openai.types.responses", reason="the Responses API arrived in openai 1.66")
from openai._models import construct_type  # noqa: E402  (after the skip: the helper exists in every SDK)


def event(**value: Any) -> Any:
    return construct_type(type_=types.ResponseStreamEvent, value=value)


def test_request_body_drops_the_envelope() -> None:
    """type, event_id and stream_id are the WebSocket's, not the request's; the answer is always streamed."""
    body = responses_ws.request_body({"type": "response.create", "event_id": "e1", "stream_id": "a",
                                      "model": "m", "input": "Hi"})
    assert body == {"model": "m", "input": "Hi", "stream": True}


def test_lane() -> None:
    """The stream_id lane, None for the default lane."""
    assert responses_ws.lane({"stream_id": "a"}) == "a"
    assert responses_ws.lane({"type": "response.created"}) is None


def test_error_code_nested_or_flat() -> None:
    """The WebSocket error nests its code; the HTTP stream's error is flat; the type is the fallback."""
    assert responses_ws.error_code({"error": {"code": "model_not_found", "type": "invalid_request_error"}}) == \
        "model_not_found"
    assert responses_ws.error_code({"code": "server_error"}) == "server_error"
    assert responses_ws.error_code({"error": {"type": "invalid_request_error"}}) == "invalid_request_error"
    assert responses_ws.error_code({}) == "error"


def test_accumulator_error_and_cut() -> None:
    """An error event or a cut gives error.type and the error finish reason."""
    acc = responses_ws.WebSocketResponsesAccumulator(capture=False)
    assert acc.add(event(type="error", error={"code": "model_not_found", "message": "x", "type": "t"})) is False
    assert acc.attributes() == {sc.ERROR_TYPE: "model_not_found", sc.RESPONSE_FINISH_REASONS: ["error"]}
    acc = responses_ws.WebSocketResponsesAccumulator(capture=False)
    acc.cut("websocket_closed")
    assert acc.attributes() == {sc.ERROR_TYPE: "websocket_closed", sc.RESPONSE_FINISH_REASONS: ["error"]}
