"""A private package index, reached through a build secret, leaves no credential behind.

pypiserver serves one private package on loopback behind basic auth (packages
it lacks are redirected to PyPI, as company proxies do). The baked service
requires that package; the image is built with the index URL, credentials
included, as the BuildKit secret `index_url` on the host network. The package
must be installed, the build must fail without the secret, and the password
must appear in no layer, no `docker history` line and no image metadata.
"""

from __future__ import annotations

import base64
import hashlib
import io
import shutil
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from passlib.apache import HtpasswdFile

from harness.docker import Docker, builder_to_ourselves, own_cache_mounts
from harness.ports import free_port
from tests.cases import NO_FRONTEND
from tests.helpers import CHOICES, TOOLS, Bake

pytestmark = pytest.mark.docker

PACKAGE, VERSION, MODULE = "acme-greeting", "1.0.0", "acme_greeting"
USER = "builder"


def wheel(directory: Path) -> Path:
    """A pure-Python wheel of the private package, written by hand."""
    name = f"{MODULE}-{VERSION}"
    files = {
        f"{MODULE}/__init__.py": 'GREETING = "hello from the private index"\n',
        f"{name}.dist-info/METADATA": (
            f"Metadata-Version: 2.1\nName: {PACKAGE}\nVersion: {VERSION}\n"
        ),
        f"{name}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: hand\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest())
        record.append(f"{path},sha256={digest.rstrip(b'=').decode()},{len(text.encode())}")
    files[f"{name}.dist-info/RECORD"] = "\n".join([*record, f"{name}.dist-info/RECORD,,"]) + "\n"
    path = directory / f"{name}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for member, text in files.items():
            archive.writestr(member, text)
    return path


@dataclass(frozen=True)
class Index:
    url: str  # with the credentials, as the secret holds it
    password: str
    wheel_hash: str
    log: Path


@pytest.fixture(scope="module")
def index(tmp_path_factory) -> Iterator[Index]:
    root = tmp_path_factory.mktemp("index")
    packages = root / "packages"
    packages.mkdir()
    built = wheel(packages)
    password = f"s3cret-{uuid.uuid4().hex}"
    passwords = HtpasswdFile(str(root / "htpasswd"), new=True)
    passwords.set_password(USER, password)
    passwords.save()
    port = free_port()
    log = root / "server.log"
    server = subprocess.Popen(
        [
            TOOLS / "pypi-server", "run", "--host", "127.0.0.1", "--port", str(port),
            "--passwords", root / "htpasswd", "--authenticate", "download,list,update",
            "--fallback-url", "https://pypi.org/simple/", "--log-file", log, "-v", packages,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}/simple/"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base, timeout=2)
        except urllib.error.HTTPError as refused:
            assert refused.code == 401, refused  # up, and asking for credentials
            break
        except OSError:
            assert time.monotonic() < deadline, log.read_text() if log.exists() else ""
            time.sleep(0.2)
    digest = hashlib.sha256(built.read_bytes()).hexdigest()
    yield Index(f"http://{USER}:{password}@127.0.0.1:{port}/simple/", password, digest, log)
    server.terminate()
    server.wait(timeout=10)


@dataclass(frozen=True)
class Build:
    tag: str
    log: str


@pytest.fixture(scope="module", params=CHOICES["package_manager"])
def built(
    request,
    docker: Docker,
    bake: Bake,
    index: Index,
    tmp_path_factory,
) -> Iterator[tuple[Build, Path]]:
    project = bake(package_manager=request.param, **NO_FRONTEND)
    context = Path(shutil.copytree(project, tmp_path_factory.mktemp("ctx") / "service"))
    # The tests' own download cache: the --no-cache builds below start it afresh.
    own_cache_mounts(context / "Dockerfile", f"template-tests/private-index-{request.param}")
    with (context / "requirements.txt").open("a") as requirements:
        requirements.write(f"{PACKAGE}=={VERSION} \\\n    --hash=sha256:{index.wheel_hash}\n")
    secret = tmp_path_factory.mktemp("secret") / "index_url"
    secret.write_text(index.url)
    tag = f"private-index-{request.param}-{uuid.uuid4().hex[:8]}"
    with builder_to_ourselves(docker):
        log = docker.build(
            context, tag, "--no-cache", "--network", "host",
            "--secret", f"id=index_url,src={secret}",
        )  # fmt: skip
    yield Build(tag, log), context
    docker("rmi", "-f", tag, check=False)


def test_the_private_package_is_installed(docker: Docker, built, index: Index) -> None:
    build, _ = built
    greeting = docker(
        "run", "--rm", "--entrypoint", "python", build.tag,
        "-c", f"import {MODULE}; print({MODULE}.GREETING)",
    )  # fmt: skip

    assert greeting.strip() == "hello from the private index"
    assert f"{MODULE}-{VERSION}-py3-none-any.whl" in index.log.read_text()


def test_the_credential_is_in_no_layer_history_or_metadata(
    docker: Docker,
    built,
    index: Index,
    tmp_path: Path,
) -> None:
    build, _ = built
    secret = index.password.encode()
    archive = tmp_path / "image.tar"
    docker("save", "--output", str(archive), build.tag, timeout=300)

    searched = 0
    with tarfile.open(archive) as image:
        for member in image.getmembers():
            if not member.isfile():
                continue
            data = image.extractfile(member).read()
            assert secret not in data, member.name
            if data[257:262] == b"ustar":  # a layer: search each file in it
                with tarfile.open(fileobj=io.BytesIO(data)) as layer:
                    for entry in layer.getmembers():
                        if entry.isfile():
                            assert secret not in layer.extractfile(entry).read(), entry.name
                            searched += 1
    assert searched > 1000, "the layers were not searched"
    assert index.password not in docker("history", "--no-trunc", build.tag)
    assert index.password not in docker("image", "inspect", build.tag)


def test_without_the_secret_the_private_package_cannot_be_found(
    docker: Docker,
    built,
) -> None:
    _, context = built
    tag = f"private-index-no-secret-{uuid.uuid4().hex[:8]}"
    with builder_to_ourselves(docker):
        # --no-cache: a secret is not part of the cache key, so the step built
        # with it would otherwise be reused.
        result = docker(
            "build", "--no-cache", "--network", "host", "-t", tag, str(context),
            check=False, timeout=900,
        )  # fmt: skip

    assert PACKAGE in result or MODULE in result, result
    assert "ERROR" in result or "error" in result
    docker("rmi", "-f", tag, check=False)
