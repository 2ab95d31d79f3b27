import logging
import re

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from app.main import create_app


@pytest.fixture
def failing_client() -> TestClient:
    """The app with a route that raises, as a bug in a handler would."""
    app: FastAPI = create_app()

    @app.get("/fail/{item}")
    async def fail(item: str) -> None:
        raise RuntimeError(f"cannot handle {item}")

    return TestClient(app)


def test_an_incoming_request_id_is_echoed(client: TestClient) -> None:
    response = client.get("/health", headers={"X-Request-ID": "trace-42"})

    assert response.headers["x-request-id"] == "trace-42"


@pytest.mark.parametrize("incoming", [None, "", "x" * 129, "bad id", "new\nline"])
def test_a_missing_or_unfit_request_id_is_replaced(
    client: TestClient, incoming
) -> None:
    headers = {} if incoming is None else {"X-Request-ID": incoming}

    response = client.get("/health", headers=headers)

    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["x-request-id"])


def test_a_not_found_answer_has_an_id_too(client: TestClient) -> None:
    response = client.get("/nowhere", headers={"X-Request-ID": "lost-1"})

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}
    assert response.headers["x-request-id"] == "lost-1"


def test_one_access_record_per_request_with_the_route_template(
    failing_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app")

    failing_client.get("/fail/7", headers={"X-Request-ID": "req-7"})

    (access,) = [
        r
        for r in caplog.records
        if r.name == "app.access" and r.levelno == logging.INFO
    ]
    assert (access.method, access.path, access.route) == (
        "GET",
        "/fail/7",
        "/fail/{item}",
    )
    assert access.status == 500
    assert access.duration_ms >= 0
    assert access.client == "testclient"


def test_an_unhandled_error_is_problem_json_with_the_id_and_logged_once(
    failing_client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    response = failing_client.get("/fail/7", headers={"X-Request-ID": "req-7"})

    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == 500
    assert problem["request_id"] == response.headers["x-request-id"] == "req-7"
    assert "cannot handle" not in response.text
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [type(r.exc_info[1]) for r in errors] == [RuntimeError]


def test_the_openapi_documents_the_problem_answer(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/health"]["get"]

    assert "application/problem+json" in operation["responses"]["500"]["content"]


def test_the_docs_can_be_switched_off(environment) -> None:
    environment(APP_DOCS="false")
    client = TestClient(create_app())

    paths = ("/docs", "/redoc", "/openapi.json")
    assert [client.get(path).status_code for path in paths] == [404, 404, 404]


def test_cors_allows_only_the_configured_origins(environment) -> None:
    environment(APP_CORS_ORIGINS='["https://app.example.com"]')
    client = TestClient(create_app())

    allowed = client.get("/health", headers={"Origin": "https://app.example.com"})
    other = client.get("/health", headers={"Origin": "https://evil.example.com"})

    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-origin" not in other.headers
