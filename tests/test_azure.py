"""End to end: Azure OpenAI clients report azure.ai.openai, the deployment, the API version and the endpoint."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from otel_openai import _semconv as sc
from tests.conftest import fixture_json, http, json_response, resolve

ENDPOINT = "https://contoso.openai.azure.com"
API_VERSION = "2024-10-21"
MESSAGES = [{"role": "user", "content": "Hi"}]


def azure_client(handler: Any, async_client: bool, **kwargs: Any) -> Any:
    """A real (Async)AzureOpenAI client over a mock transport."""
    kwargs.update(api_version=API_VERSION, azure_endpoint=ENDPOINT, api_key="azure-key", max_retries=0)
    if async_client:
        async def ahandler(request: Any) -> Any:
            return handler(request)
        return openai.AsyncAzureOpenAI(http_client=http.AsyncClient(transport=http.MockTransport(ahandler)),
                                       **kwargs)
    return openai.AzureOpenAI(http_client=http.Client(transport=http.MockTransport(handler)), **kwargs)


def serve(name: str, seen: list[Any]) -> Any:
    def handler(request: Any) -> Any:
        seen.append(request)
        return json_response(fixture_json(name))
    return handler


async def test_chat_on_azure(instrument: Any, async_client: bool) -> None:
    """The model a user passes is the deployment; provider, API version and Azure endpoint are recorded."""
    seen: list[Any] = []
    t = instrument()
    client = azure_client(serve("chat/plain.json", seen), async_client)
    await resolve(client.chat.completions.create(model="my-gpt4o", messages=MESSAGES))
    assert seen[0].url.path == "/openai/deployments/my-gpt4o/chat/completions"
    span = t.only_span()
    assert span.name == "chat my-gpt4o"
    attrs = span.attributes
    assert attrs[sc.PROVIDER_NAME] == "azure.ai.openai"
    assert attrs[sc.REQUEST_MODEL] == "my-gpt4o"
    assert attrs[sc.AZURE_OPENAI_API_VERSION] == API_VERSION
    assert attrs[sc.SERVER_ADDRESS] == "contoso.openai.azure.com"
    assert attrs[sc.SERVER_PORT] == 443
    (point,) = t.metric_points(sc.METRIC_OPERATION_DURATION)
    assert point.attributes[sc.PROVIDER_NAME] == "azure.ai.openai"
    assert sc.AZURE_OPENAI_API_VERSION not in point.attributes


async def test_client_bound_deployment_is_the_request_model(instrument: Any, async_client: bool) -> None:
    """With azure_deployment= on the client, that deployment (where the call goes) is the request model."""
    seen: list[Any] = []
    t = instrument()
    client = azure_client(serve("chat/plain.json", seen), async_client, azure_deployment="prod-4o")
    await resolve(client.chat.completions.create(model="gpt-4o", messages=MESSAGES))
    assert "/deployments/prod-4o/" in seen[0].url.path
    span = t.only_span()
    assert span.name == "chat prod-4o"
    assert span.attributes[sc.REQUEST_MODEL] == "prod-4o"


@pytest.mark.skipif(not hasattr(openai.OpenAI, "responses"),
                    reason="the Responses API arrived in openai 1.66; this SDK lacks it")
async def test_responses_on_deployment_bound_client(instrument: Any, async_client: bool) -> None:
    """Responses is not a deployment endpoint: even on a deployment-bound client the body's model is used."""
    seen: list[Any] = []
    t = instrument()
    client = azure_client(serve("responses/text.json", seen), async_client, azure_deployment="prod-4o")
    await resolve(client.responses.create(model="gpt-4o-deploy", input="hi"))
    assert "/deployments/" not in seen[0].url.path
    attrs = t.only_span().attributes
    assert attrs[sc.REQUEST_MODEL] == "gpt-4o-deploy"
    assert attrs[sc.PROVIDER_NAME] == "azure.ai.openai"
    assert attrs[sc.AZURE_OPENAI_API_VERSION] == API_VERSION


async def test_embeddings_on_azure(instrument: Any, async_client: bool) -> None:
    """Embeddings on Azure carry the same provider attributes."""
    t = instrument()
    client = azure_client(serve("embeddings/float.json", []), async_client)
    await resolve(client.embeddings.create(model="embed-dep", input="hi", encoding_format="float"))
    attrs = t.only_span().attributes
    assert attrs[sc.OPERATION_NAME] == "embeddings"
    assert attrs[sc.PROVIDER_NAME] == "azure.ai.openai"
    assert attrs[sc.AZURE_OPENAI_API_VERSION] == API_VERSION


async def test_provider_override_beats_azure(instrument: Any, async_client: bool) -> None:
    """instrument(provider_name=) wins over the Azure client class."""
    t = instrument(provider_name="my.gateway")
    client = azure_client(serve("chat/plain.json", []), async_client)
    await resolve(client.chat.completions.create(model="my-gpt4o", messages=MESSAGES))
    assert t.only_span().attributes[sc.PROVIDER_NAME] == "my.gateway"


async def test_plain_client_has_no_azure_attributes(instrument: Any) -> None:
    """An OpenAI client pointed at an Azure host is still azure.ai.openai, without an API version to report."""
    t = instrument()
    client = openai.OpenAI(api_key="k", base_url=f"{ENDPOINT}/openai/v1", max_retries=0,
                           http_client=http.Client(transport=http.MockTransport(serve("chat/plain.json", []))))
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    attrs = t.only_span().attributes
    assert attrs[sc.PROVIDER_NAME] == "azure.ai.openai"
    assert sc.AZURE_OPENAI_API_VERSION not in attrs
    assert attrs[sc.REQUEST_MODEL] == "gpt-4o"
