"""The weather-agent example and the demo: the trace they produce, in process and under opentelemetry-instrument."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.agents_sdk_helpers import requires_agents, sdk_exporter_on, tree
from tests.conftest import Telemetry

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import demo
import weather_agent

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def content(instrument: Any) -> Telemetry:
    return instrument(capture_content="SPAN_ONLY")  # type: ignore[no-any-return]


def assert_agent_trace(telemetry: Telemetry, city: str, weather: str) -> list[Any]:
    """The example's trace: invoke_agent -> chat -> execute_tool -> chat, linked by the tool-call id."""
    spans = sorted(telemetry.finished_spans(), key=lambda s: s.start_time)
    assert [s.name for s in spans] == ["invoke_agent weather_agent", "chat gpt-4o-mini",
                                       "execute_tool get_weather", "chat gpt-4o-mini"]
    root, chat1, tool, chat2 = spans
    assert all(s.parent.span_id == root.context.span_id for s in (chat1, tool, chat2))
    assert root.attributes["gen_ai.agent.description"].startswith("Answers weather questions")
    assert chat1.attributes["gen_ai.response.finish_reasons"] == ("tool_calls",)
    assert chat2.attributes["gen_ai.response.finish_reasons"] == ("stop",)
    assert chat1.attributes["gen_ai.agent.name"] == "weather_agent"
    assert chat1.attributes["gen_ai.usage.input_tokens"] > 0
    call = json.loads(chat1.attributes["gen_ai.output.messages"])[0]["parts"][0]
    assert call["arguments"] == {"city": city}
    assert tool.attributes["gen_ai.tool.call.id"] == call["id"]
    assert tool.attributes["gen_ai.tool.description"] == "Get the current weather in a given city."
    assert json.loads(tool.attributes["gen_ai.tool.call.result"]) == {"value": weather}  # plain text, as an object
    assert json.loads(chat2.attributes["gen_ai.input.messages"])[-1]["parts"] == [
        {"type": "tool_call_response", "id": call["id"], "response": {"value": weather}}]
    return spans


def test_weather_agent_trace(content: Telemetry, client: openai.OpenAI) -> None:
    """run_tool_agent asks the model, runs get_weather for its tool call, and answers with the result."""
    answer = weather_agent.run_tool_agent("What's the weather like in Tokyo today?", client)
    assert answer == "The weather in Tokyo is sunny."
    assert_agent_trace(content, "Tokyo", "sunny")


def test_weather_agent_streaming_trace(content: Telemetry, client: openai.OpenAI) -> None:
    """The streaming variant gives the same tree; its model spans are streams with token usage."""
    answer = weather_agent.run_tool_agent_streaming("Is it raining in Paris?", client)
    assert answer == "The weather in Paris is rainy."
    _, chat1, _, chat2 = assert_agent_trace(content, "Paris", "rainy")
    for chat in (chat1, chat2):
        assert chat.attributes["gen_ai.request.stream"] is True
        assert chat.attributes["gen_ai.usage.output_tokens"] > 0


async def test_weather_agent_async_trace(content: Telemetry, aclient: openai.AsyncOpenAI) -> None:
    """The asyncio variant gives the same tree."""
    answer = await weather_agent.run_tool_agent_async("What's the weather like in London?", aclient)
    assert answer == "The weather in London is partly cloudy."
    assert_agent_trace(content, "London", "partly cloudy")


def test_weather_agent_without_content(instrument: Any, client: openai.OpenAI) -> None:
    """With content capture off the same run records no messages, arguments or results."""
    telemetry = instrument()
    weather_agent.run_tool_agent("What's the weather like in Tokyo today?", client)
    for span in telemetry.finished_spans():
        assert not {"gen_ai.input.messages", "gen_ai.output.messages", "gen_ai.tool.call.arguments",
                    "gen_ai.tool.call.result"} & set(span.attributes)


# --- the demo's pure parts -----------------------------------------------------------------------------


def _span(name: str, span_id: str, parent: Any, start: str, end: str, **attrs: Any) -> dict[str, Any]:
    return {"name": name, "context": {"trace_id": "0xt", "span_id": span_id}, "parent_id": parent,
            "start_time": f"2026-01-01T00:00:{start}Z", "end_time": f"2026-01-01T00:00:{end}Z",
            "status": {"status_code": "UNSET"}, "attributes": attrs}


def test_demo_separates_app_lines_from_spans() -> None:
    """The console exporter's JSON spans and the app's own lines share stdout; the demo splits them."""
    span = _span("chat m", "0x2", None, "00.000000", "00.010000")
    stdout = "[plain] Q: hi\n" + json.dumps(span, indent=4) + "\n{not json\n[plain] A: yo\n"
    lines, spans = demo.split_output(stdout)
    assert lines == ["[plain] Q: hi", "{not json", "[plain] A: yo"]
    assert spans == [span]


def test_demo_renders_a_tree() -> None:
    """Children hang under their parent in start order, with durations, tokens and messages."""
    messages = json.dumps([{"role": "user", "parts": [{"type": "text", "content": "Weather?"}]}])
    spans = [
        _span("invoke_agent a", "0x1", None, "00.000000", "00.100000"),
        _span("chat m", "0x2", "0x1", "00.001000", "00.031000", **{
            "gen_ai.usage.input_tokens": 10, "gen_ai.usage.output_tokens": 3,
            "gen_ai.response.finish_reasons": ["tool_calls"], "gen_ai.input.messages": messages}),
        _span("execute_tool t", "0x3", "0x1", "00.040000", "00.041000", **{"gen_ai.tool.call.id": "c1"}),
    ]
    assert demo.render_trace(spans) == [
        "invoke_agent a  (100.0 ms)",
        "├── chat m  (30.0 ms)",
        "│       tokens: 10 in / 3 out   finish: tool_calls",
        "│       → user: Weather?",
        "└── execute_tool t  (1.0 ms)",
        "        call id: c1",
    ]


# --- the demo itself, zero-code, in a subprocess ----------------------------------------------------------


def _default_client_works() -> bool:
    """openai < 1.56 cannot build its own HTTP client on httpx >= 0.28 (the app uses the default client)."""
    try:
        openai.OpenAI(api_key="sk-test", base_url="http://127.0.0.1:9/v1").close()
        return True
    except TypeError:
        return False


@pytest.mark.skipif(demo.instrument_command() is None, reason="opentelemetry-instrument is not installed")
@pytest.mark.skipif(not _default_client_works(), reason="this openai cannot build its default HTTP client")
def test_demo_runs_the_app_under_opentelemetry_instrument(tmp_path: Path) -> None:
    """``python examples/demo.py`` runs the unchanged app under zero-code instrumentation and prints the tree."""
    env = dict(os.environ)
    if importlib.util.find_spec("opentelemetry.distro") is None:
        # Without opentelemetry-distro nothing configures the SDK; register the SDK's own configurator,
        # which is what the distro does (nox -s demo installs the distro itself).
        info = tmp_path / "demo_configurator-0.dist-info"
        info.mkdir()
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: demo-configurator\nVersion: 0\n")
        (info / "entry_points.txt").write_text(
            "[opentelemetry_configurator]\nsdk = opentelemetry.sdk._configuration:_OTelSDKConfigurator\n")
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, str(EXAMPLES / "demo.py")], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    out, _, sdk_out = done.stdout.partition("The same question to an OpenAI Agents SDK app")
    assert "[plain] A: The weather in Tokyo is sunny." in out
    assert "[streaming] A: The weather in Paris is rainy." in out
    assert "[async] A: The weather in London is partly cloudy." in out
    assert "12 spans in 3 traces" in out
    assert out.count("\ninvoke_agent weather_agent  (") == 3
    assert out.count("├── chat gpt-4o-mini  (") == 3
    assert out.count("├── execute_tool get_weather  (") == 3
    assert out.count("└── chat gpt-4o-mini  (") == 3
    assert "result: {\"value\":\"sunny\"}" in out and "← assistant: The weather in Tokyo is sunny." in out
    if importlib.util.find_spec("agents") is None:
        assert sdk_out == ""
        return
    # The Agents SDK app runs where openai-agents is: one tree, guardrail and handoff on the triage agent.
    assert "[agents-sdk] A: The weather in Tokyo is sunny." in sdk_out
    assert "7 spans in 1 traces" in sdk_out
    assert "── Agents SDK run · trace " in sdk_out and "\ninvoke_workflow Agent workflow  (" in sdk_out
    assert "├── invoke_agent triage_agent  (" in sdk_out and "└── invoke_agent forecast_agent  (" in sdk_out
    assert "handoff: triage_agent → forecast_agent" in sdk_out
    assert "guardrail on_topic: tripwire_triggered=false" in sdk_out
    assert sdk_out.count(" chat gpt-4o-mini  (") == 3 and sdk_out.count("execute_tool get_weather  (") == 1


# --- the Agents SDK example -----------------------------------------------------------------------------


@requires_agents
def test_agents_sdk_example_trace(content: Telemetry, server: Any, monkeypatch: Any) -> None:
    """examples/agents_sdk_agent.py, unchanged (its model is a name: the SDK builds its own client from the
    environment), is one trace: workflow, triage agent handing off, forecast agent with its tool."""
    for key, value in {"OPENAI_BASE_URL": server.base_url, "OPENAI_API_KEY": "sk-test",
                       "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}.items():
        monkeypatch.setenv(key, value)
    import agents_sdk_agent

    with sdk_exporter_on(server):
        assert asyncio.run(agents_sdk_agent.ask("What's the weather like in Tokyo today?")) == (
            "The weather in Tokyo is sunny.")
    spans = content.finished_spans()
    assert tree(spans) == [["invoke_workflow Agent workflow", [
        ["invoke_agent triage_agent", [["chat gpt-4o-mini", []]]],
        ["invoke_agent forecast_agent", [
            ["chat gpt-4o-mini", []], ["execute_tool get_weather", []], ["chat gpt-4o-mini", []]]]]]]
    tool = next(s for s in spans if s.name == "execute_tool get_weather")
    assert json.loads(tool.attributes["gen_ai.tool.call.arguments"]) == {"city": "Tokyo"}
    assert json.loads(tool.attributes["gen_ai.tool.call.result"]) == {"value": "sunny"}



# --- the realtime example -----------------------------------------------------------------------------------


def test_realtime_session_example(capsys: pytest.CaptureFixture[str]) -> None:
    """examples/realtime_session.py traces one realtime session, tool call included, as one tree under the
    app's span, with the session's start and end events."""
    pytest.importorskip("websockets", reason="the realtime example needs openai[realtime] (websockets)")
    if not hasattr(openai.OpenAI, "realtime"):
        pytest.skip("this openai has no GA realtime API (late 1.x)")
    import realtime_session

    realtime_session.main()
    out = capsys.readouterr().out
    assert "A: It is sunny in Paris." in out
    tree = out[out.index("phone call  ("):].splitlines()
    assert tree[1].startswith("├── realtime_inference gpt-realtime  (")
    assert "finish: tool_call" in tree[2]
    assert tree[5].startswith("└── realtime_inference gpt-realtime  (")
    assert "← assistant: It is sunny in Paris." in out
    assert "event gen_ai.client.realtime_session.started  session sess_" in out
    assert "event gen_ai.client.realtime_session.ended  session sess_" in out
