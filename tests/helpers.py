"""Facts about the template and helpers its tests share."""

from __future__ import annotations

import ast
import html
import importlib.util
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import dockerfile
from cookiecutter.extensions import SlugifyExtension
from cookiecutter.main import cookiecutter
from jinja2 import Environment

from harness.venvs import venv_for
from hooks import post_gen_project as post

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_CONTEXT = json.loads((ROOT / "cookiecutter.json").read_text())
# Choice keys and their values, default first, as cookiecutter.json lists them.
CHOICES = {
    key: value
    for key, value in TEMPLATE_CONTEXT.items()
    if isinstance(value, list) and not key.startswith("_")
}
# The Python running the tests, as a python_version value: baked projects whose
# own tooling runs here are baked for it.
# git with an identity, for the repositories tests make.
GIT = ("git", "-c", "user.name=Test", "-c", "user.email=test@example.com")
HOST_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
# Command-line tools from requirements-dev.txt, installed beside this interpreter.
TOOLS = Path(sys.executable).parent
# pre-commit's hook environments, cached between runs like a developer's.
PRE_COMMIT_HOME = ROOT / ".cache" / "pre-commit"

Bake = Callable[..., Path]


def template_module(name: str) -> ModuleType:
    """A module of the template's own code in {{cookiecutter.project_slug}}/_template/,
    loaded by path: that directory's name is no package name."""
    path = ROOT / "{{cookiecutter.project_slug}}" / "_template" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_template_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def default_context(**overrides: str) -> dict[str, str]:
    """The answers a ``--no-input`` bake with ``overrides`` validates: every prompted
    key as text, choice keys at their first value, and the derived keys (the slug,
    the base image) rendered from cookiecutter.json's own expressions in its order."""
    environment = Environment(extensions=[SlugifyExtension])
    context: dict[str, str] = {}
    for key, value in TEMPLATE_CONTEXT.items():
        if key.startswith("_"):
            continue
        if key in overrides:
            context[key] = overrides[key]
        elif isinstance(value, list):
            context[key] = value[0]
        else:
            context[key] = environment.from_string(str(value)).render(cookiecutter=context)
    return context


def readable(value: object) -> str:
    """A value as a short ASCII test id: long runs counted ('a*64'), the rest escaped."""
    text = re.sub(r"(.)\1{7,}", lambda run: f"{run[1]}*{len(run[0])}", str(value))
    return text.encode("ascii", "backslashreplace").decode() or "empty"


def case_id(extra: dict[str, object]) -> str:
    """A readable test id for a set of choices: 'ci:gitlab-port:9000', or 'defaults'."""
    return "-".join(f"{key}:{readable(value)}" for key, value in extra.items()) or "defaults"


def service_venv(project: Path) -> Path:
    """The shared venv for a baked project's dev lock, marked up to date for its
    Makefile (whose targets make .venv when the stamp is older than the locks)."""
    venv = venv_for(project / "requirements-dev.txt")
    (venv / "installed").touch()
    return venv


def environment_with(*, path_first: Path | None = None, **variables: str) -> dict[str, str]:
    """This process's environment with ``variables`` set and ``path_first`` leading PATH."""
    environment = {**os.environ, **variables}
    if path_first is not None:
        environment["PATH"] = f"{path_first}{os.pathsep}{environment['PATH']}"
    return environment


def run(*args: str | Path, cwd: Path, **kwargs) -> subprocess.CompletedProcess[str]:
    """Run a command, failing the test with its output if it fails."""
    result = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, **kwargs
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    return result


def fresh_bake(output: Path, **extra: str) -> Path:
    """A bake of its own, for comparing bytes: the shared ``bake`` projects are
    also where other tests run the projects' own tools, which leave caches."""
    return Path(cookiecutter(str(ROOT), no_input=True, extra_context=extra, output_dir=str(output)))


def published_files(tree: Path) -> dict[str, bytes]:
    """Every file's path and bytes, as git would publish the tree (no empty directories)."""
    return {
        path.relative_to(tree).as_posix(): path.read_bytes()
        for path in sorted(tree.rglob("*"))
        if path.is_file()
    }


def text_files(project: Path) -> list[Path]:
    return [path for path in sorted(project.rglob("*")) if path.is_file()]


def assert_every_file_parses(project: Path) -> None:
    """Python compiles, YAML, TOML and JSON load, and BuildKit's parser reads the Dockerfile."""
    for path in text_files(project):
        text = path.read_text(encoding="utf-8")
        if path.relative_to(project).as_posix().startswith(post.NOT_DATA):
            continue
        if path.suffix == ".py":
            compile(text, str(path), "exec")
        elif path.suffix in (".yml", ".yaml"):
            documents = post.load_yaml_documents(text)  # libyaml: hundreds of bakes
            assert documents and all(isinstance(document, dict) for document in documents), path
        elif path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix == ".json":
            json.loads(text)
    assert dockerfile.parse_file(str(project / "Dockerfile"))


def catalog_entities(project: Path) -> dict[str, dict]:
    """The entities of a bake's catalog-info.yaml, by kind."""
    documents = post.load_yaml_documents((project / "catalog-info.yaml").read_text())
    return {entity["kind"]: entity for entity in documents}


def field_defaults(module: Path) -> dict[str, str]:
    """The ``default=`` of each ``name: type = Field(default=...)`` in a module."""
    return {
        node.target.id: ast.literal_eval(keyword.value)
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8")))
        if isinstance(node, ast.AnnAssign) and isinstance(node.value, ast.Call)
        for keyword in node.value.keywords
        if keyword.arg == "default"
    }


def assert_free_text_verbatim(project: Path, context: dict[str, str]) -> None:
    """Each free-text value reads back exactly where it is meant to be."""
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    settings = field_defaults(project / "app" / "settings.py")
    readme = (project / "README.md").read_text(encoding="utf-8")
    name, description = context["project_name"], context["description"]

    assert settings["title"] == name
    assert settings["description"] == description
    assert pyproject["project"]["description"] == description
    assert pyproject["project"]["authors"] == [
        {"name": context["author_name"], "email": context["author_email"]}
    ]
    assert readme.startswith(f"# {name}\n\n{description}\n")
    (docs,) = post.load_yaml_documents((project / "mkdocs.yml").read_text(encoding="utf-8"))
    assert html.unescape(docs["site_name"]) == name
    assert html.unescape(docs["site_description"]) == description
