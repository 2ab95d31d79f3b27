import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.settings import Settings, get_settings


def test_openapi_describes_the_service(client: TestClient) -> None:
    info = client.get("/openapi.json").json()["info"]

    assert info["title"] == get_settings().title
    assert info["description"] == get_settings().description


def test_settings_come_from_app_prefixed_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("APP_LOG_LEVEL", "DEBUG")

    assert Settings().log_level == "DEBUG"


def test_unknown_log_level_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_LOG_LEVEL", "LOUD")

    with pytest.raises(ValidationError):
        Settings()
