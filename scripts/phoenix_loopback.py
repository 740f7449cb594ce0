"""Run `phoenix serve` with its OTLP gRPC receiver bound to loopback instead of every interface.

Phoenix (checked up to arize-phoenix 20.26) binds its HTTP server to ``PHOENIX_HOST`` but hard-codes
``[::]:PHOENIX_GRPC_PORT`` for the gRPC receiver, and has no setting for it. This launcher runs in the
Phoenix virtualenv, rewrites the wildcard address of every gRPC port the process opens to
``PHOENIX_GRPC_HOST`` (default ``127.0.0.1``), then hands over to Phoenix's own ``main()``.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import grpc.aio

_WILDCARDS = ("[::]:", "0.0.0.0:", ":")


def _loopback(address: str) -> str:
    host = os.environ.get("PHOENIX_GRPC_HOST", "127.0.0.1")
    for wildcard in _WILDCARDS:
        if address.startswith(wildcard):
            return f"{host}:{address[len(wildcard):]}"
    return address


def _server(*args: Any, **kwargs: Any) -> Any:
    server = _original_server(*args, **kwargs)
    insecure, secure = server.add_insecure_port, server.add_secure_port
    server.add_insecure_port = lambda address: insecure(_loopback(address))
    server.add_secure_port = lambda address, credentials: secure(_loopback(address), credentials)
    return server


_original_server = grpc.aio.server
# Phoenix calls `grpc.aio.server(...)` through the module attribute at start-up, so patching it here suffices.
grpc.aio.server = _server

if __name__ == "__main__":
    from phoenix.server.main import main

    sys.argv = ["phoenix", "serve", *sys.argv[1:]]
    sys.exit(main())
