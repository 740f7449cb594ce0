"""The active instrumentor's telemetry, below every module that needs it (so none imports ``_wrap``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from otel_openai._invocation import Telemetry

# Set by ``_wrap.install`` and cleared by ``_wrap.uninstall``; wrappers the SDK still holds read it first.
telemetry: Optional[Telemetry] = None
