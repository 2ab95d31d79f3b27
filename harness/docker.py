"""A thin, typed wrapper around the docker CLI: engines, builds, containers."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import posixpath
import re
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, TypeVar


def _tar_entries(layer) -> dict[str, tuple[object, ...]]:
    entries = {}
    with tarfile.open(fileobj=layer, mode="r|") as tar:
        for member in tar:
            content = (
                hashlib.sha256(tar.extractfile(member).read()).hexdigest()
                if member.isfile()
                else member.linkname
            )
            entries[member.name.removeprefix("./")] = (
                member.mtime, member.mode, member.uid, member.gid, member.size, content,
            )  # fmt: skip
    return entries


T = TypeVar("T")

# Containers run as production should run them: read-only, no capabilities.
HARDENED = ("--read-only", "--tmpfs", "/tmp", "--cap-drop=ALL", "--security-opt=no-new-privileges")


@dataclass(frozen=True)
class Docker:
    cli: str

    @classmethod
    def from_environment(cls) -> Docker:
        """The CLI named by $DOCKER (the offline provisioner sets it), else `docker`."""
        return cls(os.environ.get("DOCKER", "docker"))

    def __call__(self, *args: str, timeout: float = 120, check: bool = True) -> str:
        result = subprocess.run(
            [self.cli, *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, "DOCKER_BUILDKIT": "1"},
        )
        if check and result.returncode != 0:
            command = " ".join(args)
            output = result.stdout + result.stderr
            raise AssertionError(f"docker {command} exited {result.returncode}:\n{output}")
        return result.stdout + result.stderr

    def unreachable(self) -> str | None:
        """Why no engine can be used, or None when one answers and this CLI builds
        with BuildKit (a current CLI needs the buildx plugin for that)."""
        try:
            subprocess.run([self.cli, "info"], capture_output=True, check=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as error:
            return f"no Docker engine answers `{self.cli} info` ({error})"
        with builder_to_ourselves(self):
            probe = subprocess.run(
                [self.cli, "build", "--quiet", "-"],
                input="FROM scratch\nLABEL template-tests-probe=1\n",
                capture_output=True,
                text=True,
                timeout=120,
                env={**os.environ, "DOCKER_BUILDKIT": "1"},
            )
        if probe.returncode != 0:
            reason = " ".join((probe.stderr or probe.stdout).split())[:300]
            return (
                f"`{self.cli} build` cannot build with BuildKit here ({reason}); set DOCKER to"
                " a CLI that can (one with the buildx plugin, or Docker 20.10's own)"
            )
        self("rmi", probe.stdout.strip(), check=False)
        return None

    def build(self, context: Path, tag: str, *extra: str) -> str:
        """Build with BuildKit and return its plain progress log."""
        return self("build", "--progress=plain", "-t", tag, *extra, str(context), timeout=900)

    def layers(self, image: str) -> list[str]:
        return json.loads(self("image", "inspect", "-f", "{{json .RootFS.Layers}}", image))

    def _saved_layers(self, image: str, read: Callable[[tarfile.TarInfo, IO[bytes]], T]) -> list[T]:
        """``read`` applied to each layer's tar in ``docker save image``, in the image's order."""
        layers: dict[str, T] = {}
        links: dict[str, str] = {}
        manifest = None
        with (
            subprocess.Popen([self.cli, "save", image], stdout=subprocess.PIPE) as save,
            tarfile.open(fileobj=save.stdout, mode="r|") as archive,
        ):
            for member in archive:
                if member.name == "manifest.json":
                    manifest = json.load(archive.extractfile(member))
                elif member.name.endswith("layer.tar") and member.issym():
                    # A layer saved twice is written once, the other a link to it.
                    links[member.name] = posixpath.normpath(
                        posixpath.join(posixpath.dirname(member.name), member.linkname)
                    )
                elif member.name.endswith("layer.tar"):
                    layers[member.name] = read(member, archive.extractfile(member))
        assert manifest, f"docker save {image} wrote no manifest.json"
        return [layers[links.get(path, path)] for path in manifest[0]["Layers"]]

    def layer_entries(self, image: str) -> list[dict[str, tuple[object, ...]]]:
        """Each layer of ``image`` as its tar reads: path -> (time, mode, owner, group,
        size, SHA-256 of the content or the link's target)."""
        return self._saved_layers(image, lambda _, layer: _tar_entries(layer))

    def new_layer_bytes(self, old: str, new: str) -> int:
        """Uncompressed bytes of the layers of ``new`` that ``old`` does not have.

        This is what a registry push of ``new`` would upload after ``old``.
        """
        known = set(self.layers(old))
        sizes = self._saved_layers(new, lambda member, _: member.size)
        return sum(
            size for size, layer in zip(sizes, self.layers(new), strict=True) if layer not in known
        )


@dataclass
class Container:
    """A running container whose port is published on loopback only."""

    docker: Docker
    id: str
    port: int

    @classmethod
    def start(
        cls,
        docker: Docker,
        image: str,
        container_port: str,
        *options: str,
        command: tuple[str, ...] = (),
    ) -> Container:
        """``docker run -d`` with ``options``, the image and ``command``."""
        cid = docker(
            "run", "-d", *HARDENED, "-p", f"127.0.0.1::{container_port}", *options, image, *command
        )  # fmt: skip
        cid = cid.strip().splitlines()[-1]
        published = docker("port", cid, f"{container_port}/tcp").splitlines()[0]
        return cls(docker, cid, int(published.rsplit(":", 1)[1]))

    @classmethod
    def start_on_host_network(
        cls, docker: Docker, image: str, port: int, *options: str, command: tuple[str, ...] = ()
    ) -> Container:
        """Run on the host's network, serving on 127.0.0.1:``port`` only, so it can
        reach a receiver a test runs on the host's loopback."""
        cid = docker(
            "run", "-d", *HARDENED, "--network", "host",
            "-e", "UVICORN_HOST=127.0.0.1", "-e", f"UVICORN_PORT={port}",
            *options, image, *command,
        )  # fmt: skip
        return cls(docker, cid.strip().splitlines()[-1], port)

    def url(self, path: str) -> str:
        """Always loopback: nothing here aims at a bridge or private address."""
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str, timeout: float = 5) -> tuple[int, bytes]:
        status, _, body = self.request(path, timeout=timeout)
        return status, body

    def request(
        self,
        path: str,
        headers: dict[str, str] | None = None,
        timeout: float = 5,
        json_body: object = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """GET ``path``, or POST ``json_body`` to it: the status, the headers (lowercase
        names) and the body."""
        data = None if json_body is None else json.dumps(json_body).encode()
        headers = {**(headers or {}), **({"Content-Type": "application/json"} if data else {})}
        request = urllib.request.Request(self.url(path), data=data, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer = response
                body = response.read()
        except urllib.error.HTTPError as error:
            answer = error
            body = error.read()
        return answer.status, {k.lower(): v for k, v in answer.headers.items()}, body

    def wait_for(self, path: str, within: float, interval: float = 0.1) -> float:
        """Seconds until ``path`` answers 200, asking every ``interval`` seconds."""
        start = time.monotonic()
        while time.monotonic() - start < within:
            try:
                if self.get(path, timeout=1)[0] == 200:
                    return time.monotonic() - start
            except OSError:
                pass
            time.sleep(interval)
        raise AssertionError(f"{path} gave no 200 within {within} s; logs:\n{self.logs()}")

    def inspect(self, template: str) -> str:
        return self.docker("inspect", "-f", template, self.id).strip()

    def wait_until_health(self, status: str, within: float) -> None:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.inspect("{{.State.Health.Status}}") == status:
                return
            time.sleep(0.25)
        raise AssertionError(
            f"health never became {status!r}: {self.inspect('{{json .State.Health}}')}"
        )

    def exec(self, *command: str) -> str:
        return self.docker("exec", self.id, *command)

    def logs(self) -> str:
        return self.docker("logs", self.id, check=False)

    def remove(self) -> None:
        self.docker("rm", "-f", "-v", self.id, check=False)


BUILDER_LOCK = Path(os.environ.get("TMPDIR", "/tmp")) / "template-tests-docker-builder.lock"

# A cache mount's id defaults to its target, so a baked Dockerfile's download
# cache (/root/.cache/pip, /root/.cache/uv) is the one every other project on
# the engine shares; a --no-cache build starts that id afresh for all of them.
_CACHE_MOUNT = re.compile(r"--mount=type=cache,([^ ]+)")


def own_cache_mounts(dockerfile: Path, owner: str) -> list[str]:
    """Give each cache mount in ``dockerfile`` an id of ``owner``'s, in place.

    Builds of the rewritten file, --no-cache ones included, then read and reset
    only caches named after ``owner``, never the user's own; the id stays the
    same from run to run, so the caches do not pile up. Returns the ids; a file
    rewritten before keeps its ids.
    """
    ids = []

    def owned(mount: re.Match[str]) -> str:
        options = dict(option.split("=", 1) for option in mount[1].split(","))
        options.setdefault("id", owner + options["target"])
        assert options["id"].startswith(owner), f"a cache mount of someone else's: {mount[0]}"
        ids.append(options["id"])
        return "--mount=type=cache," + ",".join(f"{k}={v}" for k, v in options.items())

    text, count = _CACHE_MOUNT.subn(owned, dockerfile.read_text())
    assert count, f"no cache mount in {dockerfile}"
    dockerfile.write_text(text)
    return ids


def empty_cache_mount(docker: Docker, cache_id: str, image: str, workdir: Path) -> None:
    """Delete what the cache mount ``cache_id`` holds, as a new CI runner would see it.

    Only that id: a global prune would empty every project's caches.
    """
    (workdir / "Dockerfile").write_text(
        f"FROM {image}\nARG RUN_ID\n"
        f"RUN --mount=type=cache,id={cache_id},target=/cache find /cache -mindepth 1 -delete\n"
    )
    tag = f"template-tests-empty-cache:{os.getpid()}"
    # A new RUN_ID each time, so BuildKit runs the step instead of reusing it.
    docker.build(workdir, tag, "--build-arg", f"RUN_ID={time.time_ns()}")
    docker("rmi", tag)


class BuildCacheLedger:
    """The build cache records that builds made while it was recording.

    Runs of these tests and of the benchmark make their steps unique to the run
    (so no earlier run's records stand in for theirs): every run adds records,
    gigabytes of them, that no later run reuses. Kept, they fill the disk a few
    runs on; removed with ``remove``, nothing of the run stays, and the records
    that were there before it (the user's other projects' among them) stay too.

    A record is the ledger's if it appeared while recording, or if the engine
    says it created it then, whether or not the listing showed it when the
    recording ended.

    A record that another process's build reused as a parent stays until that
    build's own records go, and a ledger removes only its own: keep builds that
    reuse each other's steps in one process (the suite runs every Docker test on
    one xdist worker, tests/test_suite.py).
    """

    def __init__(self) -> None:
        self.made: set[str] = set()
        self.windows: list[tuple[datetime, datetime]] = []

    @contextmanager
    def recording(self, docker: Docker) -> Iterator[None]:
        """Count as made here what appears on the engine meanwhile: call it where
        nothing else builds (see ``builder_to_ourselves``)."""
        before = build_cache_records(docker)
        started = engine_time(docker)
        try:
            yield
        finally:
            self.windows.append((started, engine_time(docker)))
            self.made |= build_cache_records(docker) - before

    def remove(self, docker: Docker) -> None:
        """Delete the records made here that are still there, and forget them.

        Hold the builder (``no_other_builds``) while it runs, so two xdist workers
        ending at once do not prune at the same time. A prune takes a chain of
        records child first; what a pass leaves all the same, the next pass takes,
        as long as passes make progress.
        """
        left = self._ours(docker)
        while left:
            # --filter id= is a regular expression over the record's id.
            docker(
                "builder", "prune", "--all", "--force", "--filter", f"id=^({'|'.join(left)})$",
                timeout=900,
            )  # fmt: skip
            still = self._ours(docker)
            if len(still) == len(left):
                break
            left = still
        self.made.clear()
        self.windows.clear()

    def _ours(self, docker: Docker) -> list[str]:
        return sorted(
            record
            for record, when in build_cache_created(docker).items()
            if record in self.made or any(start <= when <= end for start, end in self.windows)
        )


def build_cache_records(docker: Docker) -> set[str]:
    """The ids of the engine's build cache records."""
    return set(build_cache_created(docker))


def build_cache_created(docker: Docker) -> dict[str, datetime]:
    """The engine's build cache records: each one's id and when it was created."""
    listing = docker("system", "df", "--verbose", "--format", "{{json .BuildCache}}")
    # The CLI marks a record in use with a '*' after its id.
    return {
        record["ID"].rstrip("*"): _engine_datetime(record["CreatedAt"])
        for record in json.loads(listing)
    }


def engine_time(docker: Docker) -> datetime:
    """The engine's clock now, which the records' creation times are on."""
    return _engine_datetime(docker("info", "--format", "{{.SystemTime}}").strip())


def _engine_datetime(text: str) -> datetime:
    """'2026-12-03 06:19:44.861698411 +0000 UTC' or '2026-12-03T06:19:44.861698411Z'
    (Go's two layouts, nanoseconds and all) as an aware datetime, to the microsecond."""
    found = re.match(r"(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d:\d\d)(?:\.(\d+))?", text)
    if found is None:
        raise ValueError(f"not a time the engine writes: {text!r}")
    day, clock, fraction = found.groups()
    micro = (fraction or "0")[:6].ljust(6, "0")
    return datetime.fromisoformat(f"{day}T{clock}.{micro}+00:00")


# What the builds of this process made, for the test session (or the benchmark)
# to remove when it ends.
BUILDS_HERE = BuildCacheLedger()


@contextmanager
def builder_to_ourselves(docker: Docker) -> Iterator[None]:
    """Run a sequence of builds while no other xdist worker builds, and record
    the build cache they make in ``BUILDS_HERE``.

    Another worker's build, running at the same time, can pick a cache record
    of ours and make BuildKit run steps of ours that it would have reused.
    Builds are CPU- and network-bound on a small machine anyway; the container
    tests, outside this lock, still run in parallel.
    """
    with no_other_builds(), BUILDS_HERE.recording(docker):
        yield


@contextmanager
def no_other_builds() -> Iterator[None]:
    """Hold the lock every build of the suite and the benchmark takes (a file in
    ``TMPDIR``): until it is released, no other process of theirs builds."""
    with BUILDER_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
