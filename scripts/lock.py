"""Re-lock the requirements files the template ships.

Each lock is universal (markers select per Python version and platform) and
resolved for the lowest Python version the template offers, so one file serves
every version. requirements.in differs by tracing choice and requirements-dev.in
by package manager, so each is locked once per choice, into
{{cookiecutter.project_slug}}/_template/requirements-<tracing>.txt and
requirements-dev-<manager>-<tracing>.txt, which the baked requirements.txt and
requirements-dev.txt include. Each lock starts from its current pins.

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


def lowest_python() -> str:
    return min(CHOICES["python_version"], key=lambda v: tuple(map(int, v.split("."))))


def compile_lock(directory: Path, source: str, output: Path) -> None:
    """Lock ``directory/source`` (a requirements .in file) into ``output``."""
    command = ["uv", "pip", "compile", "--quiet", "--universal", "--generate-hashes"]
    command += ["--no-header", "--python-version", lowest_python(), source, "-o", output]
    subprocess.run(command, cwd=directory, check=True)
    output.write_text(HEADER.format(source=source) + output.read_text())


def render(name: str, **choices: str) -> str:
    """A requirements .in file as a project baked with these choices has it."""
    template = Environment(keep_trailing_newline=True).from_string((PROJECT / name).read_text())
    return template.render(cookiecutter=choices)


def main() -> None:
    locks = PROJECT / "_template"
    for tracing in CHOICES["tracing"]:
        with tempfile.TemporaryDirectory() as scratch:
            directory = Path(scratch)
            (directory / "requirements.in").write_text(render("requirements.in", tracing=tracing))
            runtime = (locks / f"requirements-{tracing}.txt").resolve()
            compile_lock(directory, "requirements.in", runtime)
            shutil.copy(runtime, directory / "requirements.txt")
            for manager in CHOICES["package_manager"]:
                dev = render("requirements-dev.in", package_manager=manager)
                (directory / "requirements-dev.in").write_text(dev)
                output = (locks / f"requirements-dev-{manager}-{tracing}.txt").resolve()
                compile_lock(directory, "requirements-dev.in", output)


if __name__ == "__main__":
    main()
