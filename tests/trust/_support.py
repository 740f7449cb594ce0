"""Shared tools for the trust suites: a strict attribute validator, schema-aware fuzz strategies, SDK types."""

from __future__ import annotations

import collections.abc
import functools
import importlib
import json
import math
import os
import sys
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any, Callable, Optional

import openai
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from otel_openai._mapping import ROUTES, Api

# One profile for every fuzz test: no example database in the repository, no timing-based failures
# (CI machines are slow and shared), and enough examples to matter while the suite stays in minutes.
# TRUST_FUZZ_EXAMPLES raises the count for a deeper run; TRUST_FUZZ_RANDOM=1 explores new seeds instead
# of CI's reproducible ones.
FUZZ_EXAMPLES = int(os.environ.get("TRUST_FUZZ_EXAMPLES", "100"))
FUZZ = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    database=None,
    derandomize=os.environ.get("TRUST_FUZZ_RANDOM") != "1",
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_PRIMITIVES = (bool, str, int, float)


# --- what a valid OpenTelemetry attribute value is -------------------------------------------------


def attribute_problem(key: Any, value: Any) -> Optional[str]:
    """Why ``key=value`` is not a valid OpenTelemetry attribute, or None when it is.

    Stricter than the SDK (which now accepts any value and stringifies the rest): the spec's primitive
    types or homogeneous arrays of them; ints that fit OTLP's int64; strings an exporter can encode.
    """
    if not isinstance(key, str) or not key:
        return f"bad key {key!r}"
    if isinstance(value, (list, tuple)):
        kinds = {type(v) for v in value}
        if len(kinds) > 1:
            return f"{key}: mixed array {sorted(k.__name__ for k in kinds)}"
        return next((p for p in (_primitive_problem(key, v) for v in value) if p), None)
    return _primitive_problem(key, value)


def _primitive_problem(key: str, value: Any) -> Optional[str]:
    if not isinstance(value, _PRIMITIVES):
        return f"{key}: {type(value).__name__} is not an attribute type"
    if isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
        return f"{key}: int {value} does not fit int64"
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"{key}: string is not encodable as UTF-8 (lone surrogate)"
    return None


def attribute_problems(attrs: Optional[Mapping[str, Any]]) -> list[str]:
    """Every invalid entry of an attribute mapping."""
    return [p for p in (attribute_problem(k, v) for k, v in (attrs or {}).items()) if p]


def any_value_problem(key: str, value: Any, depth: int = 0) -> Optional[str]:
    """Why ``value`` is not a valid log attribute (an AnyValue: a primitive, or a map with non-empty string keys
    or an array of AnyValues, as the logs data model allows), or None when it is."""
    if value is None:
        return None
    if depth > 100:
        return f"{key}: nested deeper than any exporter encodes"
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str) or not k:
                return f"{key}: bad map key {k!r}"
            problem = any_value_problem(f"{key}.{k}", v, depth + 1)
            if problem:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        return next((p for p in (any_value_problem(f"{key}[]", v, depth + 1) for v in value) if p), None)
    problem = _primitive_problem(key, value)
    if problem is None and isinstance(value, float) and not math.isfinite(value):
        return f"{key}: non-finite float inside structured content"
    return problem


def log_attribute_problems(attrs: Optional[Mapping[str, Any]]) -> list[str]:
    """Every invalid entry of a log record's attributes: the GenAI content attributes are structured there
    (the conventions' event shape), every other attribute must be a plain attribute value."""
    problems = []
    for k, v in (attrs or {}).items():
        problem = any_value_problem(k, v) if k in STRUCTURED_KEYS else attribute_problem(k, v)
        if problem:
            problems.append(problem)
    return problems


STRUCTURED_KEYS = frozenset({"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.system_instructions",
                             "gen_ai.tool.definitions"})


# --- arbitrary JSON, with the nasty cases weighted in ----------------------------------------------

_NASTY_STRINGS = st.one_of(
    st.sampled_from(["", " ", "\x00", "\ud800", "a\udfffb", "null", "[DONE]", "{\"a\":", "\u202e"]),
    # Built lazily, so hypothesis never has to print a 100 kB literal.
    st.sampled_from([("🦜", 50), ("x", 100_000)]).map(lambda rep: rep[0] * rep[1]),
)
_NASTY_NUMBERS = st.sampled_from([
    0, -1, 2**63, -(2**63) - 1, 10**400, float("nan"), float("inf"), -float("inf"), 1e308, -0.0,
])
JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20), _NASTY_STRINGS,
    _NASTY_NUMBERS,
)


def _deep(depth: int) -> Any:
    value: Any = "bottom"
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


JSON = st.one_of(
    st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=4)
                 | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12),
    # Deeper than anything a sane API sends, shallower than json.loads' own limit.
    st.sampled_from([200, 900]).map(_deep),
)


# --- strategies derived from the SDK's own types -----------------------------------------------------

MAX_DEPTH = 6
_UNION_TYPES: tuple[Any, ...] = (typing.Union,) + ((types.UnionType,) if sys.version_info >= (3, 10) else ())
_WRAPPERS = {"Required", "NotRequired", "ReadOnly", "Annotated"}
_SEQUENCES = (list, tuple, collections.abc.Iterable, collections.abc.Sequence, collections.abc.Iterator)


def shaped(tp: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped like the SDK type ``tp`` (models and TypedDicts become dicts), where any field may
    also be missing, ``null`` or arbitrary JSON: valid JSON that violates the schema in every way."""
    if depth > MAX_DEPTH:
        return JSON_LEAVES
    return st.one_of(_conforming(tp, depth), st.none(), JSON)


@functools.cache
def _conforming(tp: Any, depth: int) -> st.SearchStrategy[Any]:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if (origin is not None and getattr(origin, "_name", None) in _WRAPPERS) or origin is typing.Annotated:
        return _conforming(args[0], depth)
    if origin in _UNION_TYPES:
        return st.one_of(*[_conforming(a, depth) for a in args])
    if origin is typing.Literal:
        return st.sampled_from(args)
    if origin in _SEQUENCES:
        item = args[0] if args else Any
        return st.lists(_lazy(item, depth + 1), max_size=3)
    if origin in (dict, collections.abc.Mapping):
        value = args[1] if len(args) == 2 else Any
        return st.dictionaries(st.text(max_size=8), _lazy(value, depth + 1), max_size=3)
    return _leaf_or_object(tp, depth)


def _lazy(tp: Any, depth: int) -> st.SearchStrategy[Any]:
    # Deferred, so a large union of models is only expanded when hypothesis actually draws into it.
    return st.deferred(lambda: shaped(tp, depth))


def _leaf_or_object(tp: Any, depth: int) -> st.SearchStrategy[Any]:
    simple = {str: st.one_of(st.text(max_size=30), _NASTY_STRINGS), int: st.integers(), float: st.floats(),
              bool: st.booleans(), type(None): st.none()}
    if tp in simple:
        return simple[tp]
    fields = _fields(tp)
    if fields is None:
        return JSON
    optional = {name: _lazy(ftp, depth + 1) for name, ftp in fields.items()}
    return st.fixed_dictionaries({}, optional=optional)


def _fields(tp: Any) -> Optional[dict[str, Any]]:
    """Field name (as sent on the wire) -> type, for pydantic models and TypedDicts."""
    model_fields = getattr(tp, "model_fields", None)
    if isinstance(model_fields, dict):
        return {(f.alias or name): f.annotation for name, f in model_fields.items()}
    if isinstance(tp, type) and issubclass(tp, dict) and hasattr(tp, "__annotations__"):
        try:
            return dict(typing.get_type_hints(tp, include_extras=True))
        except Exception:
            return {name: Any for name in getattr(tp, "__annotations__", {})}
    return None


# --- which SDK types each endpoint sends and receives ----------------------------------------------

# path -> (request params TypedDict, response model, stream chunk/event type), as dotted names so an
# SDK version without an API simply has no entry. Unknown paths get generic shapes.
_WIRE_TYPES: dict[str, tuple[str, str, str]] = {
    "/chat/completions": ("openai.types.chat.completion_create_params:CompletionCreateParamsBase",
                          "openai.types.chat:ChatCompletion", "openai.types.chat:ChatCompletionChunk"),
    "/completions": ("openai.types.completion_create_params:CompletionCreateParamsBase",
                     "openai.types:Completion", "openai.types:Completion"),
    "/embeddings": ("openai.types.embedding_create_params:EmbeddingCreateParams",
                    "openai.types:CreateEmbeddingResponse", ""),
    "/responses": ("openai.types.responses.response_create_params:ResponseCreateParamsBase",
                   "openai.types.responses:Response", "openai.types.responses:ResponseStreamEvent"),
    "/images/generations": ("openai.types.image_generate_params:ImageGenerateParamsBase",
                            "openai.types:ImagesResponse", "openai.types:ImageGenStreamEvent"),
    "/images/edits": ("openai.types.image_edit_params:ImageEditParamsBase",
                      "openai.types:ImagesResponse", "openai.types:ImageEditStreamEvent"),
    "/images/variations": ("openai.types.image_create_variation_params:ImageCreateVariationParams",
                           "openai.types:ImagesResponse", ""),
    "/moderations": ("openai.types.moderation_create_params:ModerationCreateParams",
                     "openai.types:ModerationCreateResponse", ""),
    "/audio/transcriptions": ("openai.types.audio.transcription_create_params:TranscriptionCreateParamsBase",
                              "openai.types.audio:Transcription",
                              "openai.types.audio:TranscriptionStreamEvent"),
    "/audio/translations": ("openai.types.audio.translation_create_params:TranslationCreateParams",
                            "openai.types.audio:Translation", ""),
    "/audio/speech": ("openai.types.audio.speech_create_params:SpeechCreateParams", "", ""),
}


def _load(dotted: str) -> Any:
    if not dotted:
        return None
    module, _, name = dotted.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        return None


class Endpoint:
    """One routed endpoint with the SDK types that cross it (None where this SDK has none)."""

    def __init__(self, method: str, path: str, api: Api) -> None:
        self.method, self.path, self.api = method, path, api
        names = _WIRE_TYPES.get(path, ("", "", ""))
        self.params, self.response, self.chunk = (_load(n) for n in names)

    def __repr__(self) -> str:
        return f"{self.method.upper()} {self.path}"

    def body(self) -> st.SearchStrategy[Any]:
        """Request bodies: shaped like the params when known, always a mapping (the SDK sends JSON objects)."""
        generic = st.dictionaries(st.sampled_from(_REQUEST_KEYS) | st.text(max_size=8), JSON, max_size=8)
        if self.params is None:
            return generic
        return st.one_of(_conforming(self.params, 0), generic)

    def response_data(self) -> st.SearchStrategy[Any]:
        return shaped(self.response) if self.response is not None else JSON

    def chunk_data(self) -> st.SearchStrategy[Any]:
        return shaped(self.chunk) if self.chunk is not None else JSON

    def build(self, tp: Any, data: Any) -> Any:
        """An SDK object from wire data, exactly as the SDK builds one without strict validation."""
        from openai._models import construct_type

        if tp is None:
            return construct_type(type_=openai.BaseModel, value=data) if isinstance(data, dict) else data
        return construct_type(type_=tp, value=data)


_REQUEST_KEYS = [
    "model", "messages", "input", "prompt", "instructions", "tools", "stream", "stream_options", "temperature",
    "top_p", "max_tokens", "max_completion_tokens", "max_output_tokens", "stop", "seed", "n",
    "response_format", "text", "reasoning", "reasoning_effort", "service_tier", "modalities",
    "previous_response_id", "conversation", "dimensions", "encoding_format", "size", "quality", "voice",
    "file", "language", "frequency_penalty", "presence_penalty", "user", "metadata",
]


def endpoints() -> list[Endpoint]:
    """Every endpoint in ``ROUTES`` right now, so APIs added later are fuzzed without editing tests."""
    return [Endpoint(method, path, api) for (method, path), api in sorted(ROUTES.items())]


def api_functions(api: Api) -> Iterable[tuple[str, Callable[..., Any]]]:
    """The request-side pure functions of an Api, by name."""
    yield "request_attributes", api.request_attributes
    yield "input_messages", lambda body: api.input_messages(body, False)
    yield "system_instructions", lambda body: api.system_instructions(body, False)
    yield "tool_definitions", api.tool_definitions


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def is_json_text(value: Any) -> bool:
    """Strict JSON (no NaN/Infinity, which Python accepts but collectors reject)."""
    try:
        json.loads(value, parse_constant=_reject_constant)
    except (TypeError, ValueError):
        return False
    return True
