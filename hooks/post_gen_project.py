"""Finish a baked project: drop what the choices exclude, check it, say what next.

Cookiecutter runs this in the new project's directory. It uses the standard
library and PyYAML (a dependency of cookiecutter itself), never the network.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10, which cookiecutter still supports
    tomllib = None

# The template's own code, which the project template carries for Backstage's
# action (see _template/extensions.py); never part of a service.
TEMPLATE_ONLY = "_template"


def outside(project: Path, relative: str) -> bool:
    """Whether ``relative`` names the project itself or anything not inside it
    (an absolute path, ``..``, or a link that leads out)."""
    path = (project / relative).resolve()
    return path == project.resolve() or not path.is_relative_to(project.resolve())


def remove_unselected(project: Path, context: Mapping[str, Any]) -> list[str]:
    """Delete the template's own code and every path of cookiecutter.json's
    ``_optional_paths`` ({path: {key: the values that keep it}}) whose choice was
    not made; return the optional paths that went.

    Only inside the project: the pre-generation hook refuses an overridden
    ``_optional_paths``, and this refuses every path first, deleting nothing.
    """
    escaping = [relative for relative in context["_optional_paths"] if outside(project, relative)]
    if escaping:
        raise ValueError(f"_optional_paths names paths outside the project: {escaping!r}")
    shutil.rmtree(project / TEMPLATE_ONLY, ignore_errors=True)
    removed = []
    for relative, keep in context["_optional_paths"].items():
        path = project / relative
        if all(context[key] in values for key, values in keep.items()) or not path.exists():
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
        removed.append(relative)
    return removed


# Helm's templates are Go templates: YAML only once Helm renders them.
NOT_DATA = ("deploy/helm/templates",)


def data_files(project: Path) -> Iterator[Path]:
    for path in sorted(project.rglob("*")):
        data = path.is_file() and path.suffix in (".json", ".toml", ".yaml", ".yml")
        if data and not path.relative_to(project).as_posix().startswith(NOT_DATA):
            yield path


# YAML's safe subset, through libyaml when PyYAML was built with it (its wheels are).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> object:
    """A YAML file of one document."""
    return yaml.load(text, Loader=_YAML_LOADER)


def load_yaml_documents(text: str) -> list[object]:
    """Every document of a YAML file (catalog-info.yaml holds two)."""
    return list(yaml.load_all(text, Loader=_YAML_LOADER))


def parse_errors(project: Path) -> list[str]:
    """Every JSON, TOML and YAML file must load."""
    loaders = {".json": json.loads, ".yaml": load_yaml_documents, ".yml": load_yaml_documents}
    if tomllib is not None:
        loaders[".toml"] = tomllib.loads
    errors = []
    for path in data_files(project):
        loader = loaders.get(path.suffix)
        try:
            if loader:
                loader(path.read_text(encoding="utf-8"))
        except Exception as error:  # each parser has its own error type
            errors.append(f"{path.relative_to(project)} does not parse: {error}")
    return errors


def _read(project: Path, name: str) -> str:
    return (project / name).read_text(encoding="utf-8")


def _find(pattern: str, text: str) -> str | None:
    match = re.search(pattern, text, re.MULTILINE)
    return match[1] if match else None


def consistency_errors(project: Path, context: Mapping[str, str]) -> list[str]:
    """One Python version, port and user everywhere they appear."""
    dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
    expected = {
        ".python-version": (
            (project / ".python-version").read_text(encoding="utf-8").strip(),
            context["python_version"],
        ),
        "pyproject.toml requires-python": (
            _find(r'^requires-python = "==(\d+\.\d+)\.\*"$', _read(project, "pyproject.toml")),
            context["python_version"],
        ),
        "Dockerfile base stage": (
            _find(r"^FROM (\S+) AS base$", dockerfile),
            context["base_image"],
        ),
        "Dockerfile UVICORN_PORT": (
            _find(r"UVICORN_PORT=(\d+)", dockerfile),
            context["port"],
        ),
        "Dockerfile USER": (
            _find(r"^USER (\S+)$", dockerfile),
            f"{context['app_uid']}:{context['app_gid']}",
        ),
        "compose.yaml port": (
            _find(r'"127\.0\.0\.1:\d+:(\d+)"', _read(project, "compose.yaml")),
            context["port"],
        ),
        "README.md port": (
            _find(r"http://127\.0\.0\.1:(\d+)", _read(project, "README.md")),
            context["port"],
        ),
    }
    if context["ci"] == "gitlab":
        expected[".gitlab-ci.yml image"] = (
            load_yaml(_read(project, ".gitlab-ci.yml"))["test"]["image"],
            context["base_image"],
        )
    return [
        f"{where} says {found!r}, but the choice was {wanted!r}"
        for where, (found, wanted) in expected.items()
        if found != wanted
    ]


def where_from(project: Path, working_directory: str | None) -> str:
    """The project's path as the person who baked it can ``cd`` to it: relative to
    the shell's working directory (``PWD``, which cookiecutter passes on) when known."""
    if not working_directory:
        return str(project)
    return os.path.relpath(project, working_directory)


def is_scratch_bake(project: Path, context: Mapping[str, str]) -> bool:
    """cruft regenerates the template into a fresh temporary directory to compare
    (``cruft diff``, ``check``, ``update``); nobody reads next steps there."""
    scratch = project.parent
    return (
        "_commit" in context
        and scratch.parent == Path(tempfile.gettempdir()).resolve()
        and scratch.name.startswith("tmp")
    )


def next_steps(context: Mapping[str, str], location: str) -> str:
    slug, port = context["project_slug"], context["port"]
    return f"""
Created {slug}. Next:

    cd {location}
    git init && git add -A && git commit -m "Bake {slug}"
    make test       # makes .venv from the locks first (needs python{context["python_version"]})
    make run        # http://127.0.0.1:{port}/docs
    make docker-build docker-run

README.md explains the rest.
"""


def main() -> int:
    context = json.loads(r"""{{ cookiecutter | tojson }}""")
    project = Path.cwd().resolve()
    try:
        remove_unselected(project, context)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    errors = parse_errors(project) + consistency_errors(project, context)
    if errors:
        for error in errors:
            print(f"error: {error}", file=sys.stderr)
        print("The template produced an inconsistent project; please report this.", file=sys.stderr)
        return 1
    if not is_scratch_bake(project, context):
        print(next_steps(context, where_from(project, os.environ.get("PWD"))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
