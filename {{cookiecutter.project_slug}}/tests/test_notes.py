"""The example resource against a real PostgreSQL (tests/conftest.py's
``db_client``: each test's rows are rolled back after it)."""

import pytest
from fastapi.testclient import TestClient


def create(client: TestClient, title: str = "First", body: str = "Hello") -> dict:
    response = client.post("/notes", json={"title": title, "body": body})
    assert response.status_code == 201, response.text
    return response.json()


def test_a_created_note_reads_back(db_client: TestClient) -> None:
    created = create(db_client)

    response = db_client.get(f"/notes/{created['id']}")

    assert response.status_code == 200
    assert response.json() == created
    assert (created["title"], created["body"]) == ("First", "Hello")


def test_the_answer_to_a_create_says_where_the_note_is(db_client: TestClient) -> None:
    response = db_client.post("/notes", json={"title": "Located"})

    assert response.headers["location"] == f"/notes/{response.json()['id']}"


def test_a_title_already_taken_is_a_conflict(db_client: TestClient) -> None:
    create(db_client, title="Twice")

    response = db_client.post("/notes", json={"title": "Twice"})

    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 409
    assert response.json()["request_id"] == response.headers["x-request-id"]


def test_the_request_after_a_conflict_still_commits(db_client: TestClient) -> None:
    create(db_client, title="Taken")
    assert db_client.post("/notes", json={"title": "Taken"}).status_code == 409

    created = create(db_client, title="Free")

    assert db_client.get(f"/notes/{created['id']}").status_code == 200


def test_a_missing_note_is_not_found_as_problem_json(db_client: TestClient) -> None:
    response = db_client.get("/notes/999999")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"] == "No note has the id 999999."


@pytest.mark.parametrize(
    "note", [{}, {"title": ""}, {"title": "x" * 201}, {"title": "ok", "body": 5}]
)
def test_an_invalid_note_is_refused(db_client: TestClient, note: dict) -> None:
    assert db_client.post("/notes", json=note).status_code == 422


@pytest.mark.parametrize("attempt", [1, 2])
def test_each_test_starts_with_no_notes(db_client: TestClient, attempt: int) -> None:
    """Run twice: the second run would conflict if the first one's row remained."""
    create(db_client, title="Isolated")
