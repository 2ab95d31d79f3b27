"""Re-lock the requirements files the template ships.

Each lock is universal (markers select per platform) and resolved for one of
the Python versions the template offers, as a baked service's own `make lock`
resolves it (scripts/lock.sh, with the service's version), so that command
changes nothing in a fresh bake. requirements.in differs by tracing and database
choice and requirements-dev.in by package manager and database, so each is locked
once per choice and version, into
{{cookiecutter.project_slug}}/_template/requirements-<tracing>-<database>-<python>.txt
and requirements-dev-<manager>-<tracing>-<database>-<python>.txt, which the baked
requirements.txt and requirements-dev.txt include. Each lock starts from its
current pins.

    .venv/bin/python scripts/lock.py      # `make lock` runs this; needs uv on PATH
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

from jinja2 import Environment

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ROOT / "{{cookiecutter.project_slug}}"
CHOICES = json.loads((ROOT / "cookiecutter.json").read_text())
HEADER = """\
# Locked by `make lock` from {source}: every package pinned, with hashes.
# Do not edit by hand: change {source} and run `make lock`.
"""


def compile_lock(directory: Path, source: str, output: Path, python: str, seed: Path) -> None:
    """Lock ``directory/source`` (a requirements .in file) into ``output``, starting
    from the pins ``output`` has, or ``seed``'s for a lock not made before."""
    work = directory / "lock.txt"
    start = output if output.exists() else seed
    if start.exists():  # without its header, as scripts/lock.sh starts from the lock
        work.write_text(start.read_text().split("\n", 2)[2])
    command = ["uv", "pip", "compile", "--quiet", "--universal", "--generate-hashes"]
    command += ["--no-header", "--python-version", python, source, "-o", work]
    subprocess.run(command, cwd=directory, check=True)
    output.write_text(HEADER.format(source=source) + work.read_text())
    work.unlink()


def render(name: str, **choices: str) -> str:
    """A requirements .in file as a project baked with these choices has it."""
    template = Environment(keep_trailing_newline=True).from_string((PROJECT / name).read_text())
    return template.render(cookiecutter=choices)


def main() -> None:
    locks = PROJECT / "_template"
    for python in CHOICES["python_version"]:
        for tracing in CHOICES["tracing"]:
            for database in CHOICES["database"]:
                lock(locks, python, tracing=tracing, database=database)


def lock(locks: Path, python: str, **choices: str) -> None:
    """The runtime lock of these choices, then each package manager's dev lock on it.
    A database's first locks start from the pins of the locks without one."""
    suffix = f"{choices['tracing']}-{choices['database']}-{python}.txt"
    seed = f"{choices['tracing']}-none-{python}.txt"
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        (directory / "requirements.in").write_text(render("requirements.in", **choices))
        runtime = (locks / f"requirements-{suffix}").resolve()
        compile_lock(directory, "requirements.in", runtime, python, locks / f"requirements-{seed}")
        shutil.copy(runtime, directory / "requirements.txt")
        for manager in CHOICES["package_manager"]:
            dev = render("requirements-dev.in", package_manager=manager, **choices)
            (directory / "requirements-dev.in").write_text(dev)
            output = (locks / f"requirements-dev-{manager}-{suffix}").resolve()
            seed_dev = locks / f"requirements-dev-{manager}-{seed}"
            compile_lock(directory, "requirements-dev.in", output, python, seed_dev)


if __name__ == "__main__":
    main()
