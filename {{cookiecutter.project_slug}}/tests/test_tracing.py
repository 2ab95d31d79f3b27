import json
import logging
{%- if cookiecutter.database == "postgresql" %}
from collections.abc import Callable
{%- endif %}
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from opentelemetry import propagate, trace
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)
from opentelemetry.sdk import resources
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app import main, tracing
from app.log import JsonFormatter
from app.main import create_app


def test_without_an_endpoint_nothing_is_traced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(tracing.ENDPOINT, raising=False)
    calls: list[object] = []
    monkeypatch.setattr(trace, "set_tracer_provider", calls.append)

    TestClient(create_app()).get("/health")

    assert calls == []
    assert tracing.telemetry() == tracing.OFF


def test_exporting_spans_dumps_the_resource_once_not_per_span(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_SERVICE_NAME", "checkout")
    spans = InMemorySpanExporter()
    provider = TracerProvider(resource=tracing.resource())
    provider.add_span_processor(SimpleSpanProcessor(spans))
    for _ in range(3):
        provider.get_tracer("test").start_span("request").end()
    dumps: list[object] = []

    def counted(value: object, **options: Any) -> str:
        dumps.append(value)
        return json.dumps(value, **options)

    monkeypatch.setattr(resources, "dumps", counted)

    request = ExportTraceServiceRequest.FromString(
        encode_spans(spans.get_finished_spans()).SerializeToString()
    )

    (exported,) = request.resource_spans
    attributes = {a.key: a.value for a in exported.resource.attributes}
    assert attributes["service.name"].string_value == "checkout"
    assert len(exported.scope_spans[0].spans) == 3
    assert len(dumps) <= 1


def traced_app(monkeypatch: pytest.MonkeyPatch) -> tuple[FastAPI, InMemorySpanExporter]:
    """The app, its requests traced into the span exporter returned with it."""
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    monkeypatch.setattr(main, "telemetry", lambda: tracing.traced(provider))
    return create_app(), spans


def test_log_records_carry_the_ids_of_the_span_they_are_written_in() -> None:
    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    record = logging.makeLogRecord({"name": "app.test", "msg": "inside"})

    with provider.get_tracer("test").start_as_current_span("request"):
        line = JsonFormatter().format(record)
    outside = json.loads(JsonFormatter().format(record))

    (span,) = spans.get_finished_spans()
    entry = json.loads(line)
    assert "trace_id" not in outside
    assert entry["trace_id"] == format(span.context.trace_id, "032x")
    assert entry["span_id"] == format(span.context.span_id, "016x")


# A trace another service (or a client) started, as W3C trace context carries it.
INCOMING_TRACE = "0af7651916cd43dd8448eb211c80319c"
TRACEPARENT = f"00-{INCOMING_TRACE}-b7ad6b7169203331-01"


@pytest.mark.parametrize(("trusted", "continued"), [("true", True), ("false", False)])
def test_a_request_continues_the_incoming_trace_only_when_trusted(
    environment, monkeypatch: pytest.MonkeyPatch, trusted: str, continued: bool
) -> None:
    environment(APP_TRUST_TRACE_CONTEXT=trusted)
    app, spans = traced_app(monkeypatch)

    TestClient(app).get("/health", headers={"traceparent": TRACEPARENT})

    trace_ids = {
        format(span.context.trace_id, "032x") for span in spans.get_finished_spans()
    }
    assert len(trace_ids) == 1
    assert (trace_ids == {INCOMING_TRACE}) is continued


def test_the_service_still_sends_trace_context_when_it_trusts_none(
    environment, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment(APP_TRUST_TRACE_CONTEXT="false")
    traced_app(monkeypatch)
    outgoing: dict[str, str] = {}

    with TracerProvider().get_tracer("test").start_as_current_span("call"):
        propagate.inject(outgoing)

    assert "traceparent" in outgoing


def test_a_request_is_one_span_named_by_its_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    app, spans = traced_app(monkeypatch)

    TestClient(app).get("/health")

    (span,) = spans.get_finished_spans()
    assert span.name == "GET /health"
    assert span.attributes is not None
    assert span.attributes["http.route"] == "/health"
    assert span.attributes["http.response.status_code"] == 200
{%- if cookiecutter.database == "postgresql" %}


def test_each_query_is_a_span_with_its_statement_but_not_its_values(
    postgres: dict[str, str],
    environment: Callable[..., None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    environment(**postgres)
    app, spans = traced_app(monkeypatch)

    with TestClient(app) as client:
        client.get("/notes/424242")

    queries = [
        span
        for span in spans.get_finished_spans()
        if span.attributes and "notes" in str(span.attributes.get("db.statement"))
    ]
    assert queries, [span.name for span in spans.get_finished_spans()]
    for span in queries:
        assert "424242" not in str(dict(span.attributes or {}))
{%- endif %}
