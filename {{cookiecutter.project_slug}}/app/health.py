"""Operational endpoints: probes for Docker, Kubernetes and load balancers, metrics
for Prometheus, and what is running."""

from enum import Enum
{%- if cookiecutter.database == "postgresql" %}

from fastapi import FastAPI, Request, Response

from app import metrics
from app.database import UNAVAILABLE_DETAIL, UNAVAILABLE_RESPONSE
from app.middleware import Problem
from app.settings import get_settings
{%- else %}

from fastapi import FastAPI, Response

from app import metrics
from app.settings import get_settings
{%- endif %}


async def health() -> dict[str, str]:
    """Liveness: the process is up and answering requests."""
    return {"status": "ok"}
{%- if cookiecutter.database == "postgresql" %}


async def ready(request: Request) -> dict[str, str]:
    """Readiness: the service can serve requests, its database answering.

    503 while the database cannot be reached, so traffic only reaches an instance
    that can serve it; the answer holds two seconds (app/database.py). Check any
    other dependency (queues) here too. On SIGTERM uvicorn stops accepting
    connections at once (docs/operate.md, "Stopping").
    """
    if not await request.app.state.database.reachable():
        raise Problem(503, UNAVAILABLE_DETAIL)
    return {"status": "ready"}
{%- else %}


async def ready() -> dict[str, str]:
    """Readiness: the service can serve requests.

    Check the service's own dependencies (database, queues) here and answer 503
    when one fails, so traffic only reaches an instance that can serve it. On
    SIGTERM uvicorn stops accepting connections at once (docs/operate.md, "Stopping").
    """
    return {"status": "ready"}
{%- endif %}


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
{%- if cookiecutter.database == "postgresql" %}
    app.add_api_route("/ready", ready, tags=tags, responses=UNAVAILABLE_RESPONSE)
{%- else %}
    app.add_api_route("/ready", ready, tags=tags)
{%- endif %}
    app.add_api_route("/version", version, tags=tags)
    app.add_api_route(
        "/metrics", prometheus_metrics, tags=tags, response_class=Response
    )
    # Some load balancers and uptime checks probe with HEAD. Kept out of the schema:
    # one operation per path reads better, and uvicorn sends HEAD no body.
    app.add_api_route("/health", health, methods=["HEAD"], include_in_schema=False)
    app.add_api_route("/ready", ready, methods=["HEAD"], include_in_schema=False)
