"""Benchmark a `database=postgresql` service: its example read against /health, and
what the database layer adds to the image.

    .venv/bin/python -m benchmarks.database            # 3 runs of 10 s each, about 3 minutes
    .venv/bin/python -m benchmarks.database --smoke    # 1 run of 2 s

Bakes the default service with and without a database, builds both (cache mounts
of the benchmark's own), starts PostgreSQL 17 and the service on the host's
network, both on 127.0.0.1, migrates, creates one note, and loads `GET /notes/1`
and `GET /health` of the same container in turn (one worker, json-file logging,
as the image runs). Prints a Markdown table: median (min-max) of the runs. The
images it tags, the containers it starts and the build cache it makes are removed
at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import uuid
from pathlib import Path

from cookiecutter.main import cookiecutter

from benchmarks.run import BASE, ROOT, image_bytes, requests_per_second, summary
from harness.docker import (
    BUILDS_HERE,
    Container,
    Docker,
    builder_to_ourselves,
    no_other_builds,
    own_cache_mounts,
)
from harness.ports import free_port
from harness.postgres import running


def bake(workdir: Path, database: str) -> Path:
    project = cookiecutter(
        str(ROOT),
        no_input=True,
        output_dir=str(workdir / database),
        extra_context={"database": database, "dockerfile_frontend": ""},
    )
    own_cache_mounts(Path(project) / "Dockerfile", f"template-benchmark/database-{database}")
    return Path(project)


def loads(docker: Docker, image: str, runs: int, seconds: float) -> dict[str, list[float]]:
    """Requests per second of each path, from one container, ``runs`` times each."""
    figures: dict[str, list[float]] = {"/notes/1": [], "/health": []}
    password = uuid.uuid4().hex
    with running(docker, "my_service", password) as postgres:
        docker("run", "--rm", "--network", "host", *postgres.settings, image, "migrate")
        port = free_port()
        container = Container.start_on_host_network(docker, image, port, *postgres.settings)
        try:
            container.wait_for("/health", within=30)
            status, _, body = container.request("/notes", json_body={"title": "benchmark"})
            assert status == 201, body
            for _ in range(runs):
                for path, values in figures.items():
                    values.append(requests_per_second(port, seconds, path=path))
        finally:
            container.remove()
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="one run of 2 s")
    runs, seconds = (1, 2.0) if parser.parse_args().smoke else (3, 10.0)
    docker = Docker.from_environment()
    if problem := docker.unreachable():
        print(f"benchmark needs a Docker engine: {problem}", file=sys.stderr)
        return 1
    tags = {database: f"benchmark-database-{database}" for database in ("none", "postgresql")}
    with tempfile.TemporaryDirectory() as workdir:
        try:
            with builder_to_ourselves(docker):
                for database, tag in tags.items():
                    docker.build(bake(Path(workdir), database), tag)
            sizes = {database: image_bytes(docker, tag) for database, tag in tags.items()}
            figures = loads(docker, tags["postgresql"], runs, seconds)
        finally:
            docker("rmi", "-f", *tags.values(), check=False)
            with no_other_builds():
                BUILDS_HERE.remove(docker)
    base = image_bytes(docker, BASE)
    print("| figure | value |\n|---|---|")
    for path, values in figures.items():
        print(f"| `GET {path}`, requests/s | {summary(values)} |")
    for database, size in sizes.items():
        print(f"| image over `{BASE}`, database={database} | {(size - base) / 1e6:.1f} MB |")
    added = (sizes["postgresql"] - sizes["none"]) / 1e6
    print(f"| what the database layer adds | {added:.1f} MB |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
