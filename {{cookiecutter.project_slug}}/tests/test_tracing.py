import json
import logging

import pytest
from fastapi.testclient import TestClient
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from app import tracing
from app.log import JsonFormatter
from app.main import create_app


def test_without_an_endpoint_nothing_is_traced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(tracing.ENDPOINT, raising=False)
    calls: list[object] = []
    monkeypatch.setattr(trace, "set_tracer_provider", calls.append)

    TestClient(create_app()).get("/health")

    assert calls == []


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
