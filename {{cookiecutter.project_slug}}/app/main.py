"""The ASGI application: uvicorn serves ``app.main:app``."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from app import metrics
from app.health import router as health_router
from app.middleware import RequestContext, problem
from app.settings import get_settings
{%- if cookiecutter.tracing == "opentelemetry" %}
from app.tracing import flush, instrument
{%- endif %}

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open what the service needs before it serves (none yet), close it after."""
    logger.info("%s started", app.title)
    yield
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
    )
    app.include_router(health_router)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins)
    # Added last, so it wraps everything else, CORS included.
    app.add_middleware(RequestContext)
{%- if cookiecutter.tracing == "opentelemetry" %}
    instrument(app)
{%- endif %}
    return app


app = create_app()
