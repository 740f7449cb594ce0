"""Run the e2e app in a subprocess, configured by the shell snippets of docs/production.md."""

from __future__ import annotations

import os
import re
import shlex
import string
import subprocess
import sys
from pathlib import Path
from typing import Any, Optional

ROOT = Path(__file__).resolve().parents[2]
APP = Path(__file__).resolve().parent / "app.py"
PRODUCTION_DOC = ROOT / "docs" / "production.md"
_SNIPPET = re.compile(r"<!-- snippet: ([\w-]+) -->\s*```(\w+)\n(.*?)```", re.S)


def snippets() -> dict[str, tuple[str, str]]:
    """Name -> (language, body) for every ``<!-- snippet: NAME -->`` fenced block of docs/production.md."""
    return {name: (language, body) for name, language, body in _SNIPPET.findall(PRODUCTION_DOC.read_text())}


def snippet_env(name: str, replace: Optional[dict[str, str]] = None, **variables: str) -> dict[str, str]:
    """The ``export KEY=VALUE`` lines of a shell snippet as a dict.

    `replace` maps text of the documented endpoints (``localhost:4317``) to the loopback ones the test
    started; `variables` fill ``${NAME}`` references (secrets the reader would export).
    """
    language, body = snippets()[name]
    assert language == "bash", f"snippet {name} is {language}"
    env: dict[str, str] = {}
    for line in body.splitlines():
        words = shlex.split(line, comments=True)
        if words[:1] == ["export"]:
            for assignment in words[1:]:
                key, value = assignment.split("=", 1)
                value = string.Template(value).substitute(variables)
                for documented, actual in (replace or {}).items():
                    value = value.replace(documented, actual)
                env[key] = value
    return env


def snippet_commands(name: str) -> list[list[str]]:
    """The non-``export`` command lines of a shell snippet, split into words."""
    _, body = snippets()[name]
    lines = (shlex.split(line, comments=True) for line in body.splitlines())
    return [words for words in lines if words and words[0] != "export"]


def base_env(fake_openai: Any) -> dict[str, str]:
    """The app's environment before any OTEL_* setting: ours are dropped so only the snippet's count."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    env.update(
        {
            "OPENAI_BASE_URL": fake_openai.base_url,
            "OPENAI_API_KEY": "sk-e2e-unused",
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
            # Metrics and logs default to OTLP under opentelemetry-distro; a snippet that wants them says so.
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
        }
    )
    return env


def instrument_command() -> str:
    """``opentelemetry-instrument`` from the running interpreter's environment."""
    command = Path(sys.executable).parent / "opentelemetry-instrument"
    assert command.exists(), "opentelemetry-distro is not installed in this environment"
    return str(command)


def run_app(env: dict[str, str], argv: Optional[list[str]] = None, zero_code: bool = True) -> str:
    """Run the app to completion (exporters flush at exit) and return its stdout; fail on a non-zero exit."""
    argv = argv or [sys.executable, str(APP)]
    command = [instrument_command(), *argv] if zero_code else argv
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False, cwd=ROOT)
    assert done.returncode == 0, f"app failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    assert "failed as expected: RateLimitError" in done.stdout, done.stdout
    # An exporter that could not reach its endpoint logs and carries on: treat that as a failure here.
    for marker in ("Failed to export", "Transient error", "Exception while exporting"):
        assert marker not in done.stderr, done.stderr
    return done.stdout
