"""Prometheus metrics: requests by method, route template and status, their
latency, and the requests in flight, summed over every worker.

With several workers (``WEB_CONCURRENCY``) each process counts its own requests;
prometheus_client's multiprocess mode keeps every worker's samples in files under
``PROMETHEUS_MULTIPROC_DIR`` (the image sets it, on the /tmp tmpfs) and /metrics
adds them up; app/__main__.py empties that directory before any worker starts.
Without the variable (tests, ``make run``) one process counts alone. Requests
are counted in batches (app/batch.py): a worker's files are at most 100 ms behind
its requests, and its own /metrics is never behind.
"""

import os
from collections import deque

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from app import batch

DIRECTORY = "PROMETHEUS_MULTIPROC_DIR"
if DIRECTORY in os.environ:  # however the server was started, the files need a home
    os.makedirs(os.environ[DIRECTORY], exist_ok=True)
# Requests no route matched (404s) share one label, so a scan of random paths
# cannot create a series per path; so do methods outside HTTP's standard ones,
# which a client may make up (h11 takes any token as a method).
UNMATCHED = "unmatched"
METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)
OTHER_METHOD = "other"

REQUESTS = Counter(
    "http_requests",
    "Requests answered, by method, route template and status.",
    ["method", "route", "status"],
)
DURATION = Histogram(
    "http_request_duration_seconds",
    "Time from receiving a request to finishing its answer, by method and route template.",
    ["method", "route"],
)
IN_FLIGHT = Gauge(
    "http_requests_in_flight",
    "Requests being handled now.",
    multiprocess_mode="livesum",
)


# Each series' counter and histogram: labels() checks and locks on every call. Keyed
# by the labels, which are bounded (never a made-up method or an unmatched path).
_SERIES: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

# What requests leave for the batch writer (app/batch.py): how many are in flight,
# and each finished one's method, route template, status and duration.
_in_flight = 0
_finished: deque[tuple[str, str | None, int, float]] = deque()


def started() -> None:
    """A request arrived."""
    global _in_flight
    _in_flight += 1
    batch.soon()


def finished(method: str, route: str | None, status: int, seconds: float) -> None:
    """A request was answered: ``route`` is its route's template, None if none matched."""
    global _in_flight
    _in_flight -= 1
    _finished.append((method, route, status, seconds))
    batch.soon()


def _series(method: str, route: str | None, status: int) -> tuple[Counter, Histogram]:
    key = (method if method in METHODS else OTHER_METHOD, route or UNMATCHED, status)
    if (series := _SERIES.get(key)) is None:
        labels = key[0], key[1]
        series = _SERIES[key] = (
            REQUESTS.labels(*labels, str(status)),
            DURATION.labels(*labels),
        )
    return series


def _flush() -> None:
    """Write what requests left: each file write takes a lock, so one per series."""
    IN_FLIGHT.set(_in_flight)
    answered: dict[Counter, int] = {}
    for method, route, status, seconds in batch.drained(_finished):
        requests, duration = _series(method, route, status)
        answered[requests] = answered.get(requests, 0) + 1
        duration.observe(seconds)
    for requests, count in answered.items():
        requests.inc(count)


batch.register(_flush)


def exposition() -> tuple[bytes, str]:
    """The metrics of every worker, in Prometheus' text format, and its content type."""
    _flush()  # this worker's own, up to date
    if DIRECTORY not in os.environ:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST


def process_stopped() -> None:
    """Drop this worker's in-flight gauge from the sum once it stops."""
    if DIRECTORY in os.environ:
        multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
