"""Screenshot a traced weather-agent run in the Phoenix UI (headless Chromium) for docs/images/.

Starts Phoenix on loopback (scripts/e2e_backends.py) and the fake OpenAI server, runs the unchanged
examples/weather_agent.py under ``opentelemetry-instrument`` with content capture on, waits until the
agent's trace is in Phoenix, and has headless Chromium load the trace page and save a PNG. Needs
otel-openai, openai, opentelemetry-distro and opentelemetry-exporter-otlp-proto-http in this interpreter's
environment, and Chromium (Debian: ``apt-get install chromium``). Not run in CI.

    python scripts/screenshot.py [--out docs/images/phoenix-agent-trace.png] [--span chat]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))

import e2e_backends  # noqa: E402  (scripts/ and examples/ are not packages)
from fake_openai_server import FakeOpenAIServer  # noqa: E402

from tests.e2e.readback import wait_for_phoenix  # noqa: E402

PROJECT = "weather-agent"
AGENT_SPANS = 4  # invoke_agent, chat, execute_tool, chat


def run_agent(phoenix: e2e_backends.Server, base_url: str) -> None:
    """The weather agent, unchanged, under zero-code instrumentation, exporting to Phoenix."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    env.update(
        {
            "OPENAI_BASE_URL": base_url,
            "OPENAI_API_KEY": "sk-screenshot-unused",
            "OTEL_SERVICE_NAME": PROJECT,
            "OTEL_RESOURCE_ATTRIBUTES": f"openinference.project.name={PROJECT}",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"{phoenix.urls['otlp_http']}/v1/traces",
            "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_LOGS_EXPORTER": "none",
            "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_ONLY",
        }
    )
    instrument = Path(sys.executable).parent / "opentelemetry-instrument"
    subprocess.run([str(instrument), sys.executable, str(ROOT / "examples" / "weather_agent.py")], env=env, check=True)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    sys.exit("Chromium not found: apt-get install chromium")


def screenshot(url: str, out: Path, width: int, height: int) -> None:
    """Headless Chromium renders the single-page app for a while, then saves the viewport."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="screenshot-profile-") as profile:
        # --no-sandbox: Chromium refuses to run as root otherwise; the page is our own loopback Phoenix.
        flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                 "--disable-extensions", "--disable-background-networking", f"--user-data-dir={profile}",
                 f"--window-size={width},{height}", "--virtual-time-budget=20000", f"--screenshot={out}"]
        subprocess.run(
            [chromium(), *flags, url],
            check=True,
            timeout=180,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images" / "phoenix-agent-trace.png")
    parser.add_argument("--span", default="chat", help="select the first span whose name starts with this")
    parser.add_argument("--size", default="1600x1000")
    args = parser.parse_args()
    width, height = (int(n) for n in args.size.split("x"))
    with e2e_backends.phoenix() as phoenix, FakeOpenAIServer(latency=0.05) as fake:
        run_agent(phoenix, fake.base_url)
        spans = wait_for_phoenix(phoenix, PROJECT, AGENT_SPANS)
        selected = min((s for s in spans if s.name.startswith(args.span)), key=lambda s: s.start_ns)
        # Phoenix's own redirect opens the span's trace with that span selected.
        url = f"{phoenix.urls['base']}/redirects/spans/{selected.span_id}"
        screenshot(url, args.out, width, height)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
