import tomllib
from pathlib import Path

from fastapi.testclient import TestClient

from app.main import create_app


def test_version_is_pyprojects_and_the_revision_unknown_by_default(
    client: TestClient,
) -> None:
    project = tomllib.loads(Path("pyproject.toml").read_text())["project"]

    assert client.get("/version").json() == {
        "version": project["version"],
        "revision": "unknown",
    }
    assert client.get("/openapi.json").json()["info"]["version"] == project["version"]


def test_the_revision_comes_from_the_environment(environment) -> None:
    environment(APP_REVISION="0123abc")

    assert TestClient(create_app()).get("/version").json()["revision"] == "0123abc"
