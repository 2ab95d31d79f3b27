"""Benchmark the baked images against the recommended Dockerfile, side by side.

    .venv/bin/python -m benchmarks.run            # 3 runs of each figure, about 15 minutes
    .venv/bin/python -m benchmarks.run --smoke    # 1 run, no suite timing: CI's check that it works

Builds the same default service three ways (the recommended Dockerfile verbatim,
the template with pip, the template with uv), measures them in one run on one
machine and prints a Markdown table: median (min-max) of the runs.

Needs a Docker engine ($DOCKER, else `docker`). Cold builds run with --no-cache,
and every variant's download cache mount gets an id of the benchmark's own
(template-benchmark/...), so the build caches of the user's other projects stay
as they are. Every container serves on 127.0.0.1 on the host's network, where
the load is sent; the images it tags and the build cache its builds make are
removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from cookiecutter.main import cookiecutter

from benchmarks.instructions import BARE_APP
from harness.buildlog import ADDED_REQUIREMENT, INSTALL_LOGS, InstallLog
from harness.docker import (
    BUILDS_HERE,
    Container,
    Docker,
    builder_to_ourselves,
    no_other_builds,
    own_cache_mounts,
)
from harness.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
BASE = "python:3.13-slim"
PORT = "8000"
# Start-up figures vary more than the others: take more of them.
STARTS_PER_RUN = 3

# The recommended pattern, as published: no `# syntax` line and no .dockerignore.
REFERENCE_DOCKERFILE = """\
FROM python:3.13-slim AS build
WORKDIR /app
RUN python -m venv /app/.venv
ENV PATH="/app/.venv/bin:$PATH"
RUN pip install --upgrade pip setuptools wheel
COPY requirements.txt .
RUN --mount=type=cache,target=/root/.cache/pip pip install -r requirements.txt
COPY . .

FROM python:3.13-slim AS runtime
RUN groupadd -g 1001 appgroup && useradd -u 1001 -g appgroup -m -d /app -s /bin/false appuser
WORKDIR /app
COPY --from=build /app /app
ENV PATH="/app/.venv/bin:$PATH"
USER appuser
ENTRYPOINT ["python", "-m", "uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8000"]
"""
REFERENCE = InstallLog("pip install -r requirements.txt", INSTALL_LOGS["pip"].downloaded)

# The throughput ceiling: the least an ASGI app can do, served by the same uvicorn.
CEILING_APP = """\
BODY = b'{"status":"ok"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(BODY))]


async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
"""


@dataclass
class Variant:
    name: str
    context: Path
    installer: InstallLog
    figures: dict[str, list[float]] = field(default_factory=dict)

    @property
    def tag(self) -> str:
        return f"benchmark-{self.name}"

    def record(self, figure: str, value: float) -> None:
        self.figures.setdefault(figure, []).append(value)


def prepare(workdir: Path) -> list[Variant]:
    """Bake the default service with each installer; the reference uses the pip bake."""
    variants = []
    for manager in ("pip", "uv"):
        project = cookiecutter(
            str(ROOT),
            no_input=True,
            output_dir=str(workdir / manager),
            extra_context={"package_manager": manager, "dockerfile_frontend": ""},
        )
        variants.append(Variant(f"template-{manager}", Path(project), INSTALL_LOGS[manager]))
    reference = Path(shutil.copytree(variants[0].context, workdir / "reference" / "my-service"))
    (reference / "Dockerfile").write_text(REFERENCE_DOCKERFILE)
    (reference / ".dockerignore").unlink()
    variants.insert(0, Variant("reference", reference, REFERENCE))
    for variant in variants:
        own_cache_mounts(variant.context / "Dockerfile", f"template-benchmark/{variant.name}")
    return variants


def timed(action: Callable[[], object]) -> tuple[float, object]:
    start = time.monotonic()
    result = action()
    return time.monotonic() - start, result


def append(path: Path, text: str) -> None:
    with path.open("a") as file:
        file.write(text)


def measure_builds(docker: Docker, variant: Variant) -> None:
    """Cold build, code-change rebuild, added-requirement rebuild, on a scratch copy.

    The cold build uses no layer cache and starts the variant's own cache mount
    empty (--no-cache does both); the rebuilds use what it left.
    """
    context = Path(shutil.copytree(variant.context, variant.context.parent / "scratch"))
    # The previous run's image: the new build would take its tag and leave it untagged.
    docker("rmi", "-f", variant.tag, check=False)
    try:
        seconds, _ = timed(lambda: docker.build(context, variant.tag, "--no-cache"))
        variant.record("cold build (s)", seconds)
        before = f"{variant.tag}-before"
        docker("tag", variant.tag, before)

        append(context / "app" / "main.py", f"# change {uuid.uuid4()}\n")
        seconds, _ = timed(lambda: docker.build(context, f"{variant.tag}-changed"))
        variant.record("code change: rebuild (s)", seconds)
        new_bytes = docker.new_layer_bytes(before, f"{variant.tag}-changed")
        variant.record("code change: new layers (kB)", round(new_bytes / 1e3))
        # The same change on a runner that starts cold (most hosted CI runners): built
        # last, as its --no-cache empties the cache mount the next rebuild counts on.
        changed = Path(shutil.copytree(context, variant.context.parent / "scratch-changed"))

        append(context / "requirements.txt", f"# change {uuid.uuid4()}\n{ADDED_REQUIREMENT}")
        seconds, log = timed(lambda: docker.build(context, f"{variant.tag}-added"))
        variant.record("added requirement: rebuild (s)", seconds)
        variant.record("added requirement: packages downloaded", variant.installer.downloads(log))

        docker.build(changed, f"{variant.tag}-changed-cold", "--no-cache")
        new_bytes = docker.new_layer_bytes(before, f"{variant.tag}-changed-cold")
        variant.record("code change, cold builder: new layers (kB)", round(new_bytes / 1e3))
        docker(
            "rmi",
            before,
            *(f"{variant.tag}-{name}" for name in ("changed", "added", "changed-cold")),
        )
    finally:
        shutil.rmtree(context)
        shutil.rmtree(variant.context.parent / "scratch-changed", ignore_errors=True)


def image_bytes(docker: Docker, image: str) -> int:
    return int(docker("image", "inspect", "-f", "{{.Size}}", image).strip())


def first_200(docker: Docker, image: str, *options: str) -> float:
    start = time.monotonic()
    container = Container.start(docker, image, PORT, *options)
    try:
        container.wait_for("/health", within=60, interval=0.005)
        return time.monotonic() - start
    finally:
        container.remove()


async def _load(host: str, port: int, seconds: float, connections: int, path: str) -> int:
    """Requests answered in ``seconds`` by ``connections`` keep-alive HTTP/1.1 clients."""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    deadline = time.monotonic() + seconds

    async def client() -> int:
        reader, writer = await asyncio.open_connection(host, port)
        done = 0
        while time.monotonic() < deadline:
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head)[1])
            await reader.readexactly(length)
            done += 1
        writer.close()
        return done

    return sum(await asyncio.gather(*(client() for _ in range(connections))))


def requests_per_second(
    port: int, seconds: float, connections: int = 32, path: str = "/health"
) -> float:
    """GETs of ``path`` answered per second by 127.0.0.1:``port``: wrk when installed
    (it costs the server less CPU), else a Python client."""
    if shutil.which("wrk"):
        output = subprocess.run(
            [
                "wrk",
                "-t2",
                f"-c{connections}",
                f"-d{round(seconds)}s",
                f"http://127.0.0.1:{port}{path}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])
    return asyncio.run(_load("127.0.0.1", port, seconds, connections, path)) / seconds


def throughput(
    docker: Docker, seconds: float, image: str, *options: str, uvicorn: tuple[str, ...] = ()
) -> float:
    """/health requests per second from ``image`` serving on 127.0.0.1, host network.

    With ``uvicorn``, the image runs `python -m uvicorn` with those arguments and
    the host and port added; without, its own entry point, told them by the
    UVICORN_* variables the template's images read.
    """
    port = free_port()
    address = ("--host", "127.0.0.1", "--port", str(port))
    command = ("-m", "uvicorn", *uvicorn, *address) if uvicorn else ()
    container = Container.start_on_host_network(
        docker, image, port, *options, *(("--entrypoint", "python") if uvicorn else ()),
        command=command,
    )  # fmt: skip
    try:
        container.wait_for("/health", within=30)
        try:
            return requests_per_second(port, seconds)
        except OSError as error:
            logs = container.logs()
            raise RuntimeError(f"load on port {port} failed: {error}\n{logs}") from error
    finally:
        container.remove()


def measure(
    docker: Docker, variants: list[Variant], workdir: Path, runs: int, load_seconds: float
) -> None:
    """Every figure of every variant but the bake's, ``runs`` times."""
    ceiling = workdir / "ceiling"
    ceiling.mkdir()
    (ceiling / "ceiling.py").write_text(CEILING_APP)
    (ceiling / "bare.py").write_text(BARE_APP)
    for _ in range(runs):
        for variant in variants:
            measure_builds(docker, variant)
    base = image_bytes(docker, BASE)
    # Start-up in turns, the order reversed every round: measured one variant
    # after another, the earlier ones looked 40-80 ms faster than they are.
    for round_ in range(runs * STARTS_PER_RUN):
        for variant in variants if round_ % 2 == 0 else variants[::-1]:
            variant.record("start to first 200 (s)", first_200(docker, variant.tag))
            variant.record(
                "start to first 200, --cpus=0.5 (s)",
                first_200(docker, variant.tag, "--cpus=0.5"),
            )
    for variant in variants:
        variant.record("image over base (MB)", (image_bytes(docker, variant.tag) - base) / 1e6)
        # The reference's entry point names its host and port: run it the same way.
        served_by = ("app.main:app",) if variant.name == "reference" else ()
        for _ in range(runs):
            served = throughput(docker, load_seconds, variant.tag, uvicorn=served_by)
            # uvicorn's access log off in every column, as the template's
            # log config has it, so the ceilings compare.
            mounted = (docker, load_seconds, variant.tag, "-v", f"{ceiling}:/bench:ro")
            raw = throughput(
                *mounted,
                uvicorn=("--app-dir", "/bench", "ceiling:app", "--lifespan", "off",
                         "--no-access-log"),
            )  # fmt: skip
            # The same route in bare FastAPI, with no log, id or metrics: the most
            # a FastAPI service can serve here.
            bare = throughput(
                *mounted, uvicorn=("--app-dir", "/bench", "bare:app", "--no-access-log")
            )
            variant.record("/health requests/s", served)
            variant.record("raw ASGI ceiling requests/s", raw)
            variant.record("/health / ceiling (%)", 100 * served / raw)
            variant.record("bare FastAPI /health requests/s", bare)
            variant.record("bare FastAPI / ceiling (%)", 100 * bare / raw)
            variant.record("/health / bare FastAPI (%)", 100 * served / bare)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--smoke", action="store_true", help="one run, no test-suite timing")
    parser.add_argument("--no-suite", action="store_true", help="leave out the test-suite timing")
    options = parser.parse_args()
    runs, load_seconds = (1, 2.0) if options.smoke else (3, 10.0)
    docker = Docker.from_environment()
    if problem := docker.unreachable():
        print(f"benchmark needs a Docker engine: {problem}", file=sys.stderr)
        return 1

    with tempfile.TemporaryDirectory() as workdir:
        variants = prepare(Path(workdir))
        try:
            with builder_to_ourselves(docker):
                measure(docker, variants, Path(workdir), runs, load_seconds)
        finally:
            docker("rmi", "-f", *(variant.tag for variant in variants), check=False)
            with no_other_builds():
                BUILDS_HERE.remove(docker)
        bake_times = [bake_seconds(Path(workdir) / f"bake-{run}") for run in range(runs)]
    timed_suite = not (options.smoke or options.no_suite)
    suite_times = [suite_seconds() for _ in range(runs)] if timed_suite else []
    print(report(variants, bake_times, suite_times, runs))
    return 0


def bake_seconds(output: Path) -> float:
    """Wall time of `cookiecutter --no-input`, hooks and all, as a person runs it."""
    command = [sys.executable, "-m", "cookiecutter", str(ROOT), "--no-input", "-o", str(output)]
    return timed(lambda: subprocess.run(command, check=True, capture_output=True))[0]


def suite_seconds() -> float:
    return timed(
        lambda: subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=ROOT, check=True)
    )[0]


def summary(values: list[float]) -> str:
    """The median, and the range when there was more than one run."""
    digits = 0 if max(values) >= 100 or all(float(v).is_integer() for v in values) else 2
    median = f"{statistics.median(values):.{digits}f}"
    if len(values) == 1:
        return median
    return f"{median} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def report(variants: list[Variant], bakes: list[float], suites: list[float], runs: int) -> str:
    load = "wrk -t2 -c32" if shutil.which("wrk") else "a Python client, 32 connections"
    lines = [
        f"Runs per figure: {runs}; median (min-max). Machine: {platform.machine()},"
        f" {os.cpu_count()} CPUs, {platform.platform()}. Load: {load}.",
        "",
        "| figure | " + " | ".join(v.name for v in variants) + " |",
        "|---|" + "---|" * len(variants),
    ]
    for figure in variants[0].figures:
        cells = [summary(variant.figures[figure]) for variant in variants]
        lines.append(f"| {figure} | " + " | ".join(cells) + " |")
    lines += ["", "| template | median (min-max) |", "|---|---|"]
    lines.append(f"| bake, `cookiecutter --no-input` (s) | {summary(bakes)} |")
    suite = summary(suites) if suites else "not measured in this run"
    lines.append(f"| test suite, `pytest` (s) | {suite} |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
