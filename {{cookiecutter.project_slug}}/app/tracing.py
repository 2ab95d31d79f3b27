"""Traces with OpenTelemetry, set up in code, in every worker.

Inert unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set: without it neither the SDK
nor an exporter is imported (only the API, whose no-op tracer the logs ask for
ids) and nothing tries to connect. With it set, each worker (each
runs ``create_app``) gets its own tracer provider, exporting over OTLP/HTTP in
the background. The SDK reads the other standard ``OTEL_*`` variables itself
(``OTEL_SERVICE_NAME``, ``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_TRACES_SAMPLER``).

A request that carries W3C trace context (``traceparent``) continues that trace,
as the edge decided: ``APP_TRUST_TRACE_CONTEXT=false`` starts a new trace for
every request instead, for a service that clients reach without a proxy that
decides for them (docs/operate.md, "Tracing").
"""

import os

from fastapi import FastAPI
from opentelemetry.trace import TracerProvider
from starlette.types import ASGIApp, Receive, Scope, Send

from app.settings import get_settings

ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
# The name traces carry unless OTEL_SERVICE_NAME says otherwise.
SERVICE_NAME = {{ cookiecutter.project_slug | py_str }}


def instrument(app: FastAPI) -> None:
    """Trace every request ``app`` handles, when an endpoint is configured."""
    if not os.environ.get(ENDPOINT):
        return
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME", SERVICE_NAME)
    resource = Resource.create({"service.name": name, "process.pid": os.getpid()})
    provider = SdkTracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    trace_requests(app, provider)


# The headers W3C trace context and baggage travel in.
TRACE_CONTEXT = frozenset({b"traceparent", b"tracestate", b"baggage"})


def trace_requests(app: FastAPI, provider: TracerProvider) -> None:
    """A span for every request ``app`` handles, exported by ``provider``."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # One span per request: the instrumentation's own spans around each receive and
    # send would triple what every request costs and exports, and say little.
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, exclude_spans=["receive", "send"]
    )
    if not get_settings().trust_trace_context:
        build = app.build_middleware_stack
        app.build_middleware_stack = lambda: without_trace_context(build())  # type: ignore[method-assign]


def without_trace_context(app: ASGIApp) -> ASGIApp:
    """``app``, given requests without the trace context their senders put in."""

    async def strip(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope["headers"] if k not in TRACE_CONTEXT]
            scope = {**scope, "headers": headers}
        await app(scope, receive, send)

    return strip


def flush() -> None:
    """Send the spans still queued; the worker is stopping."""
    from opentelemetry import trace

    shutdown = getattr(trace.get_tracer_provider(), "shutdown", None)
    if shutdown is not None:
        shutdown()
