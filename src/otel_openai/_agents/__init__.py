"""Tool and agent spans for user code: ``trace_tool``, ``trace_agent``, ``run_tool_call`` and the tool-runner rows."""

from __future__ import annotations

from otel_openai._agents._decorators import trace_agent, trace_tool
from otel_openai._agents._scope import AgentScope, ToolScope
from otel_openai._agents._tool_calls import async_runner_tool, run_tool_call, sync_runner_tool

__all__ = ["AgentScope", "ToolScope", "async_runner_tool", "run_tool_call", "sync_runner_tool", "trace_agent",
           "trace_tool"]
