"""Build one virtualenv per peer instrumentor under benchmarks/.venvs/, pinned like the main environment.

Peers run on openai 2.x (the official openai-v2 instrumentor does not import on openai 3). Every venv gets
the same openai, pydantic, httpx and OpenTelemetry SDK versions, so the uninstrumented baseline is the same.
Usage: ``python benchmarks/peers.py`` (idempotent; ``--force`` rebuilds).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENVS = HERE / ".venvs"
OPENAI = "openai==2.54.0"
PACKAGES = {
    # 2.4b0 imports opentelemetry.util.genai.instruments, which util-genai 1.2b0 removed.
    "openai-v2": ["opentelemetry-instrumentation-openai-v2==2.4b0", "opentelemetry-util-genai==1.1b0"],
    "openllmetry": ["opentelemetry-instrumentation-openai==0.62.4"],
    "openinference": ["openinference-instrumentation-openai==0.1.66"],
}
PEER_NAMES = tuple(PACKAGES)
# Pinned to what this interpreter has, when it has them, so baselines match.
SHARED = ("pydantic", "pydantic-core", "httpx", "httpcore", "anyio", "jiter", "opentelemetry-api",
          "opentelemetry-sdk", "wrapt")


def python(name: str) -> Path:
    return VENVS / name / "bin" / "python"


def _pins() -> list[str]:
    pins = []
    for dist in SHARED:
        try:
            pins.append(f"{dist}=={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            continue
    return pins


def setup(names: list[str], force: bool = False) -> None:
    for name in names:
        target = VENVS / name
        marker = target / ".ready"
        if marker.exists() and not force:
            continue
        print(f"building {target} ...", file=sys.stderr)
        venv.EnvBuilder(with_pip=True, clear=True).create(target)
        subprocess.run([str(python(name)), "-m", "pip", "install", "-q", OPENAI, *PACKAGES[name], *_pins()],
                       check=True)
        marker.write_text(" ".join(PACKAGES[name]) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*", default=list(PACKAGES))
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args()
    setup(args.names, args.force)


if __name__ == "__main__":
    main()
