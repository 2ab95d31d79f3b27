"""Benchmark the PostgreSQL drivers a database bake could use, through what the
service uses them by: SQLAlchemy's async ORM, a session per read, on uvloop.

    .venv/bin/python -m benchmarks.drivers      # 5 runs of 3000 reads per driver, about a minute

Starts PostgreSQL 17 on 127.0.0.1 (host network), makes a venv from
benchmarks/requirements-drivers.txt, and reads one row by primary key per session,
as `GET /notes/{id}` does (checkout with pre-ping, BEGIN, SELECT, COMMIT). Prints
reads per second, median (min-max), per driver. docs/design-decisions.md says
what the figures decided.
"""

import argparse
import subprocess
import sys
import time
import uuid
from pathlib import Path

READS = 3000
RUNS = 5


async def reads_per_second(driver: str, port: int, password: str) -> float:
    from sqlalchemy import URL, String, select
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
    from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

    class Base(DeclarativeBase):
        pass

    class Note(Base):
        __tablename__ = f"notes_{driver}"
        id: Mapped[int] = mapped_column(primary_key=True)
        title: Mapped[str] = mapped_column(String(200), unique=True)

    url = URL.create(f"postgresql+{driver}", "bench", password, "127.0.0.1", port, "bench")
    engine = create_async_engine(url, pool_size=1, pool_pre_ping=True)
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.drop_all)
        await connection.run_sync(Base.metadata.create_all)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with sessions() as session, session.begin():
        session.add_all(Note(title=f"note {i}") for i in range(100))
    started = time.perf_counter()
    for i in range(READS):
        async with sessions() as session, session.begin():
            (await session.execute(select(Note).where(Note.id == i % 100 + 1))).scalar_one()
    seconds = time.perf_counter() - started
    await engine.dispose()
    return READS / seconds


def measure(driver: str, port: int, password: str) -> None:
    """In the drivers' venv: one run's figure, printed."""
    import uvloop

    print(uvloop.run(reads_per_second(driver, port, password)))


def main() -> int:
    from benchmarks.run import summary
    from harness.docker import Docker
    from harness.postgres import running
    from harness.venvs import venv_for

    docker = Docker.from_environment()
    if problem := docker.unreachable():
        print(f"benchmark needs a Docker engine: {problem}", file=sys.stderr)
        return 1
    python = venv_for(Path(__file__).with_name("requirements-drivers.txt")) / "bin" / "python"
    password = uuid.uuid4().hex
    figures: dict[str, list[float]] = {"asyncpg": [], "psycopg": []}
    with running(docker, "bench", password) as postgres:
        for _ in range(RUNS):
            for driver, values in figures.items():
                command = [python, __file__, "--measure", driver, str(postgres.port), password]
                run = subprocess.run(command, capture_output=True, text=True, check=False)
                if run.returncode:
                    raise RuntimeError(f"{driver}: {run.stderr}")
                values.append(float(run.stdout))
    print("| driver | reads/s |\n|---|---|")
    for driver, values in figures.items():
        print(f"| {driver} | {summary(values)} |")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--measure", nargs=3, metavar=("DRIVER", "PORT", "PASSWORD"))
    options = parser.parse_args()
    if options.measure:
        driver, port, password = options.measure
        measure(driver, int(port), password)
        raise SystemExit(0)
    raise SystemExit(main())
