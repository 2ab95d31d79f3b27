"""Re-lock the requirements files the template ships.

Each lock is universal (markers select per Python version and platform) and
resolved for the lowest Python version the template offers, so one file serves
every version. requirements-dev.in differs by package manager, so it is locked
once per package manager, into
{{cookiecutter.project_slug}}/_template/requirements-dev-<manager>.txt, which the
baked requirements-dev.txt includes.

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


def main() -> None:
    compile_lock(PROJECT, "requirements.in", PROJECT / "requirements.txt")
    template = Environment(keep_trailing_newline=True).from_string(
        (PROJECT / "requirements-dev.in").read_text()
    )
    for manager in CHOICES["package_manager"]:
        # The .in file as a project baked with this manager has it, beside its inputs.
        with tempfile.TemporaryDirectory() as directory:
            for name in ("requirements.in", "requirements.txt"):
                shutil.copy(PROJECT / name, directory)
            rendered = template.render(cookiecutter={"package_manager": manager})
            (Path(directory) / "requirements-dev.in").write_text(rendered)
            output = PROJECT / "_template" / f"requirements-dev-{manager}.txt"
            compile_lock(Path(directory), "requirements-dev.in", output.resolve())


if __name__ == "__main__":
    main()
