"""A thin, typed wrapper around the docker CLI: engines, builds, containers."""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

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
        """Why no engine can be used, or None when one answers."""
        try:
            subprocess.run([self.cli, "info"], capture_output=True, check=True, timeout=30)
        except (OSError, subprocess.SubprocessError) as error:
            return f"no Docker engine answers `{self.cli} info` ({error})"
        return None

    def build(self, context: Path, tag: str, *extra: str) -> str:
        """Build with BuildKit and return its plain progress log."""
        return self("build", "--progress=plain", "-t", tag, *extra, str(context), timeout=900)

    def layers(self, image: str) -> list[str]:
        return json.loads(self("image", "inspect", "-f", "{{json .RootFS.Layers}}", image))

    def new_layer_bytes(self, old: str, new: str) -> int:
        """Uncompressed bytes of the layers of ``new`` that ``old`` does not have.

        This is what a registry push of ``new`` would upload after ``old``.
        """
        known = set(self.layers(old))
        sizes: dict[str, int] = {}
        manifest = None
        with (
            subprocess.Popen([self.cli, "save", new], stdout=subprocess.PIPE) as save,
            tarfile.open(fileobj=save.stdout, mode="r|") as archive,
        ):
            for member in archive:
                sizes[member.name] = member.size
                if member.name == "manifest.json":
                    manifest = json.load(archive.extractfile(member))
        assert manifest, f"docker save {new} wrote no manifest.json"
        paths = manifest[0]["Layers"]
        return sum(
            sizes[path]
            for path, layer in zip(paths, self.layers(new), strict=True)
            if layer not in known
        )


@dataclass
class Container:
    """A running container whose port is published on loopback only."""

    docker: Docker
    id: str
    port: int

    @classmethod
    def start(cls, docker: Docker, image: str, container_port: str, *options: str) -> Container:
        cid = docker("run", "-d", *HARDENED, "-p", f"127.0.0.1::{container_port}", *options, image)
        cid = cid.strip().splitlines()[-1]
        published = docker("port", cid, f"{container_port}/tcp").splitlines()[0]
        return cls(docker, cid, int(published.rsplit(":", 1)[1]))

    @classmethod
    def start_on_host_network(
        cls, docker: Docker, image: str, port: int, *options: str
    ) -> Container:
        """Run on the host's network, serving on 127.0.0.1:``port`` only, so it can
        reach a receiver a test runs on the host's loopback."""
        cid = docker(
            "run", "-d", *HARDENED, "--network", "host",
            "-e", "UVICORN_HOST=127.0.0.1", "-e", f"UVICORN_PORT={port}",
            *options, image,
        )  # fmt: skip
        return cls(docker, cid.strip().splitlines()[-1], port)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def get(self, path: str, timeout: float = 5, host: str = "127.0.0.1") -> tuple[int, bytes]:
        status, _, body = self.request(path, timeout=timeout, host=host)
        return status, body

    def request(
        self,
        path: str,
        headers: dict[str, str] | None = None,
        timeout: float = 5,
        host: str = "127.0.0.1",
    ) -> tuple[int, dict[str, str], bytes]:
        """GET ``path``: the status, the headers (lowercase names) and the body."""
        request = urllib.request.Request(self.url(path, host), headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer = response
                body = response.read()
        except urllib.error.HTTPError as error:
            answer = error
            body = error.read()
        return answer.status, {k.lower(): v for k, v in answer.headers.items()}, body

    def wait_for(
        self, path: str, within: float, interval: float = 0.1, host: str = "127.0.0.1"
    ) -> float:
        """Seconds until ``path`` answers 200, asking every ``interval`` seconds."""
        start = time.monotonic()
        while time.monotonic() - start < within:
            try:
                if self.get(path, timeout=1, host=host)[0] == 200:
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


@contextmanager
def builder_to_ourselves() -> Iterator[None]:
    """Run a sequence of builds while no other xdist worker builds.

    Another worker's --no-cache build, running at the same time, can empty the
    cache mount and make BuildKit run steps of ours that it would have reused.
    Builds are CPU- and network-bound on a small machine anyway; the container
    tests, outside this lock, still run in parallel.
    """
    with BUILDER_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
