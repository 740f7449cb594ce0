"""A loopback OTLP/HTTP receiver for traces, metrics and logs: what a collector would see on the wire.

Phoenix and MLflow take traces only; this receiver takes all three signals so the tests can assert the
metrics, the log events and the raw span kinds that the backends do not keep. It decodes each request
with ``opentelemetry-proto`` and keeps it, with the request headers, in arrival order.
"""

from __future__ import annotations

import gzip
import threading
import zlib
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

SIGNALS: dict[str, tuple[Any, Any]] = {
    "/v1/traces": (ExportTraceServiceRequest, ExportTraceServiceResponse),
    "/v1/metrics": (ExportMetricsServiceRequest, ExportMetricsServiceResponse),
    "/v1/logs": (ExportLogsServiceRequest, ExportLogsServiceResponse),
}


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    message: Any


@dataclass
class OtlpReceiver:
    """Context manager: ``with OtlpReceiver() as receiver: receiver.endpoint`` (http://127.0.0.1:PORT)."""

    received: list[Received] = field(default_factory=list)
    _server: Any = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> OtlpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # the test output stays readable
                pass

            def do_POST(self) -> None:
                receiver._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()

    def clear(self) -> None:
        self.received.clear()

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        if handler.path not in SIGNALS:
            handler.send_response(404)
            handler.end_headers()
            return
        request_type, response_type = SIGNALS[handler.path]
        body = handler.rfile.read(int(handler.headers.get("Content-Length", 0)))
        encoding = handler.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "deflate":
            body = zlib.decompress(body)
        message = request_type()
        message.ParseFromString(body)
        headers = {key.lower(): value for key, value in handler.headers.items()}
        self.received.append(Received(handler.path, headers, message))
        payload = response_type().SerializeToString()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/x-protobuf")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    # --- decoded views -----------------------------------------------------------------------------

    def spans(self) -> list[dict[str, Any]]:
        """Every received span as OTLP/JSON-style dicts, with its scope name under ``scope``."""
        found = []
        for item in self._of("/v1/traces"):
            for resource_spans in item.message.resource_spans:
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        found.append({**MessageToDict(span), "scope": scope_spans.scope.name})
        return found

    def metrics(self) -> dict[str, list[dict[str, Any]]]:
        """Metric name -> its data points from the *last* export that had it (cumulative temporality)."""
        found: dict[str, list[dict[str, Any]]] = {}
        for item in self._of("/v1/metrics"):
            for resource_metrics in item.message.resource_metrics:
                for scope_metrics in resource_metrics.scope_metrics:
                    for metric in scope_metrics.metrics:
                        as_dict = MessageToDict(metric)
                        kind = next(k for k in ("histogram", "sum", "gauge") if k in as_dict)
                        found[metric.name] = [
                            {**point, "unit": metric.unit, "kind": kind}
                            for point in as_dict[kind].get("dataPoints", [])
                        ]
        return found

    def log_records(self) -> list[dict[str, Any]]:
        found = []
        for item in self._of("/v1/logs"):
            for resource_logs in item.message.resource_logs:
                for scope_logs in resource_logs.scope_logs:
                    found.extend(MessageToDict(record) for record in scope_logs.log_records)
        return found

    def headers(self, path: str) -> list[dict[str, str]]:
        return [item.headers for item in self._of(path)]

    def _of(self, path: str) -> list[Received]:
        return [item for item in list(self.received) if item.path == path]


def attributes(items: list[dict[str, Any]]) -> dict[str, Any]:
    """OTLP/JSON ``[{key, value: {stringValue|intValue|...}}]`` -> plain python values."""
    return {item["key"]: any_value(item.get("value", {})) for item in items}


def any_value(value: dict[str, Any]) -> Any:
    """One OTLP AnyValue as python; accepts protobuf-JSON camelCase and MLflow's snake_case field names."""
    value = {_CAMEL.get(key, key): item for key, item in value.items()}
    if "arrayValue" in value:
        return [any_value(v) for v in value["arrayValue"].get("values", [])]
    if "kvlistValue" in value:
        return attributes(value["kvlistValue"].get("values", []))
    if "intValue" in value:
        return int(value["intValue"])  # proto3 JSON writes 64-bit ints as strings
    for key in ("stringValue", "boolValue", "doubleValue", "bytesValue"):
        if key in value:
            return value[key]
    return None


_CAMEL = {
    "array_value": "arrayValue",
    "kvlist_value": "kvlistValue",
    "int_value": "intValue",
    "string_value": "stringValue",
    "bool_value": "boolValue",
    "double_value": "doubleValue",
    "bytes_value": "bytesValue",
}
