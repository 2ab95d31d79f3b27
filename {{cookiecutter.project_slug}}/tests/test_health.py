import pytest
from fastapi.testclient import TestClient


def test_health_reports_ok(client: TestClient) -> None:
    response = client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
{%- if cookiecutter.database == "none" %}


def test_ready_reports_ready(client: TestClient) -> None:
    response = client.get("/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ready"}
{%- endif %}
{%- set client = "db_client" if cookiecutter.database == "postgresql" else "client" %}


@pytest.mark.parametrize("path", ["/health", "/ready"])
def test_probes_answer_head({{ client }}: TestClient, path: str) -> None:
    response = {{ client }}.head(path)

    assert response.status_code == 200
    assert response.content == b""
