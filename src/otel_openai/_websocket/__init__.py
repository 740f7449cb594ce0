"""WebSocket APIs (realtime sessions, Responses over WebSocket): wrap-table rows and per-connection state."""

from __future__ import annotations

from otel_openai._websocket._rows import WRAPS

__all__ = ["WRAPS"]
