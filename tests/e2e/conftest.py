"""End-to-end tests against real OTLP backends: collected only when OTEL_OPENAI_E2E=1 (the nox `e2e` session).

They install Arize Phoenix and MLflow from PyPI into cached virtualenvs and start them on loopback, which
takes minutes the first time, and they need ``opentelemetry-distro`` and ``opentelemetry-exporter-otlp``,
which the unit-test sessions do not install. So the default ``pytest tests`` run ignores this directory.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ENABLED = os.environ.get("OTEL_OPENAI_E2E") == "1"
if not ENABLED:
    collect_ignore_glob = ["test_*.py"]
else:
    ROOT = Path(__file__).resolve().parents[2]
    sys.path.insert(0, str(ROOT / "examples"))
    sys.path.insert(0, str(ROOT / "scripts"))

    import e2e_backends
    from fake_openai_server import FakeOpenAIServer

    from tests.e2e.otlp_receiver import OtlpReceiver

    @pytest.fixture(scope="session")
    def fake_openai() -> Iterator[Any]:
        """The loopback OpenAI-compatible server every app run talks to."""
        with FakeOpenAIServer() as server:
            yield server

    @pytest.fixture(scope="session", autouse=True)
    def _stop_backends_on_sigterm() -> Iterator[None]:
        """A SIGTERM (CI timeout, Ctrl-C of nox) unwinds through the fixtures, so every backend is stopped."""

        def interrupt(*_: Any) -> None:
            raise KeyboardInterrupt

        previous = signal.signal(signal.SIGTERM, interrupt)
        yield
        signal.signal(signal.SIGTERM, previous)

    @pytest.fixture(scope="session")
    def backend_venvs() -> None:
        """Both backends installed (in parallel) before either starts; cached across runs."""
        e2e_backends.ensure_all()

    @pytest.fixture(scope="session")
    def phoenix(backend_venvs: None) -> Iterator[e2e_backends.Server]:
        """Arize Phoenix on loopback for the whole session."""
        with e2e_backends.phoenix() as server:
            yield server

    @pytest.fixture(scope="session")
    def mlflow(backend_venvs: None) -> Iterator[e2e_backends.Server]:
        """An MLflow tracking server on loopback for the whole session."""
        with e2e_backends.mlflow() as server:
            yield server

    @pytest.fixture
    def receiver() -> Iterator[OtlpReceiver]:
        """A fresh loopback OTLP/HTTP receiver for traces, metrics and logs."""
        with OtlpReceiver() as otlp:
            yield otlp
