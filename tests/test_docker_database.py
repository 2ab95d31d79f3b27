"""A `database=postgresql` image against a real PostgreSQL 17 (the stand-in keeps
the official image's contract), every container on the host's network bound to
127.0.0.1: nothing aims at a bridge address.

The image migrates an empty database with its own venv, the example resource
round-trips, /ready follows PostgreSQL down and back up without a restart of the
service, a stop answers the database request in flight, and the password shows in
no log line, answer, metric or image layer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.docker import HARDENED, Container, Docker, builder_to_ourselves, own_cache_mounts
from harness.ports import free_port
from harness.postgres import Postgres, running
from tests.cases import NO_FRONTEND
from tests.helpers import Bake, run, service_venv

pytestmark = pytest.mark.docker

# The role's password, and a string that must appear nowhere it is not needed.
CANARY = f"canary-{uuid.uuid4().hex}:@/%"
DATABASE = "my_service"  # the settings' default name and role for the default slug
REVISION = "ed2b639c07b0"  # migrations/versions/2026_12_03_create_notes.py


@pytest.fixture(scope="module")
def image(docker: Docker, bake: Bake, tmp_path_factory) -> Iterator[str]:
    """The default bake with a database, built with cache mounts of the tests' own."""
    project = bake(database="postgresql", **NO_FRONTEND)
    context = Path(shutil.copytree(project, tmp_path_factory.mktemp("image") / project.name))
    own_cache_mounts(context / "Dockerfile", "template-tests/database")
    tag = f"template-test-database:{uuid.uuid4().hex[:12]}"
    with builder_to_ourselves(docker):
        docker.build(context, tag)
    yield tag
    docker("rmi", "-f", tag, check=False)


@pytest.fixture(scope="module")
def postgres(docker: Docker) -> Iterator[Postgres]:
    """An empty PostgreSQL 17 with the service's default role and database."""
    with running(docker, DATABASE, CANARY) as database:
        yield database


def run_once(docker: Docker, image: str, postgres: Postgres, *command: str) -> str:
    """The image run to completion on the host's network, as a Job runs it."""
    return docker(
        "run", "--rm", *HARDENED, "--network", "host", *postgres.settings,
        "-e", "APP_LOG_LEVEL=DEBUG", image, *command,
    )  # fmt: skip


@pytest.fixture(scope="module")
def migration(docker: Docker, image: str, postgres: Postgres) -> str:
    """What `migrate` printed, run on the empty database."""
    return run_once(docker, image, postgres, "migrate")


@pytest.fixture
def service(docker: Docker, image: str, postgres: Postgres, migration: str) -> Iterator[Container]:
    container = Container.start_on_host_network(
        docker, image, free_port(), *postgres.settings, "-e", "APP_LOG_LEVEL=DEBUG"
    )
    try:
        container.wait_for("/health", within=30)
        yield container
    finally:
        container.remove()


def create(service: Container, title: str) -> tuple[int, dict]:
    status, _, body = service.request("/notes", json_body={"title": title, "body": "x"})
    return status, json.loads(body)


def test_the_image_migrates_an_empty_database(postgres: Postgres, migration: str) -> None:
    records = [json.loads(line) for line in migration.splitlines() if line.startswith("{")]

    assert postgres.psql("SELECT version_num FROM alembic_version") == REVISION
    assert postgres.psql("SELECT to_regclass('notes') IS NOT NULL") == "t"
    assert any("Running upgrade" in record["message"] for record in records), migration


def test_the_example_resource_round_trips(service: Container) -> None:
    status, created = create(service, f"round trip {uuid.uuid4().hex}")

    assert status == 201
    status, body = service.get(f"/notes/{created['id']}")
    assert (status, json.loads(body)) == (200, created)
    assert create(service, created["title"])[0] == 409


def answers(service: Container, path: str, status: int, within: float) -> float:
    """Seconds until ``path`` answers ``status``."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if service.request(path, timeout=3)[0] == status:
            return time.monotonic() - started
        time.sleep(0.1)
    raise AssertionError(f"{path} never answered {status} within {within} s\n{service.logs()}")


def test_ready_follows_postgresql_down_and_up_without_a_restart(
    docker: Docker, postgres: Postgres, service: Container
) -> None:
    started_at = service.inspect("{{.State.StartedAt}}")
    assert service.get("/ready")[0] == 200

    docker("stop", postgres.id, timeout=60)
    try:
        down = answers(service, "/ready", 503, within=10)
        status, headers, body = service.request("/notes/1")
    finally:
        docker("start", postgres.id)
        postgres.ready()
    up = answers(service, "/ready", 200, within=15)

    assert down < 5, f"/ready answered 503 only {down:.1f} s after PostgreSQL stopped"
    assert status == 503 and headers["content-type"] == "application/problem+json", body
    assert create(service, f"after the restart {uuid.uuid4().hex}")[0] == 201
    assert up < 10
    assert service.inspect("{{.State.StartedAt}} {{.RestartCount}}") == f"{started_at} 0"


def test_the_first_request_after_a_database_restart_succeeds(
    docker: Docker, postgres: Postgres, service: Container
) -> None:
    """The pool's connection died with the restart, and no request in between found
    out: the pool tests it before handing it out (pool_pre_ping) and opens a new one."""
    assert create(service, f"before {uuid.uuid4().hex}")[0] == 201  # a pooled connection

    docker("restart", postgres.id, timeout=60)
    postgres.ready()

    assert create(service, f"after {uuid.uuid4().hex}")[0] == 201


def test_a_stop_answers_the_database_request_in_flight(
    docker: Docker, postgres: Postgres, service: Container
) -> None:
    """A create waits on a table lock held for 3 s while the service gets SIGTERM."""
    holder = threading.Thread(
        target=postgres.psql,
        args=("BEGIN; LOCK TABLE notes IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(3); COMMIT",),
    )
    holder.start()
    time.sleep(0.5)
    result: list[tuple[int, dict]] = []
    request = threading.Thread(target=lambda: result.append(create(service, "in flight")))
    request.start()
    time.sleep(0.5)

    docker("kill", "--signal", "TERM", service.id)
    request.join(timeout=15)
    holder.join(timeout=15)

    assert [status for status, _ in result] == [201]
    assert docker("wait", service.id).strip() == "0"


def test_the_password_shows_nowhere(
    docker: Docker, image: str, postgres: Postgres, migration: str, service: Container
) -> None:
    """At DEBUG, on the way that works and on the ways that fail; in the image, where
    a build argument or a copied file would have left it."""
    seen = [migration]
    for path in ("/ready", "/notes/1", "/notes/999999", "/version", "/metrics", "/openapi.json"):
        seen.append(service.request(path)[2].decode())
    seen.append(service.request("/notes", json_body={"title": ""})[2].decode())
    wrong = Container.start_on_host_network(
        docker, image, free_port(), *postgres.settings, f"-eAPP_DB_PORT={free_port()}",
        "-e", "APP_LOG_LEVEL=DEBUG",
    )  # fmt: skip
    try:
        wrong.wait_for("/health", within=30)
        seen += [wrong.request(path)[2].decode() for path in ("/ready", "/notes/1", "/metrics")]
        failing = wrong.logs()
    finally:
        wrong.remove()
    seen += [failing, service.logs(), docker("history", "--no-trunc", image)]
    seen.append(docker("inspect", image))

    assert [text for text in seen if CANARY in text] == []
    assert "the database cannot be reached" in failing  # its errors were logged


def test_the_readmes_password_file_and_make_migrate_and_revision(
    bake: Bake, postgres: Postgres, tmp_path: Path
) -> None:
    """README.md's quick start writes .env and runs `make migrate`; docs/run.md's
    `make revision` writes the migration for a changed model."""
    project = Path(shutil.copytree(bake(database="postgresql"), tmp_path / "service"))
    venv = service_venv(project)
    readme = (project / "README.md").read_text()
    (write_env,) = [line for line in readme.splitlines() if line.startswith("echo ")]
    run("sh", "-c", write_env, cwd=project)
    password = (project / ".env").read_text().strip().removeprefix("APP_DB_PASSWORD=")
    postgres.psql(f"CREATE ROLE readme LOGIN PASSWORD '{password}'")
    postgres.psql("CREATE DATABASE readme OWNER readme")
    database = {"APP_DB_PORT": str(postgres.port), "APP_DB_USER": "readme", "APP_DB_NAME": "readme"}
    environment = {k: v for k, v in os.environ.items() if not k.startswith("APP_DB_")}
    make = ("make", f"VENV={venv}")

    run(*make, "migrate", cwd=project, env={**environment, **database})
    models = project / "app" / "models.py"
    models.write_text(
        models.read_text() + "    pinned: Mapped[bool] = mapped_column(default=False)\n"
    )
    refused = subprocess.run(
        [*make, "revision"], cwd=project, env=environment, capture_output=True, text=True
    )
    run(*make, "revision", "MESSAGE=pin notes", cwd=project, env={**environment, **database})
    run(*make, "migrate", cwd=project, env={**environment, **database})

    assert 'make revision MESSAGE="' in refused.stderr and refused.returncode != 0
    (added,) = (project / "migrations" / "versions").glob("*_pin_notes.py")
    assert "op.add_column" in added.read_text()
    columns = postgres.psql(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'notes'",
        database="readme",
    )
    assert "pinned" in columns.split()
