"""What an agent span shares with the model calls made inside it: how many there were, and their tool calls.

The Agents SDK processor (``_agents_sdk``) puts an ``AgentRun`` into the OpenTelemetry context of each agent
span it opens; ``Invocation`` finds it there (one context lookup per call), counts the call, and at its end
reports the (id, name) of the tool calls the model asked for. The SDK's tool spans carry no call id, so the
processor takes each id from here; its model spans have no usage of their own, so the count tells whether one
of ours covered them. This module sits below both and imports neither.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Optional

ToolCalls = Sequence[tuple[str, str]]


class AgentRun:
    """One agent span's share: its name, the model calls started inside it, and unclaimed tool calls."""

    __slots__ = ("_lock", "model_calls", "name", "tool_calls")

    def __init__(self, name: str) -> None:
        self.name = name
        self.model_calls = 0
        self.tool_calls: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def model_call_started(self) -> None:
        self.model_calls += 1

    def model_call_ended(self, calls: ToolCalls) -> None:
        """The tool calls of the latest response replace any left unclaimed; a response without any (a
        final answer, or a guardrail's own model call) leaves them for the tools about to run."""
        if calls:
            with self._lock:
                self.tool_calls = list(calls)

    def claim(self, tool_name: str) -> Optional[str]:
        """The id of the first unclaimed call of ``tool_name``: parallel calls of one tool start their spans
        in the order the model listed them. Namespaced trace names (``ns.tool``) match their tool."""
        with self._lock:
            for index, (call_id, name) in enumerate(self.tool_calls):
                if name == tool_name or tool_name.endswith("." + name):
                    del self.tool_calls[index]
                    return call_id
        return None
