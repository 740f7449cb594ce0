"""The per-API mapping table: which endpoint maps to which pure request/response/chunk functions."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Callable, Optional, Protocol

from otel_openai import _semconv as sc
from otel_openai._mapping import chat
from otel_openai._mapping._common import Attributes

Messages = list[dict[str, Any]]


class Accumulator(Protocol):
    """Folds streamed chunks or events into response attributes and, if capturing, output messages."""

    def add(self, chunk: Any) -> None: ...

    def attributes(self) -> Attributes: ...

    def output_messages(self, capture_media: bool) -> Messages: ...


def _no_messages(body: Mapping[str, Any], capture_media: bool) -> Messages:
    return []


def _no_tools(body: Mapping[str, Any]) -> Messages:
    return []


@dataclasses.dataclass(frozen=True)
class Api:
    """How one OpenAI endpoint becomes a GenAI span. Every function is pure and may raise on odd input:
    the caller guards each one."""

    operation: str
    request_attributes: Callable[[Mapping[str, Any]], Attributes]
    response_attributes: Callable[[Any], Attributes]
    accumulator: Optional[Callable[[bool], Accumulator]] = None
    input_messages: Callable[[Mapping[str, Any], bool], Messages] = _no_messages
    system_instructions: Callable[[Mapping[str, Any], bool], Messages] = _no_messages
    output_messages: Callable[[Any, bool], Messages] = _no_messages
    tool_definitions: Callable[[Mapping[str, Any]], Messages] = _no_tools
    # The body key naming the model; None for APIs whose model is not in the body.
    model_key: Optional[str] = "model"


CHAT = Api(
    operation=sc.OP_CHAT,
    request_attributes=chat.request_attributes,
    response_attributes=chat.response_attributes,
    accumulator=chat.ChatAccumulator,
    input_messages=chat.input_messages,
    output_messages=chat.output_messages,
    tool_definitions=chat.tool_definitions,
)

# (HTTP method, path) -> Api. Endpoints not listed here pass through untouched, at the cost of one lookup.
ROUTES: dict[tuple[str, str], Api] = {
    ("post", "/chat/completions"): CHAT,
}


def route(method: str, url: str) -> Optional[Api]:
    """The mapping for a request, or None for endpoints we do not trace."""
    return ROUTES.get((method.lower(), url))
