"""Fixtures for the WebSocket tests: the loopback realtime/Responses server and real clients that talk to it."""

from __future__ import annotations

import contextlib
import inspect
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.conftest import http

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from fake_realtime_server import FakeRealtimeServer

pytest.importorskip("websockets", reason="the WebSocket APIs need the SDK's realtime extra (websockets)")

_NO_REALTIME = "this openai predates the WebSocket APIs (no realtime, no websocket_base_url: they came after 1.40)"


@pytest.fixture
def ws_server() -> Iterator[FakeRealtimeServer]:
    """The loopback WebSocket server, started and stopped around the test."""
    with FakeRealtimeServer() as running:
        yield running


@pytest.fixture
def ws_client(ws_server: FakeRealtimeServer, async_client: bool) -> Iterator[Any]:
    """A real sync or async client whose WebSockets go to the loopback server (its HTTP goes nowhere)."""
    cls, http_cls = (openai.AsyncOpenAI, http.AsyncClient) if async_client else (openai.OpenAI, http.Client)
    if "websocket_base_url" not in inspect.signature(cls.__init__).parameters:
        pytest.skip(_NO_REALTIME)
    yield cls(api_key="sk-test-secret", base_url="http://127.0.0.1:9/v1", max_retries=0,
              websocket_base_url=ws_server.websocket_base_url, http_client=http_cls())


@pytest.fixture(params=["ga", "beta"])
def realtime(request: Any, ws_client: Any) -> Any:
    """``client.realtime`` (GA) or ``client.beta.realtime``, skipped where the SDK lacks it."""
    resource = getattr(ws_client, "realtime", None) if request.param == "ga" else getattr(
        getattr(ws_client, "beta", None), "realtime", None)
    if resource is None or not hasattr(resource, "connect"):
        pytest.skip(_NO_REALTIME if request.param == "beta" else "this openai has no GA realtime API (late 1.x)")
    return resource


@pytest.fixture
def responses(ws_client: Any) -> Any:
    """``client.responses``, skipped where it cannot connect (openai 1.x)."""
    if not hasattr(ws_client.responses, "connect"):
        pytest.skip("this openai has no responses.connect() (it arrived in 2.x)")
    return ws_client.responses


@contextlib.asynccontextmanager
async def opened(manager: Any) -> AsyncIterator[Any]:
    """``with`` or ``async with`` the connection manager, as the user would."""
    if hasattr(manager, "__aenter__"):
        async with manager as connection:
            yield connection
    else:
        with manager as connection:
            yield connection


async def call(value: Any) -> Any:
    """A sync call's value, or an async call's awaited value."""
    return await value if hasattr(value, "__await__") else value


async def read_until(connection: Any, *kinds: str) -> list[Any]:
    """Events read with a ``for`` loop (``async for``) up to the first of ``kinds``."""
    found: list[Any] = []
    if hasattr(connection, "__aiter__"):
        async for event in connection:
            found.append(event)
            if event.type in kinds:
                break
    else:
        for event in connection:
            found.append(event)
            if event.type in kinds:
                break
    return found


async def recv_until(connection: Any, *kinds: str) -> list[Any]:
    """Events read with ``recv()`` up to the first of ``kinds``."""
    found = [await call(connection.recv())]
    while found[-1].type not in kinds:
        found.append(await call(connection.recv()))
    return found


def is_ga(realtime: Any) -> bool:
    return "beta" not in type(realtime).__module__


def session_config(realtime: Any, **settings: Any) -> dict[str, Any]:
    """A ``session.update`` payload in the API's own dialect: ``modalities``/``instructions``/``tools``/
    ``transcribe``/``vad`` settings."""
    config: dict[str, Any] = {}
    ga = is_ga(realtime)
    if ga:
        config["type"] = "realtime"
    if "modalities" in settings:
        config["output_modalities" if ga else "modalities"] = settings["modalities"]
    for key in ("instructions", "tools"):
        if key in settings:
            config[key] = settings[key]
    audio: dict[str, Any] = {}
    if settings.get("transcribe"):
        if ga:
            audio["transcription"] = {"model": "gpt-4o-transcribe"}
        else:
            config["input_audio_transcription"] = {"model": "gpt-4o-transcribe"}
    if "vad" in settings:
        if ga:
            audio["turn_detection"] = settings["vad"]
        else:
            config["turn_detection"] = settings["vad"]
    if audio:
        config["audio"] = {"input": audio}
    return config


WEATHER_TOOL = {"type": "function", "name": "get_weather", "description": "The weather in a city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}


def user_text(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
