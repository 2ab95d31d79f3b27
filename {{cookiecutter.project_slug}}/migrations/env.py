"""Alembic's environment: the database and tables it migrates.

Synchronous, with psycopg 3, the driver the service itself uses asynchronously:
one URL from the same ``APP_DB_*`` settings serves both (app/database.py).
"""

from alembic import context
from sqlalchemy import create_engine, pool

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


def run_migrations_online() -> None:
    # One connection, closed at the end: a migration is a one-off process.
    engine = create_engine(url(get_settings()), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
