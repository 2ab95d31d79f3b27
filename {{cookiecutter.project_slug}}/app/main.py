"""The ASGI application: uvicorn serves ``app.main:app``."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from app.health import router as health_router
from app.log import configure_logging
from app.settings import get_settings

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Report ready only between startup and shutdown."""
    app.state.ready = True
    logger.info("%s started", app.title)
    yield
    app.state.ready = False
    logger.info("%s shutting down", app.title)


def create_app() -> FastAPI:
    """Build the application from the current settings."""
    settings = get_settings()
    configure_logging(settings.log_level)
    app = FastAPI(
        title=settings.title,
        description=settings.description,
        version=settings.version,
        lifespan=lifespan,
    )
    app.state.ready = False
    app.include_router(health_router)
    return app


app = create_app()
