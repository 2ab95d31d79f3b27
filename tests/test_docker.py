"""Baked images build, run and stop as promised, on a real Docker engine.

Each variant is built once per session from a clean cache and shared by all its
tests; the two rebuilds (a code change, an added requirement) reuse that cache.
All tests of every variant run on one xdist worker (see conftest.py), one variant after another.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import otlp
from harness.buildlog import ADDED_REQUIREMENT, INSTALL_LOGS, step_numbers
from harness.docker import (
    HARDENED,
    Container,
    Docker,
    builder_to_ourselves,
    empty_cache_mount,
    own_cache_mounts,
)
from harness.ports import free_port
from tests.cases import NO_FRONTEND
from tests.helpers import Bake, case_id, default_context, environment_with, run

pytestmark = pytest.mark.docker

RUN_ID = uuid.uuid4()

# The defaults for each installer, and each installer on the other Python with the
# port and user changed; the first two differ in both installer and Python.
VARIANTS = [
    {"package_manager": "pip"},
    {"package_manager": "uv", "python_version": "3.11", "port": "9000", "app_gid": "3000"},
    {"package_manager": "uv"},
    # ...and one baked without tracing, which must run the same without the SDK.
    {
        "package_manager": "pip",
        "python_version": "3.11",
        "port": "9000",
        "app_uid": "2000",
        "tracing": "none",
    },
]

# What only the installer changes (the cache mounts' life across CI runs, images
# that are the same bytes when built again from nothing), and what only the Python
# changes (the HTTP parsers its lock holds; the limits on hostile request heads are
# uvicorn's, set by the image's environment, which no choice changes), is proven on
# two images, one of each installer and of each Python. They are the first two
# variants because pytest keys a parametrised module fixture by the parameter's
# position: any other pair would build its images a second time.
on_two_images = pytest.mark.parametrize("variant", VARIANTS[:2], indirect=True, ids=case_id)

# Routes appended to app/main.py: one that keeps a request in flight (the stop
# tests), one that fails as a bug in a handler would (the error tests).
TEST_ROUTES = """

@app.get("/slow")
async def slow() -> dict[str, str]:
    import asyncio

    await asyncio.sleep(2)
    return {"status": "done"}


@app.get("/fail/{item}")
async def fail(item: str) -> None:
    raise RuntimeError(f"cannot handle {item}")


@app.get("/pid")
async def pid() -> dict[str, int]:
    import os

    return {"pid": os.getpid()}
"""


def until_both_workers_answered(
    container: Container, request_id: str = "spread", within: float = 30
) -> int:
    """Send requests, each on a new connection, until two worker processes have
    answered; how many. Which of them accepts a connection is up to the kernel,
    and on a busy machine the second may still be starting when the first answers,
    so the bound is a time, not a number of requests."""
    pids: set[int] = set()
    sent = 0
    deadline = time.monotonic() + within
    while len(pids) < 2 and time.monotonic() < deadline:
        _, _, body = container.request("/pid", {"X-Request-ID": f"{request_id}-{sent}"})
        pids.add(json.loads(body)["pid"])
        sent += 1
    assert len(pids) == 2, f"one worker answered all {sent} requests in {within:.0f} s"
    return sent


@dataclass(frozen=True)
class Image:
    tag: str
    log: str
    context: Path


@pytest.fixture(
    scope="module",
    params=VARIANTS,
    ids=case_id,
)
def variant(request) -> dict[str, str]:
    """The variant's choices, defaults filled in."""
    return default_context(**request.param)


def variant_name(variant: dict[str, str]) -> str:
    return "-".join(variant[k] for k in ("package_manager", "python_version", "port", "app_uid"))


def cache_owner(variant: dict[str, str]) -> str:
    """The prefix of the variant's own cache mount ids."""
    return f"template-tests/{variant_name(variant)}"


def checkout(bake: Bake, variant: dict[str, str], destination: Path) -> Path:
    """The baked project as a team's working copy would hold it, clutter included.

    Its cache mounts get ids of the tests' own, so no build here touches the
    download caches the user's other projects share.
    """
    project = Path(shutil.copytree(bake(**{**variant, **NO_FRONTEND}), destination))
    own_cache_mounts(project / "Dockerfile", cache_owner(variant))
    (project / ".env").write_text("APP_SECRET=must-not-reach-the-image\n")
    for place in (project, project / "app"):  # the private index's URL, left behind
        (place / ".index-url").write_text("https://user:must-not-reach-the-image@index/simple/")
    (project / ".git").mkdir()
    (project / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (project / ".venv" / "bin").mkdir(parents=True)
    (project / "app" / "__pycache__").mkdir()
    return project


@dataclass(frozen=True)
class Builds:
    image: Image
    requirement_added: Image


@pytest.fixture(scope="module")
def builds(
    docker: Docker, bake: Bake, variant: dict[str, str], tmp_path_factory
) -> Iterator[Builds]:
    """The clean build, and the rebuild after adding a requirement, with nothing between.

    With --no-cache, BuildKit starts the build with an empty cache mount (the
    variant's own, see ``checkout``), and later builds see that one.
    """
    context = checkout(bake, variant, tmp_path_factory.mktemp("image") / "service")
    tag = f"template-test-{os.getpid()}:{variant_name(variant)}"
    with builder_to_ourselves(docker):
        log = docker.build(context, tag, "--no-cache")
        # Rebuild as everyday builds run, from the cache: later rebuilds resolve
        # their steps to the records this one uses.
        docker.build(context, tag)
        image = Image(tag, log, context)
        added = rebuild(docker, image, "requirement-added", ADDED_REQUIREMENT, "requirements.txt")
    yield Builds(image, added)
    docker("rmi", "-f", tag, added.tag, check=False)


@pytest.fixture(scope="module")
def image(builds: Builds) -> Image:
    return builds.image


@pytest.fixture(scope="module")
def requirement_added(builds: Builds) -> Image:
    return builds.requirement_added


@dataclass(frozen=True)
class CodeChange:
    before: Image
    after: Image


@pytest.fixture(scope="module")
def code_change(docker: Docker, image: Image) -> Iterator[CodeChange]:
    """An image, and the same after a change under app/ only.

    ``before`` locks its dependencies afresh (its requirements.txt carries this
    run's comment), so its steps have no cache records from earlier runs or from
    the --no-cache build, among which BuildKit could pick a byte-different one.
    """
    with builder_to_ourselves(docker):
        before = rebuild(docker, image, "before-code-change", "", "requirements.txt")
        after = rebuild(docker, before, "code-changed", TEST_ROUTES, "app/main.py")
    yield CodeChange(before, after)
    docker("rmi", "-f", before.tag, after.tag, check=False)


def rebuild(docker: Docker, base: Image, name: str, addition: str, path: str) -> Image:
    """Build a copy of ``base``'s context with ``addition`` appended to ``path``.

    A comment unique to this run goes with it, so no earlier run's cached steps
    stand in for this build's.
    """
    context = Path(shutil.copytree(base.context, base.context.parent / name))
    with (context / path).open("a") as changed:
        changed.write(f"# test run {RUN_ID}\n{addition}")
    tag = f"{base.tag}-{name}"
    return Image(tag, docker.build(context, tag), context)


@pytest.fixture(scope="module")
def on_official_like_base(
    docker: Docker, image: Image, variant: dict[str, str], tmp_path_factory
) -> Iterator[Image]:
    """The image built on its base minus the standard library's .pyc files.

    The official python images ship the standard library uncompiled; the stand-in
    images used offline (Debian's Python) ship it compiled, which would hide a
    missing compile step.
    """
    base_context = tmp_path_factory.mktemp("official-like")
    (base_context / "Dockerfile").write_text(
        f"FROM python:{variant['python_version']}-slim\n"
        "RUN find / -xdev -name __pycache__ -type d -prune -exec rm -rf {} +\n"
    )
    base = f"{image.tag}-official-like-base"
    dockerfile = (image.context / "Dockerfile").read_text()
    rebased = base_context / "Dockerfile.rebased"
    text, count = re.subn(r"^FROM \S+ AS base$", f"FROM {base} AS base", dockerfile, flags=re.M)
    assert count == 1, f"no 'FROM ... AS base' line to replace:\n{dockerfile}"
    rebased.write_text(text)
    tag = f"{image.tag}-on-official-like-base"
    with builder_to_ourselves(docker):
        docker.build(base_context, base)
        log = docker.build(image.context, tag, "--file", rebased)
    yield Image(tag, log, image.context)
    docker("rmi", "-f", tag, base, check=False)


@pytest.fixture
def container(docker: Docker, image: Image, variant: dict[str, str]) -> Iterator[Container]:
    container = Container.start(docker, image.tag, variant["port"])
    yield container
    container.remove()


def test_builds_from_a_clean_cache(image: Image, variant: dict[str, str]) -> None:
    install = step_numbers(image.log, INSTALL_LOGS[variant["package_manager"]].step)

    assert install, f"no install step in the build log:\n{image.log}"
    assert f"#{install[0]} CACHED" not in image.log
    assert INSTALL_LOGS[variant["package_manager"]].downloads(image.log) > 0, "a cache was warm"


def test_serves_health_on_the_published_port(container: Container) -> None:
    container.wait_for("/health", within=20)

    status, body = container.get("/health")

    assert (status, json.loads(body)) == (200, {"status": "ok"})
    assert container.get("/ready")[0] == 200


def test_runs_as_the_configured_non_root_user(
    container: Container, variant: dict[str, str]
) -> None:
    expected = f"{variant['app_uid']} {variant['app_gid']}"
    container.wait_for("/health", within=20)

    server = container.exec("sh", "-c", "awk '/^Uid|^Gid/ {print $2}' /proc/1/status")

    assert server.split() == expected.split()
    assert container.inspect("{{.Config.User}}") == expected.replace(" ", ":")


def test_healthcheck_reports_healthy(docker: Docker, image: Image, variant: dict[str, str]) -> None:
    # The image's own check command, polled every second rather than every 30 s.
    container = Container.start(docker, image.tag, variant["port"], "--health-interval=1s")
    try:
        container.wait_until_health("healthy", within=30)
    finally:
        container.remove()


def test_runs_read_only_without_capabilities(container: Container) -> None:
    container.wait_for("/health", within=20)

    assert container.inspect("{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}}") == (
        "true [ALL]"
    )
    denied = container.docker("exec", container.id, "touch", "/app/x", check=False)
    assert "Read-only file system" in denied
    container.exec("touch", "/tmp/scratch")


@contextmanager
def serving(docker: Docker, image: str, port: str, *options: str) -> Iterator[Container]:
    container = Container.start(docker, image, port, *options)
    try:
        container.wait_for("/health", within=30)
        yield container
    finally:
        container.remove()


@pytest.fixture
def one_worker(
    docker: Docker, code_change: CodeChange, variant: dict[str, str]
) -> Iterator[Container]:
    """The image with the test routes, serving with one process."""
    with serving(docker, code_change.after.tag, variant["port"]) as container:
        yield container


@pytest.fixture
def two_workers(
    docker: Docker, code_change: CodeChange, variant: dict[str, str]
) -> Iterator[Container]:
    """The image with the test routes, serving with two worker processes."""
    options = ("-e", "WEB_CONCURRENCY=2")
    with serving(docker, code_change.after.tag, variant["port"], *options) as container:
        yield container


def slow_request(container: Container) -> tuple[threading.Thread, list[tuple[int, bytes]]]:
    """A request inside the /slow handler's 2 s sleep, and the list its answer goes to."""
    answers: list[tuple[int, bytes]] = []
    request = threading.Thread(target=lambda: answers.append(container.get("/slow")))
    request.start()
    time.sleep(0.5)
    return request, answers


def test_stop_finishes_in_flight_requests_and_exits_0(
    docker: Docker, one_worker: Container
) -> None:
    request, answers = slow_request(one_worker)

    started = time.monotonic()
    docker("stop", one_worker.id, timeout=30)
    stopped_after = time.monotonic() - started
    request.join(timeout=10)

    assert answers == [(200, b'{"status":"done"}')]
    assert one_worker.inspect("{{.State.ExitCode}}") == "0"
    assert stopped_after < 5, f"docker stop took {stopped_after:.1f} s"


def test_a_stop_loses_no_access_record(docker: Docker, two_workers: Container) -> None:
    """Access records wait up to 100 ms to be written in a batch (app/batch.py):
    those of requests answered just before a stop, and of one still in flight when
    it came, are all in the logs after it, from each worker."""
    request, answers = slow_request(two_workers)
    answered = [f"just-before-stop-{number}" for number in range(10)]
    for request_id in answered:
        two_workers.request("/health", {"X-Request-ID": request_id})
    docker("stop", two_workers.id, timeout=30)
    request.join(timeout=10)

    records = [json.loads(line) for line in two_workers.logs().splitlines()]
    access = [record for record in records if record["logger"] == "app.access"]
    assert answers == [(200, b'{"status":"done"}')]
    assert set(answered) <= {record["request_id"] for record in access}
    assert [record["status"] for record in access if record["route"] == "/slow"] == [200]


def test_on_sigterm_ready_never_answers_503_new_connections_are_refused(
    docker: Docker, one_worker: Container
) -> None:
    """What README.md ("Stopping") says: uvicorn stops accepting at once and finishes
    the requests in flight; readiness does not turn to 503 first."""
    request, slow = slow_request(one_worker)
    stopping = threading.Thread(target=lambda: docker("stop", one_worker.id, timeout=30))
    stopping.start()
    seen: list[int | str] = []
    while stopping.is_alive():
        try:
            seen.append(one_worker.get("/ready", timeout=1)[0])
        except OSError:
            seen.append("refused")
        time.sleep(0.02)
    request.join(timeout=10)

    assert slow == [(200, b'{"status":"done"}')]
    assert 503 not in seen
    assert "refused" in seen
    first_refusal = seen.index("refused")
    assert set(seen[first_refusal:]) == {"refused"}, seen


def test_logs_are_json_lines_with_request_ids_from_every_worker(
    docker: Docker, two_workers: Container
) -> None:
    answers = {
        f"probe-{number}": two_workers.request("/health", {"X-Request-ID": f"probe-{number}"})
        for number in range(20)
    }
    failed = two_workers.request("/fail/7", {"X-Request-ID": "failing-1"})
    docker("stop", two_workers.id, timeout=30)
    lines = two_workers.logs().splitlines()

    records = [json.loads(line) for line in lines]  # every line, or this raises
    workers = {r["message"] for r in records if r["message"].startswith("Started server process")}
    assert len(workers) == 2, workers
    assert any(r["message"].startswith("Started parent process") for r in records)
    access = {r["request_id"]: r for r in records if r["logger"] == "app.access"}
    for request_id, (status, headers, _) in answers.items():
        assert status == 200 and headers["x-request-id"] == request_id
        assert (access[request_id]["route"], access[request_id]["status"]) == ("/health", 200)
    status, headers, body = failed
    assert (status, headers["content-type"]) == (500, "application/problem+json")
    assert json.loads(body)["request_id"] == headers["x-request-id"] == "failing-1"
    (error,) = [r for r in records if r["level"] == "ERROR"]
    assert (error["request_id"], error["exception"]) == ("failing-1", "RuntimeError")
    assert "cannot handle 7" in error["traceback"]
    assert access["failing-1"]["route"] == "/fail/{item}"


COUNTED = re.compile(
    r'^http_requests_total\{method="GET",route="/pid",status="200"\} ([0-9.]+)$', re.M
)


def counted(container: Container) -> float:
    return float(COUNTED.search(container.get("/metrics")[1].decode())[1])


def test_metrics_count_every_request_once_across_two_workers(two_workers: Container) -> None:
    sent = until_both_workers_answered(two_workers)
    # A request is counted when its handling ends, just after its answer went out.
    deadline = time.monotonic() + 2
    while counted(two_workers) < sent and time.monotonic() < deadline:
        time.sleep(0.05)

    assert [counted(two_workers) for _ in range(6)] == [float(sent)] * 6


def test_traces_reach_an_otlp_receiver_from_every_worker_with_the_logs_ids(
    docker: Docker, code_change: CodeChange, variant: dict[str, str]
) -> None:
    """Baked with tracing=none, the same endpoint gets nothing and nothing complains."""
    with otlp.running(free_port()) as receiver:
        container = Container.start_on_host_network(
            docker, code_change.after.tag, free_port(),
            "-e", "WEB_CONCURRENCY=2",
            "-e", f"OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:{receiver.port}",
        )  # fmt: skip
        try:
            container.wait_for("/health", within=30)
            sent = until_both_workers_answered(container, "traced")
            docker("stop", container.id, timeout=30)  # each worker sends what it holds
            records = [json.loads(line) for line in container.logs().splitlines()]
        finally:
            container.remove()

    traces = {span.trace_id for span in receiver.spans}
    access = [r for r in records if r.get("route") == "/pid"]
    assert len(access) == sent
    assert [r for r in records if r["level"] in ("WARNING", "ERROR")] == []
    if variant["tracing"] == "none":
        assert receiver.spans == []
        assert not any("trace_id" in r for r in records)
    else:
        assert [r["request_id"] for r in access if r["trace_id"] not in traces] == []
        assert len({span.pid for span in receiver.spans}) == 2, "spans from one worker only"


# Run inside the image: counts connections to OTLP/HTTP's default port, where an
# exporter without an endpoint would send, printing a line for each.
DEFAULT_PORT_LISTENER = f"""
import socket
listener = socket.create_server(("127.0.0.1", {otlp.DEFAULT_PORT}))
print("listening", flush=True)
while True:
    listener.accept()[0].close()
    print("connection", flush=True)
"""


def test_without_an_endpoint_nothing_is_sent_and_nothing_complains(
    docker: Docker, code_change: CodeChange, variant: dict[str, str]
) -> None:
    """The listener owns a network namespace of its own, whose loopback the service
    shares (``--network container:``), so the default port is free whatever the
    host runs; the service is reached on its port published on 127.0.0.1."""
    listener = Container.start(
        docker, code_change.after.tag, variant["port"], "--entrypoint", "python",
        command=("-c", DEFAULT_PORT_LISTENER),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while "listening" not in listener.logs():
            assert time.monotonic() < deadline, listener.logs()
            time.sleep(0.1)
        service = docker(
            "run", "-d", *HARDENED, "--network", f"container:{listener.id}",
            "-e", "WEB_CONCURRENCY=2", code_change.after.tag,
        ).strip().splitlines()[-1]  # fmt: skip
        container = Container(docker, service, listener.port)
        try:
            container.wait_for("/health", within=30)
            for _ in range(10):
                container.request("/ready")
            docker("stop", container.id, timeout=30)
            records = [json.loads(line) for line in container.logs().splitlines()]
        finally:
            container.remove()
        connections = listener.logs().count("connection")
    finally:
        listener.remove()

    assert connections == 0
    assert [r for r in records if r["level"] in ("WARNING", "ERROR")] == []
    assert not any("trace_id" in r for r in records)


def test_the_revision_reaches_version_and_labels_and_rebuilds_no_dependency(
    docker: Docker, image: Image, variant: dict[str, str]
) -> None:
    """CI passes the commit as a build argument; a local build says "unknown"."""
    tag = f"{image.tag}-revision"
    with builder_to_ourselves(docker):
        log = docker.build(
            image.context, tag, "--build-arg", "REVISION=feedc0de", "--build-arg", "VERSION=9.9"
        )
    try:
        labels = {
            built: json.loads(docker("image", "inspect", "-f", "{{json .Config.Labels}}", built))
            for built in (tag, image.tag)
        }
        answers = {}
        for built in (tag, image.tag):
            container = Container.start(docker, built, variant["port"])
            try:
                container.wait_for("/health", within=20)
                answers[built] = json.loads(container.get("/version")[1])
            finally:
                container.remove()
    finally:
        docker("rmi", "-f", tag, check=False)

    install = step_numbers(log, INSTALL_LOGS[variant["package_manager"]].step)
    assert install and f"#{install[0]} CACHED" in log, log
    assert labels[tag]["org.opencontainers.image.revision"] == "feedc0de"
    assert labels[tag]["org.opencontainers.image.version"] == "9.9"
    assert labels[image.tag]["org.opencontainers.image.revision"] == "unknown"
    assert answers[tag] == {"version": "0.1.0", "revision": "feedc0de"}
    assert answers[image.tag] == {"version": "0.1.0", "revision": "unknown"}


def test_code_change_reuses_the_dependency_layer(
    docker: Docker, code_change: CodeChange, variant: dict[str, str]
) -> None:
    log = code_change.after.log
    install = step_numbers(log, INSTALL_LOGS[variant["package_manager"]].step)

    assert install and f"#{install[0]} CACHED" in log, log
    assert docker.new_layer_bytes(code_change.before.tag, code_change.after.tag) < 1_000_000


@pytest.fixture(scope="module")
def code_change_built_cold(docker: Docker, code_change: CodeChange) -> Iterator[Image]:
    """``code_change.after``'s context built again as a runner with no cache builds it,
    minutes after the first build of the image and of the change."""
    tag = f"{code_change.after.tag}-cold"
    with builder_to_ourselves(docker):
        log = docker.build(code_change.after.context, tag, "--no-cache")
        image = Image(tag, log, code_change.after.context)
    yield image
    docker("rmi", "-f", tag, check=False)


def changed_entries(docker: Docker, old: str, new: str) -> list[set[str]]:
    """Per layer, the paths whose time, mode, owner, size or content differ."""
    return [
        {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
        for before, after in zip(docker.layer_entries(old), docker.layer_entries(new), strict=True)
    ]


@pytest.fixture(scope="module")
def engine_stub_paths(docker: Docker, variant: dict[str, str]) -> set[str]:
    """What BuildKit itself may date: ``etc``, when the base image has no /etc/hosts.

    BuildKit before v0.11 (Docker 20.10's, on this machine) puts an empty /etc/hosts
    in for each RUN step when the image has none, as Debian bookworm's python images
    have none, and removes it after, which leaves /etc with the time of the build
    (moby/buildkit#3148, fixed by #3149). Nothing a Dockerfile can change.
    """
    base = f"python:{variant['python_version']}-slim"
    has_hosts = any("etc/hosts" in layer for layer in docker.layer_entries(base))
    return set() if has_hosts else {"etc"}


@on_two_images
def test_a_build_without_any_cache_gives_the_same_layers(
    docker: Docker,
    code_change: CodeChange,
    code_change_built_cold: Image,
    engine_stub_paths: set[str],
) -> None:
    """Every layer, venv and bytecode included, is the same bytes when built again
    from nothing: registries and runners share it instead of storing it twice."""
    first, again = code_change.after.tag, code_change_built_cold.tag
    created = {
        image: docker("image", "inspect", "-f", "{{.Created}}", image) for image in (first, again)
    }

    assert len(set(created.values())) == 2, "the two images came from one build"
    assert [paths - engine_stub_paths for paths in changed_entries(docker, first, again)] == [
        set() for _ in docker.layers(first)
    ]
    if not engine_stub_paths:
        assert docker.layers(again) == docker.layers(first)


@on_two_images
def test_a_code_change_built_without_any_cache_adds_only_the_code_layer(
    docker: Docker, image: Image, code_change_built_cold: Image, engine_stub_paths: set[str]
) -> None:
    """What a cold CI runner pushes for a one-line change, after the image before it."""
    *kept, code = changed_entries(docker, image.tag, code_change_built_cold.tag)

    assert [paths - engine_stub_paths for paths in kept] == [set() for _ in kept]
    assert code - engine_stub_paths == {"app/app/main.py"}
    if not engine_stub_paths:
        before, after = docker.layers(image.tag), docker.layers(code_change_built_cold.tag)
        assert [layer for layer in after if layer not in before] == [after[-1]]
        assert docker.new_layer_bytes(image.tag, code_change_built_cold.tag) < 100_000


def test_added_requirement_downloads_only_itself(
    docker: Docker, requirement_added: Image, variant: dict[str, str]
) -> None:
    installer = INSTALL_LOGS[variant["package_manager"]]
    log = requirement_added.log
    install = step_numbers(log, installer.step)

    assert install and f"#{install[0]} CACHED" not in log, "the install step did not run"
    assert installer.downloads(log) <= 1, log
    docker(
        "run",
        "--rm",
        *HARDENED,
        "--entrypoint",
        "python",
        requirement_added.tag,
        "-c",
        "import six",
    )


# Run inside the image: the modules the server imports at start that have no .pyc
# (frozen modules live inside the interpreter; the service's own code is small).
WITHOUT_BYTECODE = """
import importlib.util, json, os, sys
import app.main, app.server, uvicorn.main
print(json.dumps(sorted(
    name for name, module in list(sys.modules.items())
    if (getattr(module, "__file__", None) or "").endswith(".py")
    and module.__spec__.origin != "frozen"
    and not module.__file__.startswith("/app/app/")
    and not os.path.exists(importlib.util.cache_from_source(module.__file__))
)))
"""


def test_server_starts_without_compiling_anything(
    docker: Docker, on_official_like_base: Image
) -> None:
    report = docker(
        "run",
        "--rm",
        *HARDENED,
        "--entrypoint",
        "python",
        on_official_like_base.tag,
        "-c",
        WITHOUT_BYTECODE,
    )

    assert json.loads(report.strip().splitlines()[-1]) == []


# Run inside the image: lists /app, then anything found that must not be there.
NOTHING_EXTRA = """
import importlib.util, json, os, shutil
found = [tool for tool in ("gcc", "cc", "g++", "make", "git", "uv") if shutil.which(tool)]
found += [
    module
    for module in ("pytest", "ruff", "httpx2", "hypothesis")
    if importlib.util.find_spec(module)
]
found += [
    path
    for path in ("/root/.cache/pip", "/root/.cache/uv", "/app/.venv/bin/pip")
    if os.path.exists(path)
]
found += [
    os.path.join(root, name)
    for root, dirs, files in os.walk("/app")
    if not root.startswith("/app/.venv")  # the project's files, not the packages'
    for name in dirs + files
    if name in (".git", ".env", ".index-url", "tests", "requirements.txt", "Dockerfile")
]
print(json.dumps(sorted(os.listdir("/app")) + found))
"""


def test_runtime_image_holds_only_the_service(docker: Docker, image: Image) -> None:
    report = docker(
        "run", "--rm", *HARDENED, "--entrypoint", "python", image.tag, "-c", NOTHING_EXTRA
    )

    assert json.loads(report.strip().splitlines()[-1]) == [".venv", "app", "pyproject.toml"]


def test_only_the_allowed_files_reach_the_builder(
    docker: Docker, image: Image, variant: dict[str, str], tmp_path: Path
) -> None:
    """.dockerignore's allow-list, as BuildKit applies it to the working copy the image
    was built from (a .env, a .git, the index URL, a venv, bytecode left behind)."""
    probe = tmp_path / "Dockerfile.context"
    probe.write_text(
        f"FROM python:{variant['python_version']}-slim\n"
        "RUN --mount=type=bind,target=/mnt cd /mnt && find . > /context.txt\n"
    )
    tag = f"{image.tag}-context"
    with builder_to_ourselves(docker):
        docker.build(image.context, tag, "--no-cache", "--file", str(probe))
    try:
        listing = docker("run", "--rm", "--entrypoint", "cat", tag, "/context.txt").split()
    finally:
        docker("rmi", "-f", tag, check=False)

    # The service's modules; what else app/ holds is clutter (see ``checkout``).
    code = [
        f"./app/{path.name}"
        for path in (image.context / "app").iterdir()
        if path.is_file() and not path.name.startswith(".")
    ]
    assert sorted(listing) == sorted(
        [".", "./app", *code, "./pyproject.toml", "./requirements.txt"]
    )


@dataclass(frozen=True)
class MountCarried:
    cold: Image  # built after emptying the cache mount
    imported: Image  # built after emptying them and importing the exported copy


@pytest.fixture(scope="module")
def mount_carried(
    docker: Docker, image: Image, variant: dict[str, str], tmp_path_factory
) -> Iterator[MountCarried]:
    """What CI does between runs: export the download cache mount, lose BuildKit's
    state (the variant's cache mount emptied here), import the copy, then rebuild
    with changed requirements.
    """
    saved = tmp_path_factory.mktemp("mount-cache") / "saved"
    script = [image.context / "scripts" / "buildkit-cache.sh"]
    # The script calls `docker` from PATH: the CLI these tests drive.
    cli = Path(shutil.which(docker.cli) or docker.cli)
    environment = environment_with(path_first=cli.parent)
    (cache_id,) = own_cache_mounts(image.context / "Dockerfile", cache_owner(variant))
    scratch = tmp_path_factory.mktemp("empty-cache")
    with builder_to_ourselves(docker):
        run(*script, "export", saved, cwd=image.context, env=environment)
        empty_cache_mount(docker, cache_id, variant["base_image"], scratch)
        cold = rebuild(docker, image, "mount-cold", "# cold\n", "requirements.txt")
        empty_cache_mount(docker, cache_id, variant["base_image"], scratch)
        run(*script, "import", saved, cwd=image.context, env=environment)
        imported = rebuild(docker, image, "mount-imported", "# imported\n", "requirements.txt")
    yield MountCarried(cold, imported)
    docker("rmi", "-f", cold.tag, imported.tag, check=False)


@on_two_images
def test_cache_mount_survives_export_and_import(
    mount_carried: MountCarried, variant: dict[str, str]
) -> None:
    installer = INSTALL_LOGS[variant["package_manager"]]
    for built in (mount_carried.cold, mount_carried.imported):
        install = step_numbers(built.log, installer.step)
        assert install and f"#{install[0]} CACHED" not in built.log, "the install step did not run"

    assert installer.downloads(mount_carried.cold.log) > 0, "emptying left the cache mount warm"
    assert installer.downloads(mount_carried.imported.log) == 0, mount_carried.imported.log


# A cache of the kind a user's other project keeps: the id defaults to the target.
USERS_CACHE = "/root/.cache/template-tests-canary"


def test_the_tests_builds_leave_the_users_cache_mounts_alone(docker: Docker, tmp_path) -> None:
    """What every build here relies on: a --no-cache build of a Dockerfile given
    ids of the tests' own (``own_cache_mounts``) starts those afresh and leaves the
    cache mount a user's project shares, named after its target, as it was."""
    base = default_context()["base_image"]
    users = tmp_path / "users"
    users.mkdir()
    (users / "Dockerfile").write_text(
        f"FROM {base}\nARG RUN_ID\n"
        f"RUN --mount=type=cache,target={USERS_CACHE} echo kept > {USERS_CACHE}/canary\n"
    )
    ours = tmp_path / "ours"
    ours.mkdir()
    (ours / "Dockerfile").write_text(
        f"FROM {base}\nARG RUN_ID\n"
        f"RUN --mount=type=cache,target={USERS_CACHE} ls -A {USERS_CACHE} | wc -l\n"
    )
    (owned,) = own_cache_mounts(ours / "Dockerfile", "template-tests/canary")
    tags = [f"template-tests-canary:{os.getpid()}-{name}" for name in ("users", "ours", "check")]
    with builder_to_ourselves(docker):
        try:
            docker.build(users, tags[0], "--build-arg", f"RUN_ID={RUN_ID}")
            log = docker.build(ours, tags[1], "--no-cache", "--build-arg", f"RUN_ID={RUN_ID}")
            check = ours / "check"
            check.mkdir()
            (check / "Dockerfile").write_text(
                f"FROM {base}\nARG RUN_ID\n"
                f"RUN --mount=type=cache,target={USERS_CACHE} cat {USERS_CACHE}/canary\n"
            )
            kept = docker.build(check, tags[2], "--build-arg", f"RUN_ID={RUN_ID}-check")
        finally:
            empty_cache_mount(docker, USERS_CACHE, base, tmp_path)
            empty_cache_mount(docker, owned, base, tmp_path)
            docker("rmi", "-f", *tags, check=False)

    assert owned == f"template-tests/canary{USERS_CACHE}"
    assert re.search(r"^#\d+ [\d.]+ 0$", log, re.M), "the tests' own cache was not empty"
    assert re.search(r"^#\d+ [\d.]+ kept$", kept, re.M), kept


PROTOCOLS = {"default": (), "h11": ("-e", "UVICORN_HTTP=h11")}


def memory_bytes(docker: Docker, container: Container) -> float:
    """The container's memory use as `docker stats` reports it."""
    usage = docker("stats", "--no-stream", "--format", "{{.MemUsage}}", container.id)
    number, unit = re.match(r"\s*([\d.]+)\s*([KMG]?i?B)", usage).groups()
    return float(number) * {"B": 1, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}[unit]


def raw_request(container: Container, data: bytes, timeout: float = 10) -> bytes:
    """Send ``data`` on a new connection to 127.0.0.1; what comes back before it closes."""
    received = b""
    with socket.create_connection(("127.0.0.1", container.port), timeout=timeout) as connection:
        with contextlib.suppress(OSError):  # closed while we still sent: a refusal
            connection.sendall(data)
        with contextlib.suppress(ConnectionResetError):
            while chunk := connection.recv(65536):
                received += chunk
    return received


@on_two_images
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_huge_request_heads_are_refused_without_costing_memory(
    docker: Docker, image: Image, variant: dict[str, str], protocol: str
) -> None:
    """2 MB of headers on several connections at once, against the manifests' memory
    limit: refused as they arrive, and the service carries on."""
    container = Container.start(
        docker, image.tag, variant["port"], "--memory", "256m", *PROTOCOLS[protocol]
    )
    try:
        container.wait_for("/health", within=20)
        idle = memory_bytes(docker, container)
        head = (
            b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"X-Filler: " + b"a" * 2_000_000 + b"\r\n\r\n"
        )
        answers: list[bytes] = []
        senders = [
            threading.Thread(target=lambda: answers.append(raw_request(container, head)))
            for _ in range(4)
        ]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(timeout=30)
        after = memory_bytes(docker, container)
        status = container.get("/health")[0]
        running = container.inspect("{{.State.Running}} {{.State.OOMKilled}}")
    finally:
        container.remove()

    assert len(answers) == 4
    assert all(a == b"" or a.startswith(b"HTTP/1.1 431 ") for a in answers), answers
    assert (running, status) == ("true false", 200)
    assert after - idle < 20 * 2**20, (
        f"memory grew from {idle / 2**20:.0f} to {after / 2**20:.0f} MiB"
    )


@on_two_images
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_request_head_sent_slowly_is_closed_within_the_timeout(
    image: Image, docker: Docker, variant: dict[str, str], protocol: str
) -> None:
    container = Container.start(
        docker, image.tag, variant["port"], "-e", "APP_REQUEST_HEAD_TIMEOUT=2",
        *PROTOCOLS[protocol],
    )  # fmt: skip
    try:
        container.wait_for("/health", within=20)
        with socket.create_connection(("127.0.0.1", container.port), timeout=10) as connection:
            connection.sendall(b"GET /health HTTP/1.1\r\n")
            started = time.monotonic()
            closed_after = None
            while time.monotonic() - started < 15:  # a header line a second, no end
                try:
                    connection.sendall(b"X-Slow: 1\r\n")
                    if connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                        raise ConnectionResetError
                except BlockingIOError:
                    pass
                except OSError:
                    closed_after = time.monotonic() - started
                    break
                time.sleep(1)
    finally:
        container.remove()

    assert closed_after is not None and closed_after < 4, closed_after


METRIC_SERIES = re.compile(r"^(http_\w+)\{(.*)\} ", re.M)


@on_two_images
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_made_up_methods_and_paths_do_not_grow_the_metrics(
    docker: Docker, image: Image, variant: dict[str, str], protocol: str
) -> None:
    """1,000 requests with random methods (h11 takes any token; httptools refuses
    those it does not know) and random paths."""
    container = Container.start(docker, image.tag, variant["port"], *PROTOCOLS[protocol])
    try:
        container.wait_for("/health", within=20)
        for method in ("GET", "MADEUP"):  # the series one method of each kind adds
            for path in ("/health", "/nowhere"):
                raw_request(container, f"{method} {path} HTTP/1.1\r\nHost: x\r\n".encode()
                            + b"Connection: close\r\n\r\n")  # fmt: skip
        container.get("/metrics")  # which counts itself from its second scrape on
        before = set(METRIC_SERIES.findall(container.get("/metrics")[1].decode()))
        for number in range(1000):
            method = uuid.uuid4().hex.upper()[: 1 + number % 30]
            path = f"/{uuid.uuid4().hex}" if number % 2 else "/health"
            raw_request(container, f"{method} {path} HTTP/1.1\r\nHost: x\r\n".encode()
                        + b"Connection: close\r\n\r\n")  # fmt: skip
        text = container.get("/metrics")[1].decode()
    finally:
        container.remove()

    assert set(METRIC_SERIES.findall(text)) - before == set()
    assert len(text) < 20_000


def test_a_forwarded_for_header_from_a_client_is_not_logged_as_the_client(
    docker: Docker, container: Container
) -> None:
    container.wait_for("/health", within=20)

    container.request("/health", {"X-Forwarded-For": "6.6.6.6", "X-Request-ID": "forged-xff"})
    docker("stop", container.id, timeout=30)

    records = [json.loads(line) for line in container.logs().splitlines()]
    (access,) = [r for r in records if r.get("request_id") == "forged-xff"]
    assert access["client"] not in (None, "6.6.6.6")
