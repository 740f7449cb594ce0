"""Where a client talks to: ``server.address``/``server.port`` and the GenAI provider name."""

from __future__ import annotations

import functools
from typing import Any, Optional

from otel_openai import _semconv as sc
from otel_openai._mapping._common import Attributes

# Hosts whose provider is certain. Anything else reached through base_url is reported as "openai",
# the API it speaks, rather than guessed.
_KNOWN_HOSTS = {
    "api.openai.com": sc.PROVIDER_OPENAI,
    "api.deepseek.com": "deepseek",
    "api.groq.com": "groq",
    "api.mistral.ai": "mistral_ai",
    "api.x.ai": "x_ai",
    "api.perplexity.ai": "perplexity",
    "generativelanguage.googleapis.com": "gcp.gemini",
}
_KNOWN_SUFFIXES = ((".openai.azure.com", sc.PROVIDER_AZURE),)
_DEFAULT_PORTS = {"https": 443, "http": 80}


def server_attributes(client: Any) -> Attributes:
    """Server address and port from the client's base URL (an ``httpx.URL`` or ``httpx2.URL``)."""
    url = client.base_url
    return _server_attributes(url.scheme, url.host, url.port)


@functools.lru_cache(maxsize=64)
def _server_attributes(scheme: str, host: str, port: Optional[int]) -> Attributes:
    attrs: Attributes = {}
    if host:
        attrs[sc.SERVER_ADDRESS] = host
    port = port or _DEFAULT_PORTS.get(scheme)
    if port:
        attrs[sc.SERVER_PORT] = port
    return attrs


def provider_name(client: Any, host: Optional[str], override: Optional[str]) -> str:
    """The user's override, else Azure by client class, else a host we are sure of, else ``openai``."""
    if override:
        return override
    if _is_azure(client.__class__):
        return sc.PROVIDER_AZURE
    return _provider_for_host(host or "")


def azure_attributes(client: Any, deployment_path: bool) -> Attributes:
    """For Azure clients: the API version, and the deployment as request model when the client is
    bound to one (``azure_deployment=`` puts ``/deployments/{name}`` in the base URL) and the endpoint
    is one the SDK sends there (``deployment_path``), which makes the body's ``model`` irrelevant.
    Empty for every other client."""
    if not _is_azure(client.__class__):
        return {}
    attrs: Attributes = {}
    version = getattr(client, "_api_version", None)
    if isinstance(version, str) and version:
        attrs[sc.AZURE_OPENAI_API_VERSION] = version
    deployment = _deployment(str(client.base_url.path)) if deployment_path else None
    if deployment:
        attrs[sc.REQUEST_MODEL] = deployment
    return attrs


@functools.lru_cache(maxsize=64)
def _deployment(path: str) -> Optional[str]:
    segments = [s for s in path.split("/") if s]
    if "deployments" in segments:
        index = segments.index("deployments") + 1
        if index < len(segments):
            return segments[index]
    return None


@functools.lru_cache(maxsize=64)
def _is_azure(cls: Any) -> bool:
    return any(base.__name__ == "BaseAzureClient" for base in cls.__mro__)


@functools.lru_cache(maxsize=64)
def _provider_for_host(host: str) -> str:
    if host in _KNOWN_HOSTS:
        return _KNOWN_HOSTS[host]
    for suffix, name in _KNOWN_SUFFIXES:
        if host.endswith(suffix):
            return name
    return sc.PROVIDER_OPENAI
