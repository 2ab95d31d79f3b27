"""`make lock` in a baked service: universal locks that never carry an index or a credential.

The locks are committed and copied into the image, so a private index URL with
its token, or the machine's pip configuration, must never reach them; and they
must keep the markers of packages only some platforms need, or a teammate's
`--require-hashes` install fails there.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.helpers import (
    CHOICES,
    HOST_PYTHON,
    TOOLS,
    Bake,
    case_id,
    environment_with,
    run,
    service_venv,
)

CANARY = "CANARY-TOKEN-7f3a"
# A real index (PyPI answers with credentials present), named with a canary credential.
INDEX = f"https://canary-user:{CANARY}@pypi.org/simple"
ADDED = "six"
LEAKS = ("--index-url", "--extra-index-url", "--find-links", "-i ", "-f ", "://", CANARY)


def locked_service(bake: Bake, manager: str, tmp_path: Path) -> tuple[Path, list[str]]:
    """A copy of a baked service, with what `make lock` needs from its dev tools."""
    project = tmp_path / "service"
    shutil.copytree(bake(package_manager=manager, python_version=HOST_PYTHON), project)
    if manager == "uv":  # the uv variant's lock needs only uv on PATH
        return project, []
    return project, [f"VENV={service_venv(project)}"]


def machine_configuration(tmp_path: Path) -> dict[str, str]:
    """A private index with a credential, and pip and uv settings that name other sources."""
    pip_conf = tmp_path / "pip.conf"
    pip_conf.write_text(
        "[global]\n"
        f"extra-index-url = https://user:{CANARY}@extra.example.com/simple\n"
        "find-links = https://example.com/wheels/\n"
    )
    return {
        "PIP_INDEX_URL": INDEX,
        "UV_DEFAULT_INDEX": INDEX,
        "PIP_CONFIG_FILE": str(pip_conf),
        "UV_NATIVE_TLS": "1",  # this machine's TLS-intercepting proxy
    }


@pytest.mark.parametrize("manager", CHOICES["package_manager"])
def test_make_lock_writes_universal_locks_without_indexes_or_credentials(
    bake: Bake, manager: str, tmp_path: Path
) -> None:
    project, make_args = locked_service(bake, manager, tmp_path)
    with (project / "requirements.in").open("a") as requirements:
        requirements.write(f"{ADDED}\n")
    environment = environment_with(path_first=TOOLS, **machine_configuration(tmp_path))

    run("make", "lock", *make_args, cwd=project, env=environment)

    for name in ("requirements.txt", "requirements-dev.txt"):
        lock = (project / name).read_text()
        assert [leak for leak in LEAKS if leak in lock] == [], name
        assert f"\n{ADDED}==" in lock, name
        assert lock.startswith(f"# Locked by `make lock` from {name[:-4]}.in"), name
    # A package only some platforms install keeps its marker: the lock is for every platform.
    for name in ("requirements.txt", "requirements-dev.txt"):
        lock = (project / name).read_text()
        assert re.search(r"^uvloop==\S+ ; .*sys_platform != 'win32'", lock, re.MULTILINE), name


def test_a_lock_that_would_name_an_index_is_not_written(bake: Bake, tmp_path: Path) -> None:
    project, make_args = locked_service(bake, "uv", tmp_path)
    before = {name: (project / name).read_text() for name in ("requirements.txt",)}
    config = tmp_path / "uv.toml"
    config.write_text("[pip]\nemit-index-url = true\n")
    environment = environment_with(
        path_first=TOOLS, UV_CONFIG_FILE=str(config), **machine_configuration(tmp_path)
    )

    result = run_failing("make", "lock", *make_args, cwd=project, env=environment)

    assert "requirements.txt is unchanged" in result.stderr
    assert CANARY not in result.stdout + result.stderr
    assert {name: (project / name).read_text() for name in before} == before


def run_failing(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert result.returncode != 0, result.stdout
    return result


EVERY_LOCK = [
    {"package_manager": manager, "tracing": tracing, "database": database, "python_version": python}
    for manager in CHOICES["package_manager"]
    for tracing in CHOICES["tracing"]
    for database in CHOICES["database"]
    for python in CHOICES["python_version"]
]


def relock(project: Path, python: str) -> dict[str, tuple[str, str]]:
    """Run the service's lock command in ``project``; the locks it changed, before and
    after. Whatever Python the machine lacks, the command downloads none."""
    names = ("requirements.txt", "requirements-dev.txt")
    shipped = {name: (project / name).read_text() for name in names}
    pythons = project.parent / f"{project.name}-downloaded-pythons"
    environment = environment_with(
        path_first=TOOLS,
        UV=str(TOOLS / "uv"),
        PYTHON_VERSION=python,
        UV_NATIVE_TLS="1",
        UV_PYTHON_INSTALL_DIR=str(pythons),
    )
    run("scripts/lock.sh", cwd=project, env=environment)
    assert not pythons.exists(), f"locking for Python {python} set out to download it"
    relocked = {name: (project / name).read_text() for name in names}
    return {
        name: (shipped[name], relocked[name]) for name in names if relocked[name] != shipped[name]
    }


@pytest.mark.slow
def test_make_lock_on_a_fresh_bake_changes_nothing(bake: Bake, tmp_path: Path) -> None:
    """The shipped locks are what the service's own lock command writes, for every
    variant: scripts/lock.sh with the service's Python, as `make lock` runs it (the pip
    variant's make first builds .venv for the uv it carries; this passes that uv).
    The 32 run at once: each spends its time waiting on the package index."""
    projects = {
        case_id(variant): (
            Path(shutil.copytree(bake(**variant), tmp_path / case_id(variant))),
            variant["python_version"],
        )
        for variant in EVERY_LOCK
    }

    with ThreadPoolExecutor(max_workers=len(projects)) as pool:
        changed = dict(
            zip(projects, pool.map(lambda each: relock(*each), projects.values()), strict=True)
        )

    assert {name: sorted(locks) for name, locks in changed.items() if locks} == {}
