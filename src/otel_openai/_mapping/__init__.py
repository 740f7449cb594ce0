"""The per-API mapping table: which endpoint maps to which pure request/response/chunk functions."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Callable, Optional, Protocol

from otel_openai import _semconv as sc
from otel_openai._mapping import (
    audio,
    chat,
    completions,
    embeddings,
    images,
    moderations,
    responses,
    vector_stores,
)
from otel_openai._mapping._common import Attributes

Messages = list[dict[str, Any]]


class Accumulator(Protocol):
    """Folds streamed chunks or events into response attributes and, if capturing, output messages."""

    def add(self, chunk: Any) -> bool:
        """Fold one chunk in; True when it carries model output (timing metrics count only those)."""
        ...

    def attributes(self) -> Attributes: ...

    def output_messages(self, capture_media: bool) -> Messages: ...


def _no_messages(body: Mapping[str, Any], capture_media: bool) -> Messages:
    return []


def _no_tools(body: Mapping[str, Any]) -> Messages:
    return []


def _no_tool_calls(response: Any) -> list[tuple[str, str]]:
    return []


def json_body(options: Any) -> Mapping[str, Any]:
    """The request's JSON body. Multipart endpoints (uploads) keep their form fields here too: the SDK
    moves only the file objects into ``options.files``, which we never read."""
    body = options.json_data
    if body.__class__ is dict:  # the usual case, without the Mapping ABC's instance check
        return body
    return body if isinstance(body, Mapping) else {}


@dataclasses.dataclass(frozen=True)
class Field:
    """A content attribute that depends on one body field alone, so that the span can reuse the JSON of a
    value it has seen (``_content.JsonMemo``): ``whole`` maps the body, as the Api's function for that
    attribute does; ``element``, when set, maps one item of a list field to one item of the attribute
    (``whole`` is then that, item by item), and ``keep`` says which items may be kept by value (None: all)."""

    name: str
    whole: Callable[[Mapping[str, Any], bool], Messages]
    element: Optional[Callable[[Any, bool], Any]] = None
    keep: Optional[Callable[[Any], bool]] = None


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
    # (id, name) of the tool calls in a response: not content, read only inside an Agents SDK agent span.
    tool_calls: Callable[[Any], list[tuple[str, str]]] = _no_tool_calls
    # The body key naming the model; None for APIs whose model is not in the body.
    model_key: Optional[str] = "model"
    # The start attribute that ``model_key``'s value becomes, and that names the span after the operation:
    # the request model, or (retrieval) the data source.
    name_attribute: str = sc.REQUEST_MODEL
    # Opt-in content that is not messages (retrieval's query and documents): attribute -> structured value,
    # recorded on spans only, bounded and JSON-encoded like messages; None where an API has none.
    request_content: Optional[Callable[[Mapping[str, Any]], dict[str, Any]]] = None
    response_content: Optional[Callable[[Any], dict[str, Any]]] = None
    # The mapping's view of the request (``FinalRequestOptions`` in, a body-like mapping out); GET
    # endpoints and SDK-added defaults need more than ``json_data``.
    request_body: Callable[[Any], Mapping[str, Any]] = json_body
    # Azure clients bound to a deployment send this endpoint to ``/deployments/{name}/...`` (the SDK's
    # ``_deployments_endpoints``); other endpoints use the body's ``model``.
    azure_deployment_path: bool = False
    # Where each input content attribute comes from, for the span's JSON memo: (attribute, field) for every
    # attribute the functions above give. Empty: the span's JSON is built from those functions every call.
    content_fields: tuple[tuple[str, Field], ...] = ()
    # The span's output messages of the usual response written as JSON directly (response, content limit ->
    # text, or None where ``output_messages`` must be built): what ``_content.bounded_json`` makes of them.
    output_json: Optional[Callable[[Any, int], Optional[str]]] = None


CHAT = Api(
    operation=sc.OP_CHAT,
    request_attributes=chat.request_attributes,
    response_attributes=chat.response_attributes,
    accumulator=chat.ChatAccumulator,
    input_messages=chat.input_messages,
    output_messages=chat.output_messages,
    tool_definitions=chat.tool_definitions,
    azure_deployment_path=True,
    tool_calls=chat.tool_calls,
    output_json=chat.output_json,
    content_fields=(
        (sc.INPUT_MESSAGES, Field("messages", chat.input_messages, chat.input_message)),
        # Whole: a tool list seldom changes between calls, and one key for it costs less than one per tool.
        (sc.TOOL_DEFINITIONS, Field("tools", chat.tool_definitions)),
    ),
)

EMBEDDINGS = Api(
    operation=sc.OP_EMBEDDINGS,
    request_attributes=embeddings.request_attributes,
    response_attributes=embeddings.response_attributes,
    request_body=embeddings.request_body,
    azure_deployment_path=True,
)

RESPONSES = Api(
    operation=sc.OP_CHAT,
    request_attributes=responses.request_attributes,
    response_attributes=responses.response_attributes,
    accumulator=responses.ResponsesAccumulator,
    input_messages=responses.input_messages,
    system_instructions=responses.system_instructions,
    output_messages=responses.output_messages,
    tool_definitions=responses.tool_definitions,
    tool_calls=responses.tool_calls,
    content_fields=(
        (sc.INPUT_MESSAGES, Field("input", responses.input_messages, responses.input_item)),
        (sc.SYSTEM_INSTRUCTIONS, Field("instructions", responses.system_instructions)),
        (sc.TOOL_DEFINITIONS, Field("tools", responses.tool_definitions, responses.tool_definition,
                                    responses.plain_tool)),
    ),
)

# GET /responses/{id}: a stored (often background) response, or its resumed event stream. The conventions'
# fetch_response operation: no inference, so no token usage (polling must not count the same tokens again),
# the output as opt-in content and no input (a fetched response does not carry it).
FETCH_RESPONSE = Api(
    operation=sc.OP_FETCH_RESPONSE,
    request_attributes=responses.fetch_request_attributes,
    response_attributes=responses.fetch_attributes,
    accumulator=responses.FetchAccumulator,
    output_messages=responses.output_messages,
    model_key=None,
    request_body=responses.retrieve_body,
)

# POST /responses/compact (openai >= 2.9): a billed model call on the Responses API that turns a conversation
# into a compacted one and returns its usage. The conventions name no compaction operation; it is inference
# on the Responses API (input in, generated output items and token usage out), so it is `chat`, like
# responses.create (the conventions' gen_ai.conversation.compacted marks later calls that *use* the result).
COMPACT = dataclasses.replace(RESPONSES, response_attributes=responses.compact_attributes, accumulator=None)

# POST /vector_stores/{id}/search (openai >= 1.66): the conventions' own example of a `retrieval`.
RETRIEVAL = Api(
    operation=sc.OP_RETRIEVAL,
    request_attributes=vector_stores.request_attributes,
    response_attributes=vector_stores.response_attributes,
    model_key=vector_stores.VECTOR_STORE_KEY,
    name_attribute=sc.DATA_SOURCE_ID,
    request_body=vector_stores.request_body,
    request_content=vector_stores.query,
    response_content=vector_stores.documents,
)

COMPLETIONS = Api(
    operation=sc.OP_TEXT_COMPLETION,
    request_attributes=completions.request_attributes,
    response_attributes=completions.response_attributes,
    accumulator=completions.CompletionsAccumulator,
    input_messages=completions.input_messages,
    output_messages=completions.output_messages,
    azure_deployment_path=True,
)

IMAGES = Api(
    operation=sc.OP_GENERATE_CONTENT,
    request_attributes=images.request_attributes,
    response_attributes=images.response_attributes,
    accumulator=images.ImagesAccumulator,
    input_messages=images.input_messages,
    output_messages=images.output_messages,
    azure_deployment_path=True,
)

SPEECH = Api(
    operation=sc.OP_GENERATE_CONTENT,
    request_attributes=audio.speech_request_attributes,
    response_attributes=audio.speech_response_attributes,
    input_messages=audio.speech_input_messages,
    system_instructions=audio.speech_instructions,
    azure_deployment_path=True,
)

TRANSCRIPTION = Api(
    operation=sc.OP_GENERATE_CONTENT,
    request_attributes=audio.transcription_request_attributes,
    response_attributes=audio.transcription_response_attributes,
    accumulator=audio.TranscriptionAccumulator,
    input_messages=audio.transcription_input_messages,
    output_messages=audio.transcription_output_messages,
    azure_deployment_path=True,
)

MODERATIONS = Api(
    operation=sc.OP_GENERATE_CONTENT,
    request_attributes=moderations.request_attributes,
    response_attributes=moderations.response_attributes,
    input_messages=moderations.input_messages,
    output_messages=moderations.output_messages,
)

# Variations are not among Azure's deployment endpoints.
IMAGE_VARIATIONS = dataclasses.replace(IMAGES, azure_deployment_path=False)

# (HTTP method, path) -> Api. Endpoints not listed here pass through untouched, at the cost of one lookup.
ROUTES: dict[tuple[str, str], Api] = {
    ("post", "/chat/completions"): CHAT,
    ("post", "/embeddings"): EMBEDDINGS,
    ("post", "/responses"): RESPONSES,
    ("post", "/responses/compact"): COMPACT,
    ("post", "/completions"): COMPLETIONS,
    ("post", "/images/generations"): IMAGES,
    ("post", "/images/edits"): IMAGES,
    ("post", "/images/variations"): IMAGE_VARIATIONS,
    ("post", "/audio/speech"): SPEECH,
    ("post", "/audio/transcriptions"): TRANSCRIPTION,
    ("post", "/audio/translations"): TRANSCRIPTION,
    ("post", "/moderations"): MODERATIONS,
}

# Paths with one id segment: (method, prefix, suffix, Api) matches "{prefix}{id}{suffix}". Consulted only
# when the exact lookup misses, so untraced endpoints pay a dict lookup, a partition and two cheap
# comparisons per pattern.
PATTERNS: tuple[tuple[str, str, str, Api], ...] = (
    ("get", "/responses/", "", FETCH_RESPONSE),
    ("post", "/vector_stores/", "/search", RETRIEVAL),
)


def route(method: str, url: str) -> Optional[Api]:
    """The mapping for a request, or None for endpoints we do not trace. A query string in the path (the
    3.x ``client.beta.responses`` endpoints say ``/responses?beta=true``) does not change the endpoint."""
    method = method.lower()
    api = ROUTES.get((method, url))
    if api is not None:
        return api
    path, question_mark, _ = url.partition("?")
    if question_mark:
        api = ROUTES.get((method, path))
        if api is not None:
            return api
    for pattern_method, prefix, suffix, pattern_api in PATTERNS:
        # Exactly one non-empty segment between prefix and suffix: /responses/{id}, not /responses/{id}/cancel.
        if method == pattern_method and path.startswith(prefix) and path.endswith(suffix):
            segment = path[len(prefix):len(path) - len(suffix)]
            if segment and "/" not in segment:
                return pattern_api
    return None
