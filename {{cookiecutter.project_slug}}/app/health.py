"""Operational endpoints: probes for Docker, Kubernetes and load balancers, metrics
for Prometheus, and what is running."""

from enum import Enum

from fastapi import FastAPI, Response

from app import metrics
from app.settings import get_settings


async def health() -> dict[str, str]:
    """Liveness: the process is up and answering requests."""
    return {"status": "ok"}


async def ready() -> dict[str, str]:
    """Readiness: the service can serve requests.

    Check the service's own dependencies (database, queues) here and answer 503
    when one fails, so traffic only reaches an instance that can serve it. On
    SIGTERM uvicorn stops accepting connections at once (docs/operate.md, "Stopping").
    """
    return {"status": "ready"}


async def version() -> dict[str, str]:
    """The service's version and the commit its image was built from."""
    settings = get_settings()
    return {"version": settings.version, "revision": settings.revision}


async def prometheus_metrics() -> Response:
    """Prometheus' text format: requests, latency and requests in flight, all workers."""
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


def add_routes(app: FastAPI) -> None:
    """Serve these from ``app``'s own routes, not from an included APIRouter: since
    FastAPI 0.137 every request reaches an included router's routes through it,
    which adds about a sixth to what a probe costs."""
    tags: list[str | Enum] = ["health"]
    app.add_api_route("/health", health, tags=tags)
    app.add_api_route("/ready", ready, tags=tags)
    app.add_api_route("/version", version, tags=tags)
    app.add_api_route(
        "/metrics", prometheus_metrics, tags=tags, response_class=Response
    )
    # Some load balancers and uptime checks probe with HEAD. Kept out of the schema:
    # one operation per path reads better, and uvicorn sends HEAD no body.
    app.add_api_route("/health", health, methods=["HEAD"], include_in_schema=False)
    app.add_api_route("/ready", ready, methods=["HEAD"], include_in_schema=False)
