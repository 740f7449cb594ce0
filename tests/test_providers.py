"""Server address/port from the client's base URL, and the provider name we are sure of."""

from __future__ import annotations

import types
from typing import Any

import openai
import pytest

from otel_openai import _semconv as sc
from otel_openai._providers import provider_name, server_attributes
from tests.conftest import fixture_json, http, json_response, make_client

MESSAGES = [{"role": "user", "content": "Hi"}]


def client(url: str) -> Any:
    return types.SimpleNamespace(base_url=http.URL(url))


@pytest.mark.parametrize(("url", "expected"), [
    ("https://api.openai.com/v1/", {sc.SERVER_ADDRESS: "api.openai.com", sc.SERVER_PORT: 443}),
    ("http://localhost/v1", {sc.SERVER_ADDRESS: "localhost", sc.SERVER_PORT: 80}),
    ("http://127.0.0.1:8000/v1", {sc.SERVER_ADDRESS: "127.0.0.1", sc.SERVER_PORT: 8000}),
    ("https://my.proxy:8443", {sc.SERVER_ADDRESS: "my.proxy", sc.SERVER_PORT: 8443}),
])
def test_server_attributes(url: str, expected: dict[str, Any]) -> None:
    """Explicit ports are kept; implicit ones are 443 for https and 80 for http."""
    assert server_attributes(client(url)) == expected


def test_server_attributes_both_url_types() -> None:
    """httpx and httpx2 URLs (whichever are installed) give the same attributes."""
    import importlib

    for name in ("httpx", "httpx2"):
        try:
            lib = importlib.import_module(name)
        except ImportError:
            continue
        url = types.SimpleNamespace(base_url=lib.URL("https://api.openai.com/v1"))
        assert server_attributes(url) == {sc.SERVER_ADDRESS: "api.openai.com", sc.SERVER_PORT: 443}


@pytest.mark.parametrize(("host", "expected"), [
    ("api.openai.com", "openai"),
    ("my-resource.openai.azure.com", "azure.ai.openai"),
    ("api.deepseek.com", "deepseek"),
    ("api.groq.com", "groq"),
    ("localhost", "openai"),
    ("llm.internal.example", "openai"),
    ("", "openai"),
])
def test_provider_from_host(host: str, expected: str) -> None:
    """Only hosts we are certain of name another provider; anything else speaks the OpenAI API."""
    assert provider_name(object(), host, None) == expected


def test_override_wins() -> None:
    """The user's provider name beats detection."""
    assert provider_name(object(), "api.groq.com", "my_gateway") == "my_gateway"


async def test_azure_client_end_to_end(instrument: Any) -> None:
    """An ``AzureOpenAI`` client is reported as ``azure.ai.openai`` with its endpoint's host and port."""
    t = instrument()
    azure = openai.AzureOpenAI(
        api_key="azure-secret", api_version="2024-10-21", azure_endpoint="https://contoso.openai.azure.com",
        max_retries=0,
        http_client=http.Client(transport=http.MockTransport(
            lambda r: json_response(fixture_json("chat/plain.json")))),
    )
    azure.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    attrs = t.only_span().attributes
    assert attrs[sc.PROVIDER_NAME] == "azure.ai.openai"
    assert (attrs[sc.SERVER_ADDRESS], attrs[sc.SERVER_PORT]) == ("contoso.openai.azure.com", 443)


def test_provider_name_setting_end_to_end(instrument: Any) -> None:
    """``instrument(provider_name=...)`` is used for every span."""
    t = instrument(provider_name="vllm")
    make_client(lambda r: json_response(fixture_json("chat/plain.json"))).chat.completions.create(
        model="gpt-4o-mini", messages=MESSAGES)
    assert t.only_span().attributes[sc.PROVIDER_NAME] == "vllm"


def test_userinfo_never_recorded(instrument: Any) -> None:
    """Credentials embedded in a base URL never reach the span."""
    t = instrument()
    client = make_client(lambda r: json_response(fixture_json("chat/plain.json")),
                         base_url="https://user:hunter2@gateway.example:8443/v1")
    client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    span = t.only_span()
    assert (span.attributes[sc.SERVER_ADDRESS], span.attributes[sc.SERVER_PORT]) == ("gateway.example", 8443)
    assert "hunter2" not in span.to_json()
