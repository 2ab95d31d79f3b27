"""Traces with OpenTelemetry, set up in code, in every worker.

Inert unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set: then nothing is imported,
no exporter exists and nothing tries to connect. With it set, each worker (each
runs ``create_app``) gets its own tracer provider, exporting over OTLP/HTTP in
the background. The SDK reads the other standard ``OTEL_*`` variables itself
(``OTEL_SERVICE_NAME``, ``OTEL_EXPORTER_OTLP_HEADERS``, ``OTEL_TRACES_SAMPLER``).
"""

import os

from fastapi import FastAPI

ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
# The name traces carry unless OTEL_SERVICE_NAME says otherwise.
SERVICE_NAME = {{ cookiecutter.project_slug | py_str }}


def instrument(app: FastAPI) -> None:
    """Trace every request ``app`` handles, when an endpoint is configured."""
    if not os.environ.get(ENDPOINT):
        return
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    name = os.environ.get("OTEL_SERVICE_NAME", SERVICE_NAME)
    resource = Resource.create({"service.name": name, "process.pid": os.getpid()})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)


def flush() -> None:
    """Send the spans still queued; the worker is stopping."""
    from opentelemetry import trace

    shutdown = getattr(trace.get_tracer_provider(), "shutdown", None)
    if shutdown is not None:
        shutdown()
