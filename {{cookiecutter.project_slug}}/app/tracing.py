"""Traces with OpenTelemetry: FastAPI's own, one span per request, in every worker.

Inert unless ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set: without it neither the SDK
nor an exporter is imported (only the API, whose no-op tracer the logs ask for
ids), FastAPI's telemetry is off and nothing tries to connect. With it set, each
worker (each runs ``create_app``) gets its own tracer provider, exporting over
OTLP/HTTP in the background, and FastAPI opens a span for every request, named
after its method and route template. The SDK reads the other standard ``OTEL_*``
variables itself (``OTEL_SERVICE_NAME``, ``OTEL_EXPORTER_OTLP_HEADERS``,
``OTEL_TRACES_SAMPLER``, ``OTEL_BSP_*``).

FastAPI's own metrics and logs stay off (app/metrics.py and app/log.py are the
service's), and so do its spans around each dependency, endpoint and
serialization: each would be one more span to make and export for every
request. Set ``operation_spans`` below to see them.

A request that carries W3C trace context (``traceparent``) continues that trace,
as the edge decided: ``APP_TRUST_TRACE_CONTEXT=false`` starts a new trace for
every request instead, for a service that clients reach without a proxy that
decides for them (docs/operate.md, "Tracing").
"""

from __future__ import annotations

import functools
import os
from typing import TYPE_CHECKING

from fastapi.telemetry import TelemetryConfig
from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import (
    CarrierT,
    Getter,
    Setter,
    TextMapPropagator,
    default_getter,
    default_setter,
)

{%- if cookiecutter.database == "postgresql" %}
from sqlalchemy.ext.asyncio import AsyncEngine
{%- endif %}

from app.settings import get_settings

if TYPE_CHECKING:  # the SDK is imported only when there is an endpoint
    from opentelemetry.sdk.resources import Resource

ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
# The name traces carry unless OTEL_SERVICE_NAME says otherwise.
SERVICE_NAME = {{ cookiecutter.project_slug | py_str }}

# FastAPI's telemetry with nothing on: what a request costs without an endpoint.
OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}

# The propagator OTEL_PROPAGATORS configures (W3C trace context and baggage by default).
CONFIGURED = propagate.get_global_textmap()
{%- if cookiecutter.database == "postgresql" %}

# The provider requests are traced with, which queries are traced with too.
_provider: trace.TracerProvider | None = None
{%- endif %}


def telemetry() -> TelemetryConfig:
    """FastAPI's telemetry settings: a span per request when an endpoint is set."""
{%- if cookiecutter.database == "postgresql" %}
    global _provider
    _provider = None
{%- endif %}
    if not os.environ.get(ENDPOINT):
        return OFF
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=resource())
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    return traced(provider)


def resource() -> Resource:
    """What this worker's spans say they come from: the service's name (or
    ``OTEL_SERVICE_NAME``), the process id, and what ``OTEL_RESOURCE_ATTRIBUTES`` adds."""
    from opentelemetry.sdk.resources import Resource

    class HashedOnce(Resource):
        """The exporter files every span it sends under its resource, in a dict, and
        Resource's hash is a JSON dump of all its attributes, each time: about a
        seventh of what exporting a span costs. The attributes cannot change, so
        neither can the hash."""

        @functools.cached_property
        def _hash(self) -> int:
            return super().__hash__()

        def __hash__(self) -> int:
            return self._hash

    name = os.environ.get("OTEL_SERVICE_NAME", SERVICE_NAME)
    created = Resource.create({"service.name": name, "process.pid": os.getpid()})
    return HashedOnce(created.attributes, created.schema_url)


def traced(provider: trace.TracerProvider) -> TelemetryConfig:
    """A span for every request, exported by ``provider``; the trace context requests
    carry is taken only when the settings trust it."""
{%- if cookiecutter.database == "postgresql" %}
    global _provider
    _provider = provider
{%- endif %}
    trusted = get_settings().trust_trace_context
    propagate.set_global_textmap(CONFIGURED if trusted else SendOnly(CONFIGURED))
    return {
        **OFF,
        "tracing": True,
        "tracer_provider": provider,
        "operation_spans": False,
    }


class SendOnly(TextMapPropagator):
    """``propagator`` for what the service sends; what it receives starts afresh."""

    def __init__(self, propagator: TextMapPropagator) -> None:
        self.propagator = propagator

    def extract(
        self,
        carrier: CarrierT,
        context: Context | None = None,
        getter: Getter[CarrierT] = default_getter,
    ) -> Context:
        return context if context is not None else Context()

    def inject(
        self,
        carrier: CarrierT,
        context: Context | None = None,
        setter: Setter[CarrierT] = default_setter,
    ) -> None:
        self.propagator.inject(carrier, context, setter)

    @property
    def fields(self) -> set[str]:
        return self.propagator.fields


def flush() -> None:
    """Send the spans still queued; the worker is stopping."""
    shutdown = getattr(trace.get_tracer_provider(), "shutdown", None)
    if shutdown is not None:
        shutdown()
{%- if cookiecutter.database == "postgresql" %}


def trace_queries(engine: AsyncEngine) -> None:
    """A span for each query while requests are traced: the statement, never its
    values, and no comment added to the SQL."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    SQLAlchemyInstrumentor().instrument(
        engine=engine.sync_engine, tracer_provider=_provider, enable_commenter=False
    )


def untrace_queries() -> None:
    """Stop tracing queries; the worker's engine is closing."""
    if _provider is not None:
        from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

        SQLAlchemyInstrumentor().uninstrument()
{%- endif %}
