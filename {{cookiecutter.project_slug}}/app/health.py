"""Operational endpoints: probes for Docker, Kubernetes and load balancers, metrics
for Prometheus, and what is running."""

from fastapi import APIRouter, Response

from app import metrics
from app.settings import get_settings

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process is up and answering requests."""
    return {"status": "ok"}


@router.get("/ready")
async def ready() -> dict[str, str]:
    """Readiness: the service can serve requests.

    Check the service's own dependencies (database, queues) here and answer 503
    when one fails, so traffic only reaches an instance that can serve it. On
    SIGTERM uvicorn stops accepting connections at once (docs/operate.md, "Stopping").
    """
    return {"status": "ready"}


@router.get("/version")
async def version() -> dict[str, str]:
    """The service's version and the commit its image was built from."""
    settings = get_settings()
    return {"version": settings.version, "revision": settings.revision}


@router.get("/metrics", response_class=Response)
async def prometheus_metrics() -> Response:
    """Prometheus' text format: requests, latency and requests in flight, all workers."""
    body, content_type = metrics.exposition()
    return Response(body, media_type=content_type)


# Some load balancers and uptime checks probe with HEAD. Kept out of the schema:
# one operation per path reads better, and uvicorn sends HEAD no body.
router.add_api_route("/health", health, methods=["HEAD"], include_in_schema=False)
router.add_api_route("/ready", ready, methods=["HEAD"], include_in_schema=False)
