"""The ASGI application: uvicorn serves ``app.main:app``."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
{%- if cookiecutter.database == "postgresql" %}

from app import batch, database, health, metrics, notes
from app.middleware import Problem, RequestContext, problem, problem_response
{%- else %}

from app import batch, health, metrics
from app.middleware import RequestContext, problem
{%- endif %}
from app.settings import get_settings
{%- if cookiecutter.tracing == "opentelemetry" %}
from app.tracing import flush, telemetry{% if cookiecutter.database == "postgresql" %}, trace_queries, untrace_queries{% endif %}
{%- endif %}

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
{%- if cookiecutter.database == "postgresql" %}
    """Open what the service needs before it serves, close it after."""
    database.open_for(app, get_settings())
{%- if cookiecutter.tracing == "opentelemetry" %}
    trace_queries(app.state.database.engine)
{%- endif %}
    logger.info("%s started", app.title)
    yield
{%- if cookiecutter.tracing == "opentelemetry" %}
    untrace_queries()
{%- endif %}
    await database.close(app)
{%- else %}
    """Open what the service needs before it serves (none yet), close it after."""
    logger.info("%s started", app.title)
    yield
{%- endif %}
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
{%- if cookiecutter.database == "postgresql" %}
    app.include_router(notes.router)
    app.add_exception_handler(Problem, problem_response)
    database.add_to(app)
{%- endif %}
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins)
    # Added last, so it wraps everything else, CORS included.
    app.add_middleware(RequestContext)
    return app


app = create_app()
