from fastapi.testclient import TestClient

from app.main import create_app


def test_health_reports_ok(client: TestClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_once_started(client: TestClient) -> None:
    response = client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_not_ready_before_startup() -> None:
    client = TestClient(create_app())  # no `with`: the lifespan never starts

    response = client.get("/ready")

    assert response.status_code == 503
