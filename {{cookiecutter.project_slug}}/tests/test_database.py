"""The database layer: migrations, readiness, answers while PostgreSQL cannot be
reached, and a password that never shows."""

import json
import logging
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient

from app import settings
from app.database import url
from app.log import JsonFormatter
from app.main import create_app
from app.settings import PYPROJECT, Settings, get_settings

CANARY = "canary-Pa55:w@rd/%"


@pytest.fixture
def unreachable(environment: Callable[..., None]) -> None:
    """Settings that point at a port nothing listens on, with a canary password."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment(APP_DB_PORT=str(port), APP_DB_PASSWORD=CANARY, APP_LOG_LEVEL="DEBUG")


def test_the_migrations_create_what_the_models_describe(postgres: dict) -> None:
    command.check(Config(toml_file=PYPROJECT))  # raises if they differ


def test_the_migrations_go_down_and_up_again(postgres: dict) -> None:
    config = Config(toml_file=PYPROJECT)

    command.downgrade(config, "base")
    command.upgrade(config, "head")


def test_ready_when_the_database_answers(db_client: TestClient) -> None:
    response = db_client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_not_ready_while_the_database_cannot_be_reached(unreachable: None) -> None:
    with TestClient(create_app()) as client:
        response = client.get("/ready")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"


def test_liveness_never_asks_the_database(unreachable: None) -> None:
    with TestClient(create_app()) as client:
        assert client.get("/health").status_code == 200


class Lines(logging.Handler):
    """Each record as the service writes it, formatted where it was logged."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


def test_a_query_without_a_database_is_503_and_one_error_record(
    unreachable: None,
) -> None:
    errors = Lines()
    logging.getLogger("app").addHandler(errors)
    try:
        with TestClient(create_app()) as client:
            response = client.get("/notes/1", headers={"X-Request-ID": "db-down-1"})
    finally:
        logging.getLogger("app").removeHandler(errors)

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["request_id"] == "db-down-1"
    assert "Traceback" not in response.text
    (error,) = errors.lines
    assert (error["logger"], error["request_id"]) == ("app.database", "db-down-1")


def test_the_password_shows_nowhere(
    unreachable: None, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with TestClient(create_app()) as client:
        answers = [
            client.get(path).text
            for path in ("/ready", "/notes/1", "/version", "/metrics", "/openapi.json")
        ]
        answers.append(client.post("/notes", json={"title": "t"}).text)

    assert caplog.records  # the failures were logged, DEBUG included
    for text in [*answers, caplog.text, repr(get_settings()), str(url(get_settings()))]:
        assert CANARY not in text


def test_a_password_needs_no_quoting() -> None:
    settings = Settings(db_password=CANARY)

    assert url(settings).password == CANARY
    assert CANARY not in url(settings).render_as_string(hide_password=True)


def test_the_pool_is_in_the_metrics(db_client: TestClient) -> None:
    db_client.post("/notes", json={"title": "Counted"})

    metrics = db_client.get("/metrics").text

    assert "db_pool_connections_in_use " in metrics
    assert "db_pool_requests_waiting " in metrics


def test_settings_come_from_the_secrets_files_unless_a_variable_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, environment: Callable[..., None]
) -> None:
    """As Kubernetes mounts the service's Secret (deploy/): one file per setting."""
    (tmp_path / "APP_DB_PASSWORD").write_text("from-the-secret\n")
    (tmp_path / "APP_DB_HOST").write_text("db.internal\n")
    monkeypatch.setattr(settings, "SECRETS", tmp_path)
    monkeypatch.delenv("APP_DB_PASSWORD", raising=False)  # the database tests set it
    environment(APP_DB_HOST="from-a-variable")

    assert get_settings().db_password.get_secret_value() == "from-the-secret"
    assert get_settings().db_host == "from-a-variable"
