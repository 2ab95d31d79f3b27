from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.main import create_app


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A client for a fresh app whose startup (lifespan) has run."""
    with TestClient(create_app()) as client:
        yield client
