"""Re-lock the requirements files the template ships.

Each lock is universal (markers select per platform) and resolved for one of
the Python versions the template offers, as a baked service's own `make lock`
resolves it (scripts/lock.sh, with the service's version), so that command
changes nothing in a fresh bake. requirements.in differs by tracing choice and
requirements-dev.in by package manager, so each is locked once per choice and
version, into {{cookiecutter.project_slug}}/_template/requirements-<tracing>-<python>.txt
and requirements-dev-<manager>-<tracing>-<python>.txt, which the baked
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


def compile_lock(directory: Path, source: str, output: Path, python: str) -> None:
    """Lock ``directory/source`` (a requirements .in file) into ``output``, starting
    from the pins ``output`` has."""
    work = directory / "lock.txt"
    if output.exists():  # without its header, as scripts/lock.sh starts from the lock
        work.write_text(output.read_text().split("\n", 2)[2])
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
            with tempfile.TemporaryDirectory() as scratch:
                directory = Path(scratch)
                runtime_in = render("requirements.in", tracing=tracing)
                (directory / "requirements.in").write_text(runtime_in)
                runtime = (locks / f"requirements-{tracing}-{python}.txt").resolve()
                compile_lock(directory, "requirements.in", runtime, python)
                shutil.copy(runtime, directory / "requirements.txt")
                for manager in CHOICES["package_manager"]:
                    dev = render("requirements-dev.in", package_manager=manager)
                    (directory / "requirements-dev.in").write_text(dev)
                    name = f"requirements-dev-{manager}-{tracing}-{python}.txt"
                    compile_lock(directory, "requirements-dev.in", (locks / name).resolve(), python)


if __name__ == "__main__":
    main()
