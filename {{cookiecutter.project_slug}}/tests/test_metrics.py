import re

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families


def samples(client: TestClient) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests(before: dict, after: dict, route: str, status: str) -> float:
    key = (
        "http_requests_total",
        (("method", "GET"), ("route", route), ("status", status)),
    )
    return after.get(key, 0) - before.get(key, 0)


def test_requests_are_counted_by_route_template_and_status(client: TestClient) -> None:
    before = samples(client)

    for _ in range(3):
        client.get("/health")
    client.get("/no/such/page")

    after = samples(client)
    assert requests(before, after, "/health", "200") == 3
    assert requests(before, after, "unmatched", "404") == 1
    assert not any("/no/such/page" in str(labels) for _, labels in after)


def test_latency_and_in_flight_are_exposed(client: TestClient) -> None:
    client.get("/health")

    text = client.get("/metrics").text

    assert re.search(
        r'^http_request_duration_seconds_bucket\{.*route="/health"', text, re.M
    )
    assert re.search(r"^http_requests_in_flight ", text, re.M)


def test_made_up_methods_and_paths_add_no_series(client: TestClient) -> None:
    """Clients choose methods and paths; neither may grow /metrics without bound."""
    for method in ("GET", "BREW"):  # the series a method of each kind adds
        client.request(method, "/health")
        client.request(method, "/no/such/page")
    before = samples(client)

    for number in range(200):
        client.request(f"M{number}", f"/page/{number}")
        client.request(f"X-{number}", "/health")
        client.request("PROPFIND", f"/{number}")

    after = samples(client)
    assert set(after) - set(before) == set()
    assert requests(before, after, "/health", "200") == 0


def test_the_docs_are_counted_under_their_own_route(client: TestClient) -> None:
    before = samples(client)

    client.get("/docs")
    client.get("/openapi.json")

    after = samples(client)
    assert requests(before, after, "/docs", "200") == 1
    assert requests(before, after, "/openapi.json", "200") == 1
    assert requests(before, after, "unmatched", "200") == 0
