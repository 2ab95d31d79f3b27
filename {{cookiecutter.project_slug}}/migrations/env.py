"""Alembic's environment: the database and tables it migrates.

Asynchronous, with the service's own engine settings: one URL, from the same
``APP_DB_*`` settings, over psycopg 3 (app/database.py). Alembic's commands are
synchronous, so this runs the migration in an event loop of its own.
"""

import asyncio

from alembic import context
from sqlalchemy import pool
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from app.database import url
from app.models import Base
from app.settings import get_settings

target_metadata = Base.metadata


def run_migrations_offline() -> None:
    """``alembic upgrade --sql``: the SQL, for a person to read or a DBA to run."""
    context.configure(
        url=url(get_settings()),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def run_migrations_online() -> None:
    # One connection, closed at the end: a migration is a one-off process.
    engine = create_async_engine(url(get_settings()), poolclass=pool.NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(run)
    await engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(run_migrations_online())
