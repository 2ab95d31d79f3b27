{%- if cookiecutter.database == "postgresql" -%}
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import URL, make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from app.database import migrate
from app.main import create_app
from app.settings import get_settings

# The PostgreSQL the database tests use: the one TEST_DATABASE_URL names (CI's
# service container), else one of their own in Docker; never the one APP_DB_*
# point at, which may hold someone's data.
TEST_DATABASE_URL = "TEST_DATABASE_URL"
IMAGE = "postgres:17"
{%- else -%}
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.settings import get_settings
{%- endif %}


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A client for a fresh app whose startup (lifespan) has run."""
    with TestClient(create_app()) as client:
        yield client


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set environment variables for one test, and have the settings read them again."""

    def set_variables(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield set_variables
    get_settings.cache_clear()
{%- if cookiecutter.database == "postgresql" %}


def settings_for(url: URL) -> dict[str, str]:
    """The APP_DB_* variables that reach the database at ``url``."""
    return {
        "APP_DB_HOST": url.host or "127.0.0.1",
        "APP_DB_PORT": str(url.port or 5432),
        "APP_DB_NAME": url.database or "",
        "APP_DB_USER": url.username or "",
        "APP_DB_PASSWORD": url.password or "",
    }


def no_database(reason: str) -> None:
    """Skip the database tests, or fail them where CI requires them."""
    message = f"{reason}: start Docker, or set {TEST_DATABASE_URL}"
    if os.environ.get("REQUIRE_DATABASE") == "1":
        pytest.fail(message)
    pytest.skip(message)


def own_postgres(stack: ExitStack) -> URL:
    """A PostgreSQL in Docker for this session, published on 127.0.0.1 only."""
    from docker.errors import DockerException
    from testcontainers.community.postgres import PostgresContainer

    container = PostgresContainer(IMAGE, driver="psycopg")
    container.ports = {"5432/tcp": ("127.0.0.1",)}  # type: ignore[dict-item]
    try:
        stack.enter_context(container)
    except DockerException as error:
        no_database(f"PostgreSQL could not be started in Docker ({error})")
    docker = container.get_docker_client()
    port = docker.port(container.get_wrapped_container().id, 5432)
    return make_url(container.get_connection_url()).set(host="127.0.0.1", port=port)


@pytest.fixture(scope="session")
def postgres() -> Iterator[dict[str, str]]:
    """The APP_DB_* variables of a PostgreSQL for the tests, migrated to the newest
    revision (so the migrations are tested too)."""
    with ExitStack() as stack, pytest.MonkeyPatch.context() as patch:
        if address := os.environ.get(TEST_DATABASE_URL):
            url = make_url(address)
        else:
            url = own_postgres(stack)
        variables = settings_for(url)
        for name, value in variables.items():
            patch.setenv(name, value)
        get_settings.cache_clear()
        migrate()
        yield variables
    get_settings.cache_clear()


async def _outer_transaction(engine: AsyncEngine) -> AsyncConnection:
    connection = await engine.connect()
    await connection.begin()
    return connection


@pytest.fixture
def db_client(
    postgres: dict[str, str], environment: Callable[..., None]
) -> Iterator[TestClient]:
    """A client whose database work is undone after the test: the app's sessions
    commit into savepoints of one transaction, rolled back at the end."""
    environment(**postgres)
    app = create_app()
    with TestClient(app) as client:
        database = app.state.database
        connection = client.portal.call(_outer_transaction, database.engine)
        database.sessions.configure(
            bind=connection, join_transaction_mode="create_savepoint"
        )
        yield client
        client.portal.call(connection.rollback)
        client.portal.call(connection.close)
{%- endif %}
