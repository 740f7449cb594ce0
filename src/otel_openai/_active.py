"""The active instrumentor's telemetry: the one place it is kept, below every module that reads it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from otel_openai._invocation import Telemetry

# Set by ``_wrap.install`` and cleared by ``_wrap.uninstall``; wrappers the SDK still holds read it first.
telemetry: Optional[Telemetry] = None
