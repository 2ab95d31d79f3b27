"""Probe endpoints for Docker, Kubernetes and load balancers."""

from fastapi import APIRouter, Request, Response, status

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the process is up and answering requests."""
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request, response: Response) -> dict[str, str]:
    """Readiness: startup has finished and shutdown has not begun.

    Add checks of the service's own dependencies (database, queues) here, so
    traffic only reaches an instance that can serve it.
    """
    if not request.app.state.ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "unavailable"}
    return {"status": "ready"}
