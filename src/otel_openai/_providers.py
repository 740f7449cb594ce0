"""Where a client talks to: ``server.address``/``server.port`` and the GenAI provider name."""

from __future__ import annotations

import functools
import weakref
from typing import Any, Optional

from otel_openai import _semconv as sc
from otel_openai._mapping._common import Attributes, as_str

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


class ClientEntry:
    """What is known of one client and base URL: its attributes, and a cache for what callers derive from
    them (the start attributes per operation and model), which leaves with the client."""

    __slots__ = ("attrs", "derived")

    def __init__(self, attrs: Attributes) -> None:
        self.attrs = attrs
        self.derived: dict[Any, Any] = {}


# By ``id(client)``: a weak reference to the client, the base URL object and provider override the entry was
# computed for, and the entries per ``deployment_path``. Only the base URL can change in a client's life,
# and the SDK replaces the URL object when it does: an identity check notices. A plain dict costs one lookup
# per call (a WeakKeyDictionary would build a weak reference per lookup); an entry leaves with its client.
_by_client: dict[int, tuple[weakref.ref[Any], Any, Optional[str], dict[bool, ClientEntry]]] = {}


def client_attributes(client: Any, override: Optional[str], deployment_path: bool) -> Attributes:
    """Provider name, server address and port, and Azure attributes of a client, computed once per client
    and base URL. The dict is shared between calls: copy it, never change it."""
    return client_entry(client, override, deployment_path).attrs


def client_entry(client: Any, override: Optional[str], deployment_path: bool) -> ClientEntry:
    """The cached ``ClientEntry`` of a client and base URL (a fresh, uncached one when the client cannot be
    weakly referenced)."""
    # The SDK's ``base_url`` property returns ``_base_url`` (openai 1.x-3.x); openai 3 reaches it through a
    # function-level import on every read, so the field is read directly when it is there.
    url = client.__dict__.get("_base_url") or client.base_url
    key = id(client)
    cached = _by_client.get(key)
    if cached is None or cached[1] is not url or cached[2] != override or cached[0]() is not client:
        try:
            ref = weakref.ref(client, lambda _: _by_client.pop(key, None))
        except TypeError:  # a client that cannot be weakly referenced: computed every time
            return ClientEntry(_client_attributes(client, override, deployment_path))
        cached = _by_client[key] = (ref, url, override, {})
    entry = cached[3].get(deployment_path)
    if entry is None:
        entry = cached[3][deployment_path] = ClientEntry(_client_attributes(client, override, deployment_path))
    return entry


def _client_attributes(client: Any, override: Optional[str], deployment_path: bool) -> Attributes:
    server = server_attributes(client)
    attrs: Attributes = {sc.PROVIDER_NAME: provider_name(client, as_str(server.get(sc.SERVER_ADDRESS)), override)}
    attrs.update(server)
    attrs.update(azure_attributes(client, deployment_path))
    return attrs


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
