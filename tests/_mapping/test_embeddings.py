"""Pure embeddings mapping: the user's encoding format, dimensions, and usage from SDK objects."""

from __future__ import annotations

import functools
from typing import Any

from openai.types import CreateEmbeddingResponse

from otel_openai import _semconv as sc
from otel_openai._mapping import embeddings
from tests.conftest import fixture_json


class Options:
    """The two fields of ``FinalRequestOptions`` the mapping reads."""

    def __init__(self, body: Any, post_parser: Any = None) -> None:
        self.json_data = body
        self.post_parser = post_parser


def closure_parser(encoding_format: Any) -> Any:
    """A parser shaped like openai 1.x/2.x's: a closure over the user's ``encoding_format``."""
    def parser(obj: Any) -> Any:
        return (obj, encoding_format)[0]  # refers to encoding_format, so it is a closure cell
    return parser


def partial_parser(obj: Any, *, encoding_format: Any) -> Any:
    return obj


class NotGiven:
    """Stands in for the SDK's NOT_GIVEN / omit sentinels."""


def test_sdk_default_dropped_closure() -> None:
    """A closure parser built without a user format means the body's base64 was the SDK's."""
    body = {"model": "m", "input": "x", "encoding_format": "base64"}
    assert embeddings.request_body(Options(body, closure_parser(NotGiven()))) == {"model": "m", "input": "x"}


def test_sdk_default_dropped_partial() -> None:
    """openai 3.x's functools.partial parser is read the same way."""
    body = {"model": "m", "input": "x", "encoding_format": "base64"}
    parser = functools.partial(partial_parser, encoding_format=NotGiven())
    assert "encoding_format" not in embeddings.request_body(Options(body, parser))


def test_user_format_kept() -> None:
    """A user-chosen format is kept, from either parser shape."""
    body = {"model": "m", "encoding_format": "base64"}
    assert embeddings.request_body(Options(body, closure_parser("base64")))["encoding_format"] == "base64"
    parser = functools.partial(partial_parser, encoding_format="float")
    assert embeddings.request_body(Options({"model": "m", "encoding_format": "float"}, parser)) == {
        "model": "m", "encoding_format": "float"}


def test_unknown_parser_keeps_body() -> None:
    """Without an SDK embeddings parser (raw client.post) the body is taken as sent."""
    body = {"model": "m", "encoding_format": "base64"}
    assert embeddings.request_body(Options(body, None)) is body
    assert embeddings.request_body(Options(body, lambda o: o)) is body
    assert embeddings.request_body(Options(None)) == {}


def test_request_attributes() -> None:
    """Dimensions become the dimension count; the format a one-element list."""
    attrs = embeddings.request_attributes({"dimensions": 256, "encoding_format": "float"})
    assert attrs == {sc.EMBEDDINGS_DIMENSION_COUNT: 256, sc.REQUEST_ENCODING_FORMATS: ["float"]}
    assert embeddings.request_attributes({"dimensions": True}) == {}


def test_response_attributes() -> None:
    """Response model and prompt tokens as input tokens; no output tokens."""
    response = CreateEmbeddingResponse.model_validate(fixture_json("embeddings/float.json"))
    assert embeddings.response_attributes(response) == {
        sc.RESPONSE_MODEL: "text-embedding-3-small", sc.USAGE_INPUT_TOKENS: 7}


def test_response_without_usage() -> None:
    """A compatible server's null usage and model give no attributes rather than an error."""
    response = CreateEmbeddingResponse.construct(**fixture_json("embeddings/compat_no_usage.json"))
    assert embeddings.response_attributes(response) == {}
