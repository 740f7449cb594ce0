"""Developer and CI entry points: tests per openai major, lint, type check, demo, benchmarks, e2e."""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

import nox

nox.options.default_venv_backend = "venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]

TEST_DEPS = ["opentelemetry-sdk", "pytest", "pytest-asyncio", "hypothesis", "jsonschema", "pyyaml", "fsspec"]
# The loopback WebSocket server of the realtime tests, in the range of the SDK's `realtime` extra.
TEST_DEPS += ["websockets>=13,<16"]
# The oldest openai the package claims, and the newest release of each major.
OPENAI_VERSIONS = {
    "1.40-oldest": "openai==1.40.0",
    "1.x": "openai>=1.40,<2",
    "2.x": "openai>=2,<3",
    "3.x": "openai>=3,<4",
}
# openai-agents pins one openai major per release line (its `openai` requirement): 0.3.x is the last for openai 1.x
# (openai>=1.107.1, Python 3.9+), 0.20.0 the last for 2.x (openai>=2.45), 0.21+ need 3.x; 0.4+ need Python 3.10.
# Installed in the matching unit sessions; unit-1.40-oldest's openai is too old for any of them (tests skip there).
AGENTS_SDK = {
    "1.x": "openai-agents==0.3.3",
    "2.x": "openai-agents==0.20.0; python_version >= '3.10'",
    "3.x": "openai-agents==0.24.0; python_version >= '3.10'",
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
    session.notify("frameworks")


# Pure functions of request and response data: the HTTP library never reaches them, so the runs over the other
# library leave them out (they run in every major's own session).
PURE_TESTS = ("tests/_mapping", "tests/trust/test_fuzz_mapping.py")


def _unit(session: nox.Session, requirement: str, http: str = "", extra: tuple[str, ...] = ()) -> None:
    session.install("-e", ".", requirement, *([http] if http else []), *extra, *TEST_DEPS)
    env = {"OTEL_OPENAI_TEST_HTTP": http} if http else {}
    ignore = [f"--ignore={path}" for path in PURE_TESTS] if http else []
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", *ignore, *session.posargs, env=env)


def _register_unit_sessions() -> None:
    for name, requirement in OPENAI_VERSIONS.items():
        def run(session: nox.Session, requirement: str = requirement,
                extra: tuple[str, ...] = tuple(filter(None, [AGENTS_SDK.get(name)]))) -> None:
            _unit(session, requirement, extra=extra)

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
    session.install("-e", ".", "openai", "opentelemetry-distro", "opentelemetry-exporter-otlp-proto-http",
                    AGENTS_SDK["3.x"])
    session.run("python", "examples/demo.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """The overhead benchmark (see benchmarks/README.md); pass --quick for a short run."""
    session.install("-e", ".", "openai", "opentelemetry-sdk", AGENTS_SDK["3.x"])  # agents_sdk.py needs it
    session.run("python", "benchmarks/run.py", *session.posargs)


# The figures bench_compare compares with: the last instructions.py run recorded (benchmarks/README.md).
BENCH_BASELINE = "benchmarks/baseline/instructions.json"
BENCH_SCENARIOS = "chat,tools,responses,embeddings_base64,chat_stream,chat_stream_short,responses_stream"


@nox.session
def bench_compare(session: nox.Session) -> None:
    """Instruction counts of every scenario under valgrind, compared with the recorded baseline; fails when
    one got slower (the call and stream scenarios, and ``trace_tool``). ``nox -s bench_compare --
    [instructions.py options]``; installs the baseline's openai,
    OpenTelemetry SDK and wrapt, so the comparison is like for like."""
    import json

    if shutil.which("valgrind") is None:
        session.error("bench_compare needs valgrind (apt-get install valgrind)")
    meta = json.loads(Path(BENCH_BASELINE).read_text())["meta"]
    session.install("-e", ".", *(f"{name}=={meta[name]}" for name in ("openai", "opentelemetry-sdk", "wrapt")))
    out = "benchmarks/results/instructions-compare.json"
    session.run("python", "benchmarks/instructions.py", "--steady", "--no-chunk", "--jobs", "2", "--out", out,
                *(session.posargs or ["--scenarios", BENCH_SCENARIOS, "--calls", "10", "--stream-calls", "2",
                                      "--repeat", "3"]))
    session.run("python", "benchmarks/trace_tool.py", "--out", "benchmarks/results/trace_tool-compare.json")
    session.run("python", "benchmarks/compare.py", BENCH_BASELINE, out, "benchmarks/results/trace_tool-compare.json")


@nox.session
def soak(session: nox.Session) -> None:
    """The full-size soak run (50,000 calls of each kind)."""
    session.install("-e", ".", "openai", *TEST_DEPS)
    session.run("python", "-m", "tests.trust.soak", "--calls", "50000", *session.posargs)


@nox.session
def e2e(session: nox.Session) -> None:
    """Zero-code export into real OTLP backends (Phoenix, MLflow) on loopback."""
    session.install("-e", ".", "openai", "opentelemetry-distro", "opentelemetry-exporter-otlp", "pyyaml",
                    AGENTS_SDK["3.x"], *TEST_DEPS)
    env = {"OTEL_OPENAI_E2E": "1", **({"CI": os.environ["CI"]} if "CI" in os.environ else {})}
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/e2e", *session.posargs, env=env)


# Frameworks that drive the OpenAI SDK, each at its newest release, in as few venvs as their openai ranges
# allow: LlamaIndex caps openai below 3 and instructor's jiter pin keeps it off the newest 3.x releases.
FRAMEWORKS = {
    "3.x": ("openai>=3,<4", ("langchain-openai", "openai-agents", "pydantic-ai-slim[openai]", "litellm"),
            ("langchain", "openai_agents", "pydantic_ai", "litellm")),
    "2.x": ("openai>=2,<3", ("instructor", "llama-index-llms-openai", "llama-index-core"),
            ("instructor", "llama_index")),
}


@nox.session(python=False)
def frameworks(session: nox.Session) -> None:
    """Each framework against the loopback server, instrumented and not (tests/frameworks/)."""
    for name in FRAMEWORKS:
        session.notify(f"frameworks-{name}")


def _frameworks(session: nox.Session, openai: str, packages: tuple[str, ...], modules: tuple[str, ...]) -> None:
    # pip's resolver backtracks for many minutes over these dependency trees; uv resolves them in seconds.
    session.install("uv")
    session.run_install("uv", "pip", "install", "--quiet", "-e", ".", openai, *packages, *TEST_DEPS)
    paths = [f"tests/frameworks/test_{module}.py" for module in modules]
    session.run("python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *paths, *session.posargs,
                env={"OTEL_OPENAI_FRAMEWORKS": "1"})


def _register_framework_sessions() -> None:
    for name, (openai, packages, modules) in FRAMEWORKS.items():
        def run(session: nox.Session, openai: str = openai, packages: tuple[str, ...] = packages,
                modules: tuple[str, ...] = modules) -> None:
            _frameworks(session, openai, packages, modules)

        run.__doc__ = f"Framework tests on {openai}: {', '.join(packages)}."
        nox.session(name=f"frameworks-{name}")(run)


_register_framework_sessions()


@nox.session
def build(session: nox.Session) -> None:
    """The sdist and wheel in dist/ (python -m build), checked by twine check; then the README's install in a
    fresh venv: the wheel installs, imports, and opentelemetry-instrument finds and uses it."""
    session.install("build", "twine")
    shutil.rmtree("dist", ignore_errors=True)
    session.run("python", "-m", "build", "--outdir", "dist")
    session.run("twine", "check", "--strict", *glob.glob("dist/*"))
    fresh = Path(session.create_tmp()) / "fresh-install"
    session.run("python", "-m", "venv", "--clear", str(fresh))
    python = str(fresh / "bin" / "python")
    session.run(python, "-m", "pip", "install", "--quiet", *glob.glob("dist/*.whl"), "openai",
                "opentelemetry-distro", external=True)
    session.run(python, "scripts/check_install.py", external=True)
