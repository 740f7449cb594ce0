"""Developer and CI entry points: tests per openai major, lint, type check, demo, benchmarks, e2e."""

from __future__ import annotations

import os

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]

TEST_DEPS = ["opentelemetry-sdk", "pytest", "pytest-asyncio", "hypothesis"]
# The loopback WebSocket server of the realtime tests, in the range of the SDK's `realtime` extra.
TEST_DEPS += ["websockets>=13,<16"]
# The oldest openai the package claims, and the newest release of each major.
OPENAI_VERSIONS = {
    "1.40-oldest": "openai==1.40.0",
    "1.x": "openai>=1.40,<2",
    "2.x": "openai>=2,<3",
    "3.x": "openai>=3,<4",
}
# openai 2.x and 3.x accept both HTTP libraries: run each major once more over the other one.
OTHER_HTTP = {
    "2.x-httpx2": ("openai[httpx2]>=2,<3", "httpx2"),
    "3.x-httpx": ("openai>=3,<4", "httpx"),
}


@nox.session(python=False)
def tests(session: nox.Session) -> None:
    """The whole suite: every openai major, then lint, type check and the end-to-end tests."""
    for name in [*OPENAI_VERSIONS, *OTHER_HTTP]:
        session.notify(f"unit-{name}")
    session.notify("lint")
    session.notify("typecheck")
    session.notify("e2e")


def _unit(session: nox.Session, requirement: str, http: str = "") -> None:
    session.install("-e", ".", requirement, *([http] if http else []), *TEST_DEPS)
    env = {"OTEL_OPENAI_TEST_HTTP": http} if http else {}
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *session.posargs, env=env)


def _register_unit_sessions() -> None:
    for name, requirement in OPENAI_VERSIONS.items():
        def run(session: nox.Session, requirement: str = requirement) -> None:
            _unit(session, requirement)

        run.__doc__ = f"The test suite against {requirement}."
        nox.session(name=f"unit-{name}")(run)
    for name, (requirement, http) in OTHER_HTTP.items():
        def run_other(session: nox.Session, requirement: str = requirement, http: str = http) -> None:
            _unit(session, requirement, http)

        run_other.__doc__ = f"The test suite against {requirement}, over {http} clients."
        nox.session(name=f"unit-{name}")(run_other)


_register_unit_sessions()


@nox.session
def lint(session: nox.Session) -> None:
    """ruff over the source, tests, examples and benchmarks."""
    session.install("ruff")
    session.run("ruff", "check", "src", "tests", "examples", "benchmarks", "scripts", "noxfile.py")


@nox.session
def typecheck(session: nox.Session) -> None:
    """Strict mypy on src/."""
    session.install("-e", ".", "mypy", "openai", "opentelemetry-sdk")
    session.run("mypy", "--strict", "src")


@nox.session
def demo(session: nox.Session) -> None:
    """The main job: the traced weather agent against a loopback OpenAI-compatible server."""
    session.install("-e", ".", "openai", "opentelemetry-distro", "opentelemetry-exporter-otlp-proto-http")
    session.run("python", "examples/demo.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """The overhead benchmark (see benchmarks/README.md); pass --quick for a short run."""
    session.install("-e", ".", "openai", "opentelemetry-sdk")
    session.run("python", "benchmarks/run.py", *session.posargs)


@nox.session
def soak(session: nox.Session) -> None:
    """The full-size soak run (50,000 calls of each kind)."""
    session.install("-e", ".", "openai", *TEST_DEPS)
    session.run("python", "-m", "tests.trust.soak", "--calls", "50000", *session.posargs)


@nox.session
def e2e(session: nox.Session) -> None:
    """Zero-code export into real OTLP backends (Phoenix, MLflow) on loopback."""
    session.install("-e", ".", "openai", "opentelemetry-distro", "opentelemetry-exporter-otlp", "pyyaml",
                    *TEST_DEPS)
    env = {"OTEL_OPENAI_E2E": "1", **({"CI": os.environ["CI"]} if "CI" in os.environ else {})}
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/e2e", *session.posargs, env=env)
