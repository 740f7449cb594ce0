"""The demo: the weather agents, unchanged, under ``opentelemetry-instrument``, printed as trace trees.

It starts the loopback OpenAI-compatible server (no API key, no network), runs ``weather_agent.py --all``
and then the OpenAI Agents SDK app ``agents_sdk_agent.py`` in subprocesses under zero-code instrumentation
with the console span exporter and content capture on, and prints each agent run as a tree with
durations, tokens and messages. ``--real`` talks to the real OpenAI API instead (needs ``OPENAI_API_KEY``).
Needs ``otel-openai``, ``openai`` and ``opentelemetry-distro`` installed (and ``openai-agents`` for the
second app), which ``nox -s demo`` does.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from fake_openai_server import FakeOpenAIServer  # noqa: E402  (the examples folder is not a package)

Span = dict[str, Any]


# --- running the app -------------------------------------------------------------------------------


def instrument_command() -> Optional[str]:
    """``opentelemetry-instrument`` from this interpreter's environment, else from PATH."""
    local = Path(sys.executable).parent / "opentelemetry-instrument"
    return str(local) if local.exists() else shutil.which("opentelemetry-instrument")


def app_environment(base_url: Optional[str], capture: bool) -> dict[str, str]:
    """The app's environment: zero-code settings only; the app itself has no OpenTelemetry code."""
    env = dict(os.environ)
    env.update({
        "OTEL_SERVICE_NAME": "weather-agent",
        "OTEL_TRACES_EXPORTER": "console",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "SPAN_ONLY" if capture else "NO_CONTENT",
        "PYTHONUNBUFFERED": "1",
    })
    if base_url is not None:
        env.update({"OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "sk-fake-demo-key",
                    "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"})
    return env


def run_app(base_url: Optional[str], capture: bool = True,
            app: tuple[str, ...] = ("weather_agent.py", "--all")) -> tuple[list[str], list[Span]]:
    """Run an example app under ``opentelemetry-instrument``; its printed lines and exported spans."""
    command = instrument_command()
    if command is None:
        sys.exit("opentelemetry-instrument not found: pip install opentelemetry-distro (nox -s demo does)")
    argv = [command, sys.executable, str(HERE / app[0]), *app[1:]]
    done = subprocess.run(argv, env=app_environment(base_url, capture), capture_output=True, text=True,
                          timeout=300, check=False)
    if done.returncode != 0:
        sys.stderr.write(done.stderr)
        sys.exit(f"{app[0]} failed (exit code {done.returncode})")
    return split_output(done.stdout)


def split_output(stdout: str) -> tuple[list[str], list[Span]]:
    """Separate the app's own lines from the console exporter's JSON spans on the same stdout."""
    decoder = json.JSONDecoder()
    lines: list[str] = []
    spans: list[Span] = []
    pos = 0
    while pos < len(stdout):
        if stdout[pos] == "{":
            try:
                value, pos = decoder.raw_decode(stdout, pos)
            except ValueError:
                value = None
            if isinstance(value, dict) and "context" in value:
                spans.append(value)
                continue
        end = stdout.find("\n", pos)
        end = len(stdout) if end < 0 else end
        if stdout[pos:end].strip():
            lines.append(stdout[pos:end])
        pos = end + 1
    return lines, spans


# --- printing the trace ------------------------------------------------------------------------------


def _time(value: str) -> datetime:
    return datetime.strptime(value.rstrip("Z")[:26], "%Y-%m-%dT%H:%M:%S.%f")


def duration_ms(span: Span) -> float:
    return (_time(span["end_time"]) - _time(span["start_time"])).total_seconds() * 1000


def traces(spans: list[Span]) -> list[list[Span]]:
    """Spans grouped by trace, traces in the order they started."""
    by_trace: dict[str, list[Span]] = {}
    for span in spans:
        by_trace.setdefault(span["context"]["trace_id"], []).append(span)
    groups = [sorted(group, key=lambda s: s["start_time"]) for group in by_trace.values()]
    return sorted(groups, key=lambda g: g[0]["start_time"])


def render_trace(spans: list[Span]) -> list[str]:
    """One trace as an indented tree, children in start order."""
    ids = {span["context"]["span_id"] for span in spans}
    children: dict[Optional[str], list[Span]] = {}
    for span in spans:
        parent = span.get("parent_id")
        children.setdefault(parent if parent in ids else None, []).append(span)
    out: list[str] = []

    def walk(span: Span, prefix: str, last: bool, root: bool) -> None:
        branch = "" if root else ("└── " if last else "├── ")
        out.append(f"{prefix}{branch}{span['name']}  ({duration_ms(span):.1f} ms){_status(span)}")
        inner = prefix + ("" if root else ("    " if last else "│   "))
        kids = children.get(span["context"]["span_id"], [])
        bar = "│   " if kids else "    "
        out.extend(f"{inner}{bar}{line}" for line in details(span))
        for i, kid in enumerate(kids):
            walk(kid, inner, i == len(kids) - 1, False)

    for root in children.get(None, []):
        walk(root, "", True, True)
    return out


def _status(span: Span) -> str:
    status = span.get("status", {})
    return f"  ERROR {status.get('description', '')}" if status.get("status_code") == "ERROR" else ""


def details(span: Span) -> list[str]:
    """The few attributes worth reading in a terminal, one short line each."""
    attrs = span.get("attributes", {})
    lines: list[str] = []
    if "gen_ai.usage.input_tokens" in attrs:
        reasons = ",".join(attrs.get("gen_ai.response.finish_reasons", []))
        lines.append(f"tokens: {attrs['gen_ai.usage.input_tokens']} in / "
                     f"{attrs.get('gen_ai.usage.output_tokens', '?')} out   finish: {reasons}")
    if attrs.get("gen_ai.request.stream"):
        ttfc = attrs.get("gen_ai.response.time_to_first_chunk")
        lines.append("streamed" + (f", first chunk after {ttfc * 1000:.1f} ms" if ttfc is not None else ""))
    if "gen_ai.agent.name" in attrs and attrs.get("gen_ai.operation.name") == "chat":
        lines.append(f"agent: {attrs['gen_ai.agent.name']}")
    if "gen_ai.tool.call.id" in attrs:
        lines.append(f"call id: {attrs['gen_ai.tool.call.id']}")
    for key, label in (("gen_ai.tool.call.arguments", "arguments"), ("gen_ai.tool.call.result", "result")):
        if key in attrs:
            lines.append(f"{label}: {attrs[key]}")
    lines.extend(_event(event) for event in span.get("events", []))
    for key, arrow in (("gen_ai.input.messages", "→"), ("gen_ai.output.messages", "←")):
        for message in _json(attrs.get(key)) or []:
            lines.append(_shorten(f"{arrow} {message.get('role')}: {_parts(message.get('parts', []))}"))
    return lines


def _event(event: dict[str, Any]) -> str:
    """A guardrail result or a handoff, on the agent span it happened in."""
    attrs = event.get("attributes", {})
    if event.get("name") == "openai_agents.handoff":
        source, target = attrs.get("openai_agents.handoff.from_agent"), attrs.get("openai_agents.handoff.to_agent")
        return f"handoff: {source} → {target}"
    if event.get("name") == "gen_ai.guardrail.result":
        return (f"guardrail {attrs.get('gen_ai.guardrail.component.name')}: "
                f"{attrs.get('gen_ai.guardrail.result.type')}={attrs.get('gen_ai.guardrail.result.value')}")
    return f"event: {event.get('name')}"


def _json(value: Any) -> Any:
    try:
        return json.loads(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _parts(parts: list[dict[str, Any]]) -> str:
    shown = []
    for part in parts:
        kind = part.get("type")
        if kind == "text":
            shown.append(str(part.get("content")))
        elif kind == "tool_call":
            shown.append(f"{part.get('name')}({json.dumps(part.get('arguments'))})  [{part.get('id')}]")
        elif kind == "tool_call_response":
            shown.append(f"{part.get('response')}  [{part.get('id')}]")
        else:
            shown.append(json.dumps(part))
    return " | ".join(shown)


def _shorten(line: str, width: int = 110) -> str:
    return textwrap.shorten(line, width, placeholder=" …")


# --- main ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", action="store_true", help="use the real OpenAI API (needs OPENAI_API_KEY)")
    parser.add_argument("--no-content", action="store_true", help="leave content capture off")
    args = parser.parse_args()
    if args.real and not os.environ.get("OPENAI_API_KEY"):
        sys.exit("--real needs OPENAI_API_KEY in the environment")
    with_sdk = importlib.util.find_spec("agents") is not None
    if args.real:
        print("Running the weather agent against the real OpenAI API\n")
        runs = run_apps(None, not args.no_content, with_sdk)
    else:
        with FakeOpenAIServer(latency=0.02) as server:
            print(f"Running the weather agent against the loopback server at {server.base_url}\n")
            runs = run_apps(server.base_url, not args.no_content, with_sdk)
    print_runs(*runs[0])
    if with_sdk:
        print("\n\nThe same question to an OpenAI Agents SDK app (agents_sdk_agent.py), traced with no code:\n")
        print_runs(*runs[1], "Agents SDK run")
    else:
        print("\n(openai-agents is not installed: pip install openai-agents to see an Agents SDK run too)")


def run_apps(base_url: Optional[str], capture: bool, with_sdk: bool) -> list[tuple[list[str], list[Span]]]:
    """The weather agent, then (when openai-agents is installed) the Agents SDK app."""
    runs = [run_app(base_url, capture)]
    if with_sdk:
        runs.append(run_app(base_url, capture, ("agents_sdk_agent.py",)))
    return runs


def print_runs(lines: list[str], spans: list[Span], label: str = "") -> None:
    """An app's own lines, then each of its traces as a tree."""
    print("\n".join(lines))
    groups = traces(spans)
    print(f"\n{len(spans)} spans in {len(groups)} traces, as exported by opentelemetry-instrument:")
    variants = [line.split("]", 1)[0].lstrip("[") for line in lines if "] Q: " in line]
    for i, group in enumerate(groups):
        title = label or (f"{variants[i]} run" if i < len(variants) and len(groups) == len(variants)
                          else f"trace {i + 1}")
        print(f"\n── {title} · trace {group[0]['context']['trace_id']} ──")
        print("\n".join(render_trace(group)))


if __name__ == "__main__":
    main()
