"""The ASGI application: uvicorn serves ``app.main:app``."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import batch, health, metrics
from app.middleware import RequestContext, problem
from app.settings import get_settings
{%- if cookiecutter.tracing == "opentelemetry" %}
from app.tracing import flush, telemetry
{%- endif %}

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open what the service needs before it serves (none yet), close it after."""
    logger.info("%s started", app.title)
    yield
    batch.flush()  # what the last requests left: their access records and metrics
    metrics.process_stopped()
{%- if cookiecutter.tracing == "opentelemetry" %}
    flush()
{%- endif %}
    logger.info("%s stopped", app.title)


# What every operation may answer when the service fails (app/middleware.py).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    500: {
        "description": "Internal Server Error, as RFC 9457 problem details",
        "content": {"application/problem+json": {"example": problem("<request id>")}},
    }
}


def create_app() -> FastAPI:
    """Build the application from the current settings."""
    settings = get_settings()
    logging.getLogger("app").setLevel(settings.log_level)
    docs = settings.docs
    app = FastAPI(
        title=settings.title,
        description=settings.description,
        version=settings.version,
        lifespan=lifespan,
        responses=ERROR_RESPONSES,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
{%- if cookiecutter.tracing == "opentelemetry" %}
        telemetry=telemetry(),
{%- else %}
        # FastAPI's own OpenTelemetry spans, metrics and logs; the service's metrics
        # and logs are app/metrics.py's and app/log.py's.
        telemetry={"tracing": False, "metrics": False, "logs": False},
{%- endif %}
    )
    health.add_routes(app)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins)
    # Added last, so it wraps everything else, CORS included.
    app.add_middleware(RequestContext)
    return app


app = create_app()
