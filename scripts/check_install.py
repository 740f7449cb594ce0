"""Checks an installed otel-openai as the README promises: it imports, and opentelemetry-instrument finds it.

Run with the interpreter of a fresh venv holding the wheel, openai and opentelemetry-distro (``nox -s build``
does): ``python scripts/check_install.py``. It starts the loopback fake server, runs a one-call app under
``opentelemetry-instrument`` with the console exporter, and expects that call's span in the output.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from fake_openai_server import FakeOpenAIServer

APP = """
import openai
client = openai.OpenAI()
client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
"""


def check_import() -> None:
    import otel_openai

    version = importlib.metadata.version("otel-openai")
    assert otel_openai.__version__ == version, (otel_openai.__version__, version)
    assert "site-packages" in (otel_openai.__file__ or ""), f"not the installed copy: {otel_openai.__file__}"
    print(f"import otel_openai {version} from {Path(otel_openai.__file__ or '').parent}")


def check_entry_point() -> None:
    points = importlib.metadata.entry_points(group="opentelemetry_instrumentor")
    (point,) = [p for p in points if p.name == "openai"]
    assert point.value == "otel_openai:OpenAIInstrumentor", point.value
    assert point.load().__name__ == "OpenAIInstrumentor"
    print(f"entry point opentelemetry_instrumentor: {point.name} = {point.value}")


def check_zero_code() -> None:
    bin_dir = Path(sys.executable).parent
    with FakeOpenAIServer() as server:
        env = {**os.environ, "OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "unused",
               "OTEL_SERVICE_NAME": "check-install", "OTEL_TRACES_EXPORTER": "console",
               "OTEL_METRICS_EXPORTER": "none", "OTEL_LOGS_EXPORTER": "none"}
        done = subprocess.run([str(bin_dir / "opentelemetry-instrument"), sys.executable, "-c", APP], env=env,
                              capture_output=True, text=True, timeout=120, check=True)
    assert '"name": "chat gpt-4o-mini"' in done.stdout, done.stdout + done.stderr
    print("opentelemetry-instrument traced the call: chat gpt-4o-mini")


if __name__ == "__main__":
    check_import()
    check_entry_point()
    check_zero_code()
