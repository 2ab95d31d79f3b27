"""A PostgreSQL 17 for tests and benchmarks: the official image's contract (the
offline stand-in keeps it), on the host's network and listening on 127.0.0.1 only,
so nothing aims at a bridge address."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from harness.docker import Docker
from harness.ports import free_port

IMAGE = "postgres:17"


@dataclass(frozen=True)
class Postgres:
    docker: Docker
    id: str
    port: int
    user: str
    password: str

    def psql(self, sql: str, database: str | None = None) -> str:
        """``sql``'s rows, unaligned, as the superuser (in the service's database)."""
        return self.docker(
            "exec", "-e", f"PGPASSWORD={self.password}", self.id,
            "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user,
            "-d", database or self.user, "-tAc", sql,
        ).strip()  # fmt: skip

    def ready(self, within: float = 30) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            probe = ("pg_isready", "-h", "127.0.0.1", "-p", str(self.port))
            if "accepting connections" in self.docker("exec", self.id, *probe, check=False):
                return
            time.sleep(0.2)
        raise AssertionError(f"PostgreSQL not ready within {within} s")

    @property
    def settings(self) -> tuple[str, ...]:
        """A service's APP_DB_* settings for this database, as `docker run` options."""
        variables = {
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "NAME": self.user,
            "USER": self.user,
            "PASSWORD": self.password,
        }
        return tuple(f"-eAPP_DB_{name}={value}" for name, value in variables.items())


@contextmanager
def running(docker: Docker, user: str, password: str) -> Iterator[Postgres]:
    """An empty PostgreSQL whose superuser ``user`` owns a database of that name."""
    port = free_port()
    cid = docker(
        "run", "-d", "--network", "host",
        "-e", f"POSTGRES_USER={user}", "-e", f"POSTGRES_DB={user}",
        "-e", f"POSTGRES_PASSWORD={password}",
        IMAGE, "postgres", "-c", "listen_addresses=127.0.0.1", "-p", str(port),
    ).strip().splitlines()[-1]  # fmt: skip
    database = Postgres(docker, cid, port, user, password)
    try:
        database.ready()
        yield database
    finally:
        docker("rm", "-f", "-v", cid, check=False)
