"""Replays recorded real OpenAI traffic (``../shared/cassettes``, VCR YAML) through a real client."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import openai

from tests._schemas import CASSETTES
from tests.conftest import http, make_client

# (method, path) -> (response type, stream event type); names resolved lazily, absent on older SDKs.
ROUTES = {
    ("post", "/chat/completions"): ("openai.types.chat:ChatCompletion", "openai.types.chat:ChatCompletionChunk"),
    ("post", "/completions"): ("openai.types:Completion", "openai.types:Completion"),
    ("post", "/embeddings"): ("openai.types:CreateEmbeddingResponse", None),
    ("post", "/responses"): ("openai.types.responses:Response", "openai.types.responses:ResponseStreamEvent"),
    ("get", "/responses/{id}"): ("openai.types.responses:Response", "openai.types.responses:ResponseStreamEvent"),
    ("post", "/images/generations"): ("openai.types:ImagesResponse", "openai.types:ImageGenStreamEvent"),
    ("post", "/moderations"): ("openai.types:ModerationCreateResponse", None),
}
_DROPPED_HEADERS = frozenset({"content-length", "transfer-encoding"})


@dataclasses.dataclass
class Interaction:
    """One recorded request and its response."""

    source: str
    method: str
    path: str
    route: tuple[str, str]
    body: Any
    status: int
    headers: list[tuple[str, str]]
    content: bytes


def _route_path(uri: str) -> tuple[str, str]:
    """The SDK-relative path (``/chat/completions``) and its route key (ids become ``{id}``)."""
    path = re.sub(r"^https?://[^/]+", "", uri).split("?")[0]
    path = re.sub(r"^/openai/deployments/[^/]+", "", path)  # Azure deployment URLs
    path = re.sub(r"^(/openai)?/v1", "", path)
    return path, re.sub(r"^/responses/[^/]+$", "/responses/{id}", path)


def _load(path: Path) -> Any:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open("rb") as f:
        return yaml.load(f, Loader=loader)


def interactions() -> Iterator[Interaction]:
    """Every recorded call to an endpoint we trace, in file order."""
    for file in sorted(CASSETTES.glob("*/*.yaml")):
        for item in (_load(file) or {}).get("interactions") or ():
            request, response = item["request"], item["response"]
            path, route = _route_path(request["uri"])
            key = (request["method"].lower(), route)
            if key not in ROUTES:
                continue
            raw = request.get("body")
            body = json.loads(raw) if isinstance(raw, (str, bytes)) and raw.strip() else None
            content = response["body"].get("string") or b""
            headers = [(k, v) for k, values in (response.get("headers") or {}).items()
                       for v in (values if isinstance(values, list) else [values])
                       if k.lower() not in _DROPPED_HEADERS]
            yield Interaction(f"{file.parent.name}/{file.name}", key[0], path, key, body,
                              int(response["status"]["code"]), headers,
                              content.encode() if isinstance(content, str) else content)


def _type(name: Optional[str]) -> Any:
    if name is None:
        return None
    module, _, attr = name.partition(":")
    try:
        return getattr(__import__(module, fromlist=[attr]), attr)
    except (ImportError, AttributeError):
        return None


def supported(interaction: Interaction) -> bool:
    """Whether this SDK has the types to parse the interaction (the Responses API arrived in 1.66)."""
    return _type(ROUTES[interaction.route][0]) is not None


class Replayer:
    """One real client whose transport answers each call with the current interaction's recorded response."""

    def __init__(self) -> None:
        self.current: Optional[Interaction] = None
        self.client = make_client(self._respond)

    def _respond(self, request: Any) -> Any:
        recorded = self.current
        assert recorded is not None
        return http.Response(recorded.status, headers=recorded.headers, content=recorded.content)

    def replay(self, interaction: Interaction) -> None:
        """Make the recorded call; the SDK's exceptions (recorded errors) are expected and ignored."""
        self.current = interaction
        cast_to, event = (_type(n) for n in ROUTES[interaction.route])
        body = interaction.body if isinstance(interaction.body, dict) else {}
        stream = body.get("stream") is True and event is not None
        options: dict[str, Any] = {"stream": stream}
        if stream:
            options["stream_cls"] = openai.Stream[event]
        try:
            if interaction.method == "get":
                result = self.client.get(interaction.path, cast_to=cast_to, **options)
            else:
                result = self.client.post(interaction.path, body=body, cast_to=cast_to, **options)
            if stream:
                for _ in result:
                    pass
        except (openai.OpenAIError, ValueError):
            pass

    def close(self) -> None:
        self.client.close()
