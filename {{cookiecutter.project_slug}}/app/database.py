"""PostgreSQL through SQLAlchemy's async engine, over psycopg 3.

Each worker makes its own engine when it starts (app.main's lifespan) and
disposes of it when it stops: connections cannot cross the fork that starts the
workers. A handler that takes a ``Session`` gets one whose transaction commits
when the handler returns and rolls back when it raises, before the answer is
sent. /ready asks the database with a short timeout. A request whose database
cannot be reached is answered 503 as problem+json and logged once as an error;
the pool checks each connection before handing it out (``pool_pre_ping``), so
the service recovers by itself once PostgreSQL is back.
"""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

from alembic import command
from alembic.config import Config
from fastapi import Depends, FastAPI, Request, Response
from prometheus_client import Gauge
from sqlalchemy import URL, text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import (
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app import batch
from app.middleware import Problem, problem_response
from app.settings import PYPROJECT, Settings

logger = logging.getLogger(__name__)

# What says the database cannot be reached now, rather than that a request is wrong:
# a refused or dropped connection, and no free connection within the pool timeout.
UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError)
UNAVAILABLE_DETAIL = "The database cannot be reached. Try again later."
# How the API documents that answer, on /ready and on each route that queries.
UNAVAILABLE_RESPONSE: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "The database cannot be reached, as RFC 9457 problem details",
        "content": {"application/problem+json": {}},
    }
}
# Seconds /ready waits for the database, and for which its answer then holds, so
# that the probes of every replica cannot hammer the database.
READY_TIMEOUT = 2.0
READY_HOLDS = 2.0

IN_USE = Gauge(
    "db_pool_connections_in_use",
    "Database connections requests hold now.",
    multiprocess_mode="livesum",
)
WAITING = Gauge(
    "db_pool_requests_waiting",
    "Requests waiting for a free database connection.",
    multiprocess_mode="livesum",
)


def migrate(revision: str = "head") -> None:
    """Bring the tables to ``revision`` (migrations/): ``python -m app migrate``,
    once per deploy, before the new version serves; never in each worker's startup,
    where every replica would race to migrate."""
    config = Config(toml_file=PYPROJECT)
    command.upgrade(config, revision)


def url(settings: Settings) -> URL:
    """The connection URL, made from its parts: a password with ``@``, ``:`` or ``%``
    in it needs no quoting, and the URL's str() shows ``***`` in its place."""
    return URL.create(
        "postgresql+psycopg",
        username=settings.db_user,
        password=settings.db_password.get_secret_value(),
        host=settings.db_host,
        port=settings.db_port,
        database=settings.db_name,
    )


class Database:
    """One worker's engine, its sessions, and what /ready last learned."""

    def __init__(self, settings: Settings) -> None:
        self.engine = create_async_engine(
            url(settings),
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout,
            pool_recycle=settings.db_pool_recycle,
            pool_pre_ping=True,
            # Errors quote statements, never their values (what clients sent).
            hide_parameters=True,
            connect_args={"connect_timeout": settings.db_connect_timeout},
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.waiting = 0
        self._ready = False
        self._ready_until = 0.0

    async def reachable(self) -> bool:
        """Whether PostgreSQL answers a trivial query within ``READY_TIMEOUT``."""
        if time.monotonic() < self._ready_until:
            return self._ready
        try:
            async with (
                asyncio.timeout(READY_TIMEOUT),
                self.engine.connect() as connection,
            ):
                await connection.execute(text("SELECT 1"))
            self._ready = True
        except (*UNAVAILABLE, TimeoutError, OSError) as error:
            logger.warning("not ready: the database cannot be reached: %s", error)
            self._ready = False
        self._ready_until = time.monotonic() + READY_HOLDS
        return self._ready

    def flush_metrics(self) -> None:
        IN_USE.set(self.engine.pool.checkedout())  # type: ignore[attr-defined]
        WAITING.set(self.waiting)


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    database: Database = request.app.state.database
    async with database.sessions() as session, session.begin():
        database.waiting += 1
        try:
            await session.connection()  # the wait for a free connection, counted
        finally:
            database.waiting -= 1
        yield session


# A handler's session: committed when it returns, rolled back when it raises, and
# either before the answer is sent ("function" scope: FastAPI's default would
# commit after the client already has its 2xx).
Session = Annotated[AsyncSession, Depends(_session, scope="function")]


async def _unavailable(request: Request, error: Exception) -> Response:
    logger.error(
        "%s %s: the database cannot be reached: %s",
        request.method,
        request.url.path,
        error,
    )
    return await problem_response(request, Problem(503, UNAVAILABLE_DETAIL))


def _flush_metrics() -> None:
    if _current is not None:
        _current.flush_metrics()


_current: Database | None = None
batch.register(_flush_metrics)


def add_to(app: FastAPI) -> None:
    """Answer 503 for a database that cannot be reached, in ``app``'s error shape."""
    for error in UNAVAILABLE:
        app.add_exception_handler(error, _unavailable)


def open_for(app: FastAPI, settings: Settings) -> Database:
    """This worker's database, on ``app.state`` for handlers; nothing connects yet."""
    global _current
    _current = app.state.database = Database(settings)
    return _current


async def close(app: FastAPI) -> None:
    await app.state.database.engine.dispose()
