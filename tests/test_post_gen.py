"""The post-generation hook removes unselected files and catches inconsistent bakes."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from hooks import post_gen_project as post
from tests.helpers import ROOT, TEMPLATE_CONTEXT, Bake

# What only `database=postgresql` bakes, in cookiecutter.json's order.
DATABASE_FILES = [
    "app/database.py",
    "app/models.py",
    "app/notes.py",
    "migrations",
    "tests/test_database.py",
    "tests/test_notes.py",
]


@pytest.fixture
def project(bake: Bake, tmp_path: Path) -> Path:
    """A private copy of the default bake, free to break."""
    return Path(shutil.copytree(bake(), tmp_path / "my-service"))


@pytest.fixture
def context() -> dict[str, str]:
    return {
        "ci": "github",
        "python_version": "3.13",
        "base_image": "python:3.13-slim",
        "port": "8000",
        "app_uid": "1001",
        "app_gid": "1001",
        "project_slug": "my-service",
    }


@pytest.mark.parametrize(
    ("choices", "removed"),
    [
        (
            {
                "ci": "github",
                "kubernetes": "manifests",
                "tracing": "opentelemetry",
                "database": "postgresql",
            },
            [".gitlab-ci.yml", "renovate.json", "deploy/helm"],
        ),
        (
            {"ci": "gitlab", "kubernetes": "helm", "tracing": "opentelemetry", "database": "none"},
            [".github", "deploy/kubernetes", *DATABASE_FILES],
        ),
        (
            {"ci": "none", "kubernetes": "none", "tracing": "none", "database": "none"},
            [
                ".github",
                ".gitlab-ci.yml",
                "renovate.json",
                "deploy/kubernetes",
                "deploy/helm",
                "deploy",
                "app/tracing.py",
                "tests/test_tracing.py",
                *DATABASE_FILES,
            ],
        ),
    ],
)
def test_removes_what_the_choices_exclude(
    tmp_path: Path, choices: dict[str, str], removed: list[str]
) -> None:
    for directory in (".github/workflows", "deploy/kubernetes", "deploy/helm", "app", "tests"):
        (tmp_path / directory).mkdir(parents=True)
    (tmp_path / "migrations/versions").mkdir(parents=True)
    files = [".github/workflows/ci.yml", ".gitlab-ci.yml", "renovate.json", "app/tracing.py"]
    for file in [
        *files,
        "tests/test_tracing.py",
        *(path for path in DATABASE_FILES if path != "migrations"),
    ]:
        (tmp_path / file).write_text("{}\n")

    context = {**choices, "_optional_paths": TEMPLATE_CONTEXT["_optional_paths"]}

    assert post.remove_unselected(tmp_path, context) == removed
    for path in removed:
        assert not (tmp_path / path).exists()


def test_a_consistent_bake_has_no_errors(project: Path, context: dict[str, str]) -> None:
    assert post.parse_errors(project) == []
    assert post.consistency_errors(project, context) == []


@pytest.mark.parametrize(
    ("path", "old", "new", "where"),
    [
        (".python-version", "3.13", "3.12", ".python-version"),
        ("pyproject.toml", '"==3.13.*"', '"==3.12.*"', "pyproject.toml requires-python"),
        (
            "Dockerfile",
            "FROM python:3.13-slim AS base",
            "FROM x:1 AS base",
            "Dockerfile base stage",
        ),
        ("Dockerfile", "UVICORN_PORT=8000", "UVICORN_PORT=9000", "Dockerfile UVICORN_PORT"),
        ("Dockerfile", "USER 1001:1001", "USER 0:0", "Dockerfile USER"),
        ("compose.yaml", ":8000:8000", ":8000:9000", "compose.yaml port"),
        ("README.md", "127.0.0.1:8000", "127.0.0.1:9000", "README.md port"),
    ],
)
def test_a_fact_that_disagrees_is_reported(
    project: Path, context: dict[str, str], path: str, old: str, new: str, where: str
) -> None:
    target = project / path
    target.write_text(target.read_text().replace(old, new, 1))

    errors = post.consistency_errors(project, context)

    assert len(errors) == 1
    assert errors[0].startswith(f"{where} says ")


@pytest.mark.parametrize(
    ("name", "broken"),
    [("compose.yaml", "services: [\n"), ("pyproject.toml", "[project\n"), ("x.json", "{,}")],
)
def test_a_file_that_does_not_parse_is_reported(project: Path, name: str, broken: str) -> None:
    (project / name).write_text(broken)

    errors = post.parse_errors(project)

    assert len(errors) == 1
    assert errors[0].startswith(f"{name} does not parse")


# What a template needs to bake: its context, extensions, hooks and project files.
TEMPLATE_PARTS = (
    "cookiecutter.json",
    "local_extensions.py",
    "hooks",
    "{{cookiecutter.project_slug}}",
)


@pytest.mark.parametrize(
    ("path", "edit", "reported"),
    [
        ("deploy/kubernetes/service.yaml", lambda text: text + "ports: [\n", "does not parse"),
        (".python-version", lambda text: "3.9\n", ".python-version says '3.9'"),
    ],
    ids=["unparsable-yaml", "disagreeing-python-version"],
)
def test_the_hook_cookiecutter_runs_stops_a_broken_bake_and_leaves_nothing(
    tmp_path: Path, path: str, edit, reported: str
) -> None:
    """A template change that breaks a file fails the bake itself, not only a test."""
    template = tmp_path / "template"
    for part in TEMPLATE_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, template / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            template.mkdir(exist_ok=True)
            shutil.copy2(source, template / part)
    broken = template / "{{cookiecutter.project_slug}}" / path
    broken.write_text(edit(broken.read_text()))

    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", str(template), "--no-input", "-o", "out"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    assert reported in result.stderr, result.stderr
    assert "The template produced an inconsistent project; please report this." in result.stderr
    assert not any((tmp_path / "out").iterdir())


def test_next_steps_name_the_project_path_and_port(context: dict[str, str]) -> None:
    steps = post.next_steps({**context, "port": "9000"}, "out/my-service")

    assert "cd out/my-service\n" in steps
    assert "http://127.0.0.1:9000/docs" in steps


@pytest.mark.parametrize(
    ("working_directory", "shown"),
    [
        ("/work", "out/my-service"),
        ("/work/out", "my-service"),
        ("/elsewhere", "../work/out/my-service"),
        (None, "/work/out/my-service"),
    ],
)
def test_the_path_to_cd_to_is_relative_to_where_cookiecutter_ran(
    working_directory: str | None, shown: str
) -> None:
    assert post.where_from(Path("/work/out/my-service"), working_directory) == shown


@pytest.mark.parametrize(
    ("parent", "context_keys", "scratch"),
    [
        (Path(tempfile.gettempdir()) / "tmpab12cd34", {"_commit"}, True),  # cruft diff, update
        (Path(tempfile.gettempdir()) / "tmpab12cd34", set(), False),  # cookiecutter -o there
        (Path("/work/services"), {"_commit"}, False),  # cruft create
    ],
    ids=["cruft-regeneration", "cookiecutter-into-tmp", "cruft-create"],
)
def test_only_crufts_scratch_regenerations_skip_the_next_steps(
    context: dict[str, str], parent: Path, context_keys: set[str], scratch: bool
) -> None:
    marked = {**context, **dict.fromkeys(context_keys, "abc123")}

    assert post.is_scratch_bake(parent.resolve() / "my-service", marked) is scratch
