"""A stand-in OpenTelemetry collector: receives OTLP/HTTP traces on the host's
loopback and decodes them with OpenTelemetry's own protobuf definitions."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

# The port OTLP/HTTP exporters send to when no endpoint is configured.
DEFAULT_PORT = 4318


@dataclass(frozen=True)
class Span:
    trace_id: str
    name: str
    pid: int | None


@dataclass
class Receiver:
    port: int
    spans: list[Span] = field(default_factory=list)
    connections: int = 0


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = ExportTraceServiceRequest.FromString(body)
            for resource_spans in request.resource_spans:
                attributes = {a.key: a.value for a in resource_spans.resource.attributes}
                pid = attributes["process.pid"].int_value if "process.pid" in attributes else None
                for scope_spans in resource_spans.scope_spans:
                    receiver.spans.extend(
                        Span(span.trace_id.hex(), span.name, pid) for span in scope_spans.spans
                    )
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:  # quiet
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    receiver: Receiver

    def verify_request(self, request, client_address) -> bool:
        self.receiver.connections += 1
        return True


class running:
    """``with running(port) as receiver:`` a receiver on 127.0.0.1:port."""

    def __init__(self, port: int) -> None:
        self.receiver = Receiver(port)
        self.server = _Server(("127.0.0.1", port), _handler(self.receiver))
        self.server.receiver = self.receiver

    def __enter__(self) -> Receiver:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self.receiver

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
