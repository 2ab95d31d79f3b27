"""Every option value bakes a complete, valid project that passes its own checks."""

from __future__ import annotations

import hashlib
import html
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
import yaml
from codeowners import CodeOwners

from harness.docker import HARDENED
from tests.cases import COMBINATIONS
from tests.helpers import (
    CHOICES,
    GIT,
    HOST_PYTHON,
    PRE_COMMIT_HOME,
    ROOT,
    TOOLS,
    Bake,
    assert_every_file_parses,
    assert_free_text_verbatim,
    catalog_entities,
    default_context,
    environment_with,
    published_files,
    run,
    service_venv,
    text_files,
)

ALWAYS = [
    "CODEOWNERS",
    "SECURITY.md",
    ".dockerignore",
    ".gitattributes",
    ".pre-commit-config.yaml",
    ".gitignore",
    ".python-version",
    "Dockerfile",
    "Makefile",
    "README.md",
    "app/__init__.py",
    "app/__main__.py",
    "app/batch.py",
    "app/health.py",
    "app/log.py",
    "app/logging.json",
    "app/main.py",
    "app/metrics.py",
    "app/middleware.py",
    "app/openapi.py",
    "app/server.py",
    "app/settings.py",
    "catalog-info.yaml",
    "compose.yaml",
    *(f"docs/{page}.md" for page in ("index", "run", "configure", "deploy", "operate")),
    "mkdocs.yml",
    "openapi.json",
    "pyproject.toml",
    "requirements-dev.in",
    "requirements-dev.txt",
    "requirements.in",
    "requirements.txt",
    "scripts/buildkit-cache.sh",
    "scripts/lock.sh",
    "scripts/newest-template-release.sh",
    "tests/conftest.py",
    "tests/test_docs.py",
    "tests/test_health.py",
    "tests/test_log.py",
    "tests/test_metrics.py",
    "tests/test_openapi.py",
    "tests/test_requests.py",
    "tests/test_server.py",
    "tests/test_settings.py",
    "tests/test_start.py",
    "tests/test_version.py",
]
# CI definitions and the dependency-update bot that goes with each CI system.
CI_FILES = {
    "github": [".github/workflows/ci.yml", ".github/dependabot.yml"],
    "gitlab": [".gitlab-ci.yml", "renovate.json"],
    "none": [],
}
# The tracing code, which only `tracing=opentelemetry` bakes.
TRACING_FILES = {"opentelemetry": ["app/tracing.py", "tests/test_tracing.py"], "none": []}
# The database layer, which only `database=postgresql` bakes.
DATABASE_FILES = {
    "postgresql": [
        "app/database.py",
        "app/models.py",
        "app/notes.py",
        "migrations/env.py",
        "migrations/script.py.mako",
        "migrations/versions/2026_12_03_create_notes.py",
        "tests/test_database.py",
        "tests/test_notes.py",
    ],
    "none": [],
}
# The migration's deployment files, which each `kubernetes` choice adds for a database.
MIGRATION_FILES = {
    "manifests": [
        "deploy/kubernetes/migrate/job.yaml",
        "deploy/kubernetes/migrate/kustomization.yaml",
    ],
    "helm": ["deploy/helm/templates/migration-job.yaml"],
    "none": [],
}
# The deployment files each `kubernetes` choice bakes.
KUBERNETES_FILES = {
    "manifests": [
        f"deploy/kubernetes/{name}.yaml"
        for name in (
            "deployment",
            "hpa",
            "kustomization",
            "namespace",
            "networkpolicy",
            "pdb",
            "service",
        )
    ],
    "helm": [
        "deploy/helm/Chart.yaml",
        "deploy/helm/values.schema.json",
        "deploy/helm/values.yaml",
        "deploy/helm/templates/_helpers.tpl",
        *(
            f"deploy/helm/templates/{name}.yaml"
            for name in ("deployment", "hpa", "networkpolicy", "pdb", "service")
        ),
    ],
    "none": [],
}


@pytest.fixture(params=COMBINATIONS.values(), ids=COMBINATIONS.keys(), scope="module")
def case(request, bake: Bake) -> tuple[dict[str, str], Path]:
    return request.param, bake(**request.param)


def test_project_has_its_files(case) -> None:
    extra, project = case
    context = default_context(**extra)
    files = {str(path.relative_to(project)) for path in project.rglob("*") if path.is_file()}

    assert files == {
        *ALWAYS,
        *CI_FILES[context["ci"]],
        *KUBERNETES_FILES[context["kubernetes"]],
        *TRACING_FILES[context["tracing"]],
        *DATABASE_FILES[context["database"]],
        *(MIGRATION_FILES[context["kubernetes"]] if context["database"] == "postgresql" else []),
    }


# What a database bake adds, as it is named in its files.
DATABASE_WORDS = re.compile(
    r"sqlalchemy|psycopg|alembic|APP_DB_|postgres|testcontainers|migrat", re.IGNORECASE
)


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_without_a_database_nothing_of_it_is_baked(bake: Bake, ci: str) -> None:
    """No file, dependency, setting, CI service or word of it: the key's default
    bakes what the template baked before it had the key."""
    for path in text_files(bake(ci=ci)):
        found = DATABASE_WORDS.search(path.read_text(encoding="utf-8"))
        assert found is None, f"{path.name}: {found and found[0]}"
    assert DATABASE_WORDS.search((bake(database="postgresql") / "requirements.txt").read_text())


def test_no_template_syntax_is_left(case) -> None:
    _, project = case
    for path in text_files(project):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\{\{ ?cookiecutter|\{%|%\}", text), path


def test_files_read_as_if_written_by_hand(case) -> None:
    """No trailing spaces, no stray blank lines from Jinja, one final newline."""
    _, project = case
    for path in text_files(project):
        text = path.read_text(encoding="utf-8")
        where = path.relative_to(project)
        assert text.endswith("\n") and not text.endswith("\n\n"), f"{where}: end of file"
        assert not text.startswith("\n"), f"{where}: starts with a blank line"
        for number, line in enumerate(text.splitlines(), 1):
            assert line == line.rstrip(), f"{where}:{number} trailing whitespace"
        # PEP 8's two blank lines are ruff format's to check (Alembic's .mako makes Python)
        if path.suffix not in (".py", ".mako"):
            assert "\n\n\n" not in text, f"{where}: two blank lines in a row"
        if path.name == "Makefile":
            rule = re.search(r"[^\n]\n[a-z-]+:", text)
            assert not rule, f"{where}: a rule without a blank line before it"


def test_every_file_parses(case) -> None:
    _, project = case
    assert_every_file_parses(project)


def test_free_text_arrives_verbatim(case) -> None:
    extra, project = case
    assert_free_text_verbatim(project, default_context(**extra))


def test_python_version_is_the_same_everywhere(case) -> None:
    extra, project = case
    version = default_context(**extra)["python_version"]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))

    assert (project / ".python-version").read_text().strip() == version
    assert pyproject["project"]["requires-python"] == f"=={version}.*"
    assert (
        f"FROM {extra.get('base_image', f'python:{version}-slim')} AS base\n"
        in (project / "Dockerfile").read_text()
    )
    if default_context(**extra)["ci"] == "github":
        workflow = (project / ".github/workflows/ci.yml").read_text()
        assert "python-version-file: .python-version" in workflow


def test_port_and_user_agree_across_files(case) -> None:
    extra, project = case
    context = default_context(**extra)
    port = context["port"]
    docker = (project / "Dockerfile").read_text()
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    service = compose["services"][project.name]

    assert f"UVICORN_PORT={port} " in docker
    assert f"\nUSER {context['app_uid']}:{context['app_gid']}\n" in docker
    assert f"--uid {context['app_uid']} " in docker
    assert f"--gid {context['app_gid']} " in docker
    assert service["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert f"http://127.0.0.1:{port}/docs" in (project / "README.md").read_text()


def test_compose_migrates_once_before_the_service_starts_with_a_password_not_committed(
    bake: Bake,
) -> None:
    project = bake(database="postgresql")
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    app, migrate, postgres = (
        compose["services"][name] for name in (project.name, "migrate", "postgres")
    )
    required = "${APP_DB_PASSWORD:?"

    assert app["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert migrate["command"] == ["migrate"] and migrate["image"] == app["image"]
    assert migrate["environment"] == {k: v for k, v in app["environment"].items() if "DB" in k}
    assert app["environment"]["APP_DB_PASSWORD"].startswith(required)
    assert postgres["environment"]["POSTGRES_PASSWORD"].startswith(required)
    assert (postgres["environment"]["POSTGRES_USER"], postgres["environment"]["POSTGRES_DB"]) == (
        app["environment"]["APP_DB_USER"],
        app["environment"]["APP_DB_NAME"],
    )
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert postgres["ports"] == ["127.0.0.1:5432:5432"]
    assert ".env" in (project / ".gitignore").read_text().split()


def test_compose_runs_the_service_as_hardened_as_the_docker_tests_do(bake: Bake) -> None:
    """The options tests/test_docker.py runs every container with (HARDENED), in
    compose's words: the same read-only root, /tmp, capabilities and privileges."""
    project = bake()
    service = yaml.safe_load((project / "compose.yaml").read_text())["services"][project.name]
    as_run_options = [
        *(["--read-only"] if service.get("read_only") is True else []),
        *(option for path in service.get("tmpfs", []) for option in ("--tmpfs", path)),
        *(f"--cap-drop={capability}" for capability in service.get("cap_drop", [])),
        *(
            f"--security-opt={option.removesuffix(':true')}"
            for option in service.get("security_opt", [])
        ),
    ]

    assert as_run_options == list(HARDENED)


def test_hadolint_is_clean(case) -> None:
    _, project = case
    run(TOOLS / "hadolint", "Dockerfile", cwd=project)


@pytest.mark.parametrize("frontend", ["docker/dockerfile:1", ""], ids=["default", "empty"])
def test_dockerfile_frontend_line(bake: Bake, frontend: str) -> None:
    first_line = (bake(dockerfile_frontend=frontend) / "Dockerfile").read_text().splitlines()[0]

    if frontend:
        assert first_line == f"# syntax={frontend}"
    else:
        assert not first_line.startswith("# syntax")


# From here on: files no choice changes, or only package_manager does, checked
# once or once per installer rather than for every combination.


def test_git_keeps_lf_endings(bake: Bake, tmp_path: Path) -> None:
    checkout = Path(shutil.copytree(bake(), tmp_path / "checkout"))
    run("git", "init", "--quiet", cwd=checkout)
    (checkout / "deploy.sh").write_text("#!/bin/sh\n")

    report = run(
        "git", "check-attr", "eol", "--", "Dockerfile", "Makefile", "deploy.sh", cwd=checkout
    )

    assert report.stdout.splitlines() == [
        "Dockerfile: eol: lf",
        "Makefile: eol: lf",
        "deploy.sh: eol: lf",
    ]


@pytest.mark.parametrize("manager", CHOICES["package_manager"])
def test_pre_commit_hooks_pin_the_locked_versions(bake: Bake, manager: str) -> None:
    project = bake(package_manager=manager)
    config = yaml.safe_load((project / ".pre-commit-config.yaml").read_text())
    hooks = config["repos"][0]["hooks"]
    pins = [pin for hook in hooks for pin in hook.get("additional_dependencies", [])]
    lock = (project / "requirements-dev.txt").read_text()

    for pin in pins:
        assert re.search(rf"^{re.escape(pin)} ", lock, re.MULTILINE), f"{pin} is not locked"


def test_pre_commit_passes_on_a_fresh_bake(bake: Bake, tmp_path: Path) -> None:
    checkout = Path(shutil.copytree(bake(), tmp_path / "checkout"))
    run("git", "init", "--quiet", cwd=checkout)
    run("git", "add", "--all", cwd=checkout)
    environment = environment_with(PRE_COMMIT_HOME=str(PRE_COMMIT_HOME))

    run(TOOLS / "pre-commit", "run", "--all-files", cwd=checkout, env=environment)


@pytest.mark.parametrize("manager", CHOICES["package_manager"])
def test_requirements_are_pinned_and_hashed(bake: Bake, manager: str) -> None:
    project = bake(package_manager=manager)
    for name in ("requirements", "requirements-dev"):
        wanted = {
            re.split(r"[\s;<>=\[]", line)[0].lower()
            for line in (project / f"{name}.in").read_text().splitlines()
            if line.strip() and not line.startswith(("#", "-"))
        }
        pins = re.findall(
            r"^([a-z0-9._-]+)==\S+(?: ;[^\\\n]*)? \\\n"  # name==version ; markers \
            r"((?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)",  # one or more hashes
            (project / f"{name}.txt").read_text(),
            re.MULTILINE,
        )
        requirement_lines = [
            line
            for line in (project / f"{name}.txt").read_text().splitlines()
            if line and not line.startswith((" ", "#"))
        ]
        assert len(pins) == len(requirement_lines), f"{name}.txt: a line without a pin or hash"
        assert wanted <= {package for package, _ in pins}, f"{name}.txt misses {name}.in"


@pytest.mark.parametrize(("tracing", "sdk"), [("opentelemetry", True), ("none", False)])
def test_only_opentelemetry_installs_the_tracing_sdk(bake: Bake, tracing: str, sdk: bool) -> None:
    runtime = (bake(tracing=tracing) / "requirements.txt").read_text()

    assert bool(re.search(r"^opentelemetry-sdk==", runtime, re.MULTILINE)) is sdk


def test_runtime_lock_holds_no_dev_tools(bake: Bake) -> None:
    runtime = (bake() / "requirements.txt").read_text()
    for tool in ("pytest", "httpx2", "ruff", "uv"):
        assert not re.search(rf"^{tool}==", runtime, re.MULTILINE), tool


@pytest.mark.slow
@pytest.mark.parametrize("manager", CHOICES["package_manager"])
def test_make_test_works_on_a_fresh_checkout(bake: Bake, manager: str, tmp_path: Path) -> None:
    """A newcomer clones the service and runs `make test`: the venv is made on the way."""
    checkout = tmp_path / "checkout"
    project = bake(package_manager=manager, python_version=HOST_PYTHON)
    shutil.copytree(project, tmp_path / "origin")
    run(*GIT, "init", "--quiet", cwd=tmp_path / "origin")
    run(*GIT, "add", "--all", cwd=tmp_path / "origin")
    run(*GIT, "commit", "--quiet", "-m", "Bake", cwd=tmp_path / "origin")
    run("git", "clone", "--quiet", tmp_path / "origin", checkout, cwd=tmp_path)
    environment = environment_with(path_first=TOOLS)

    run("make", "test", f"PYTHON={sys.executable}", cwd=checkout, env=environment)

    # Made once: every other target that needs the venv finds it up to date.
    run("make", "--question", ".venv/installed", cwd=checkout, env=environment)


@pytest.mark.parametrize("manager", CHOICES["package_manager"])
@pytest.mark.parametrize(
    ("python", "message"),
    [
        ("python3.99", "error: no working python3.99 {found}: install Python 3.13"),
        (sys.executable, f"is Python {platform.python_version()}, but this service needs 3.13"),
    ],
    ids=["missing", "another-version"],
)
def test_the_wrong_python_is_refused_in_one_line(
    bake: Bake, tmp_path: Path, manager: str, python: str, message: str
) -> None:
    project = bake(package_manager=manager, python_version="3.13")
    environment = environment_with(path_first=TOOLS)

    result = subprocess.run(
        ["make", "install", f"PYTHON={python}", f"VENV={tmp_path / 'venv'}"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
    )

    assert result.returncode != 0
    found = "found" if manager == "uv" else "on PATH"
    errors = [
        line for line in result.stderr.splitlines() if not re.match(r"make(\[\d+\])?: ", line)
    ]
    assert len(errors) == 1, result.stderr
    assert message.format(found=found) in errors[0]
    assert not (tmp_path / "venv").exists()


# What no lint, type check or test of a baked project opens. Its `make lint test`
# runs on a copy without them, which proves it: combinations whose copies are
# byte for byte the same (ci, kubernetes and the image choices change only these)
# are checked once per session.
NOT_READ_BY_LINT_OR_TESTS = (
    ".dockerignore",
    ".github",
    ".gitlab-ci.yml",
    ".pre-commit-config.yaml",
    "Dockerfile",
    "README.md",
    "catalog-info.yaml",
    "compose.yaml",
    "deploy",
    "renovate.json",
)


# What only the baked tests/test_docs.py reads. test_the_docs_build_as_techdocs_does
# builds them for every combination, so copies that differ only there (most
# combinations' docs do) share one `make lint test`.
DOCS = ("docs", "mkdocs.yml")


def tree_digest(tree: Path, ignore: tuple[str, ...] = ()) -> str:
    digest = hashlib.sha256()
    for name, content in published_files(tree).items():
        if name.split("/", 1)[0] in ignore:
            continue
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def session_directory(factory: pytest.TempPathFactory) -> Path:
    """This session's temporary directory, shared by its xdist workers (each worker's
    own is below it) and by no other session."""
    base = factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def test_the_default_project_passes_its_own_lint_and_tests(
    bake: Bake, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    passes_its_own_lint_and_tests(bake(), tmp_path, tmp_path_factory)


@pytest.mark.slow
def test_project_passes_its_own_lint_and_tests(
    case, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    passes_its_own_lint_and_tests(case[1], tmp_path, tmp_path_factory)


def passes_its_own_lint_and_tests(
    project: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """`make lint test` in ``project`` passes, once per session for each distinct copy
    of what they read."""
    # On a copy: lint and tests leave caches and bytecode, which the other tests of
    # this bake, in whatever order they run, must not find.
    copy = Path(
        shutil.copytree(
            project, tmp_path / project.name, ignore=lambda *_: NOT_READ_BY_LINT_OR_TESTS
        )
    )
    digest = tree_digest(copy, ignore=DOCS)
    passed = session_directory(tmp_path_factory) / "lint-and-tests-passed" / digest
    if passed.exists():
        return
    environment = service_venv(copy)
    # mypy's cache, per venv, target Python and worker: only the first check of
    # each is cold (a changed python_version invalidates all of a cache).
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    target = (copy / ".python-version").read_text().strip()
    cache = ROOT / ".cache" / "mypy" / f"{environment.name}-{target}-{worker}"

    # Where the Docker tests are required, so are a database bake's tests against
    # its own PostgreSQL (tests/conftest.py): they fail rather than skip.
    required = {"REQUIRE_DATABASE": "1"} if os.environ.get("REQUIRE_DOCKER") == "1" else {}
    run(
        "make", "lint", "test", f"VENV={environment}", cwd=copy,
        env=environment_with(MYPY_CACHE_DIR=str(cache), **required),
    )  # fmt: skip

    passed.parent.mkdir(parents=True, exist_ok=True)
    passed.touch()


@pytest.mark.parametrize("script", ["buildkit-cache.sh", "lock.sh", "newest-template-release.sh"])
def test_scripts_are_executable(bake: Bake, script: str) -> None:
    assert os.access(bake() / "scripts" / script, os.X_OK)


@pytest.mark.parametrize("manager", CHOICES["package_manager"])
def test_the_dockerfile_keeps_one_line_comments_and_the_readme_the_reasons(
    bake: Bake, manager: str
) -> None:
    """Each reason is written once, in docs/deploy.md; the Dockerfile points there."""
    project = bake(package_manager=manager)
    lines = (project / "Dockerfile").read_text().splitlines()
    header = 3 if lines[0].startswith("# syntax=") else 2
    body = lines[header + 1 :]
    runs = [
        index
        for index, line in enumerate(body[1:], 1)
        if line.startswith("#") and body[index - 1].startswith("#")
    ]

    assert lines[header].startswith('# Why each line is as it is: docs/deploy.md, "Docker image"')
    assert [body[index] for index in runs] == []
    for baked in (project / "Dockerfile", project / "docs" / "deploy.md"):
        assert not re.search(r"measured|->|→", baked.read_text()), baked.name


def test_the_private_index_file_is_never_staged(bake: Bake, tmp_path: Path) -> None:
    """README.md tells people to write the index URL, credentials included, to
    .index-url; `git add -A` must not take it, wherever it is left."""
    project = Path(shutil.copytree(bake(), tmp_path / "service"))
    for place in (project, project / "app"):
        (place / ".index-url").write_text("https://user:s3cret@pypi.example.com/simple/")
    run("git", "init", "--quiet", cwd=project)
    run("git", "add", "-A", cwd=project)

    staged = run("git", "diff", "--cached", "--name-only", cwd=project).stdout.split()

    assert "README.md" in staged
    assert [path for path in staged if path.endswith(".index-url")] == []


def newest_release(project: Path) -> subprocess.CompletedProcess[str]:
    """What `make template-check` runs first, in ``project``."""
    return subprocess.run(
        ["scripts/newest-template-release.sh"],
        cwd=project,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHON": sys.executable},
    )


@pytest.mark.parametrize(
    "template", ["--upload-pack=touch {marker};", "-u touch {marker}", "--config=core.x=1"]
)
def test_the_template_address_in_cruft_json_is_never_an_option(
    bake: Bake, tmp_path: Path, template: str
) -> None:
    """.cruft.json is data that a pull request can change; its template address
    reaches git only as a repository argument."""
    project = Path(shutil.copytree(bake(), tmp_path / "service"))
    marker = tmp_path / "code-ran"
    (project / ".cruft.json").write_text(f'{{"template": "{template.format(marker=marker)}"}}')

    result = newest_release(project)

    assert result.returncode != 0
    assert "is not a repository address" in result.stderr
    assert not marker.exists()


def test_template_check_without_cruft_says_how_to_link(bake: Bake, tmp_path: Path) -> None:
    project = Path(shutil.copytree(bake(), tmp_path / "service"))

    result = newest_release(project)

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "not made with cruft" in result.stderr and "cruft link" in result.stderr


# The "Security" section of the baked docs/operate.md, claim by claim.


def security(project: Path) -> str:
    """The baked docs' "Security" section, its lines joined."""
    operate = " ".join((project / "docs" / "operate.md").read_text().split())
    return operate.split("## Security", 1)[1].split(" ## ", 1)[0]


def test_the_readme_shows_the_name_and_description_as_written(bake: Bake) -> None:
    name = '<b>Billing</b> [docs](https://docs.example.com) "quoted"'
    description = "![badge](https://badge.example.com/x.svg) <i>fast</i>"
    project = bake(project_name=name, project_slug="billing", description=description)

    readme = (project / "README.md").read_text()
    assert readme.startswith(f"# {name}\n\n{description}\n")
    assert "links, images and HTML in them render" in security(project)


def test_any_registry_is_accepted_for_the_images(bake: Bake) -> None:
    base = "registry.example.net:5000/mirror/python:3.13-slim"
    project = bake(base_image=base, package_manager="uv")

    assert f"FROM {base} AS base" in (project / "Dockerfile").read_text()
    assert "not to come from a registry you trust" in security(project)


# The docs: docs/ and mkdocs.yml, which the catalog shows as TechDocs.


def build_docs(project: Path, site: Path) -> subprocess.CompletedProcess[str]:
    """`mkdocs build --strict` with the project's locked tools, as its tests/test_docs.py
    and TechDocs run it."""
    python = service_venv(project) / "bin" / "python"
    build = [python, "-m", "mkdocs", "build", "--strict", "--site-dir", site]
    return subprocess.run(build, cwd=project, capture_output=True, text=True, check=False)


def test_the_docs_build_as_techdocs_does(case, tmp_path: Path) -> None:
    _, project = case
    before = published_files(project)

    result = build_docs(project, tmp_path / "site")

    assert result.returncode == 0, result.stderr
    for page in (project / "docs").glob("*.md"):
        built = tmp_path / "site" / ("" if page.stem == "index" else page.stem) / "index.html"
        assert built.is_file(), page.name
    assert published_files(project) == before, "the build wrote into the project"


def test_the_readme_links_every_page_of_the_docs(case) -> None:
    _, project = case
    links = re.findall(r"\]\((docs/[^)#]+)\)", (project / "README.md").read_text())

    assert sorted(links) == sorted(
        path.relative_to(project).as_posix() for path in (project / "docs").glob("*.md")
    )


def test_the_catalog_points_techdocs_at_the_docs(bake: Bake) -> None:
    project = bake()
    annotations = catalog_entities(project)["Component"]["metadata"]["annotations"]
    (docs,) = yaml.safe_load_all((project / "mkdocs.yml").read_text())

    assert annotations["backstage.io/techdocs-ref"] == "dir:."
    assert docs["plugins"] == ["techdocs-core"]


def test_a_broken_link_in_the_docs_fails_the_baked_tests(bake: Bake, tmp_path: Path) -> None:
    project = Path(shutil.copytree(bake(), tmp_path / "service"))
    with (project / "docs" / "run.md").open("a") as page:
        page.write("\nSee [the database](operate.md#database).\n")
    python = service_venv(project) / "bin" / "python"

    result = subprocess.run(
        [python, "-m", "pytest", "-p", "no:cacheprovider", "tests/test_docs.py"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 1, result.stdout
    assert "does not contain an anchor '#database'" in result.stdout


def test_the_docs_site_shows_the_name_and_description_as_text(bake: Bake, tmp_path: Path) -> None:
    """mkdocs' themes paste site_name and site_description into the page unescaped."""
    name, description = "</title><script>alert(1)</script>", '"><script>alert(2)</script>'
    project = bake(project_name=name, project_slug="hostile", description=description)

    result = build_docs(project, tmp_path / "site")

    assert result.returncode == 0, result.stderr
    page = (tmp_path / "site" / "index.html").read_text()
    assert "<script>alert" not in page
    assert html.escape(name) in page and html.escape(description) in page


def test_the_catalog_lists_the_api_the_component_provides(bake: Bake) -> None:
    project = bake()
    entities = catalog_entities(project)

    assert set(entities) == {"Component", "API"}
    assert entities["Component"]["spec"]["providesApis"] == [project.name]
    assert entities["API"]["metadata"]["name"] == project.name
    assert entities["API"]["spec"]["type"] == "openapi"
    assert entities["API"]["spec"]["definition"] == {"$text": "./openapi.json"}
    assert json.loads((project / "openapi.json").read_text())["info"]["title"] == "My Service"


@pytest.mark.parametrize(
    ("ci", "repository", "annotation"),
    [
        ("github", "", "github.com/project-slug: CHANGE-ME/my-service"),
        ("none", "", "github.com/project-slug: CHANGE-ME/my-service"),
        ("gitlab", "", "gitlab.com/project-slug: CHANGE-ME/my-service"),
        ("gitlab", "platform/payments/api", "gitlab.com/project-slug: platform/payments/api"),
    ],
)
def test_the_catalog_names_the_repository_or_marks_what_to_replace(
    bake: Bake, ci: str, repository: str, annotation: str
) -> None:
    """The portal passes the repository it creates (_repository); the CLI cannot."""
    project = bake(ci=ci, _repository=repository)
    text = (project / "catalog-info.yaml").read_text()
    annotations = catalog_entities(project)["Component"]["metadata"]["annotations"]

    assert f"    {annotation}" in text.splitlines()
    slugs = [key for key in annotations if key.endswith("/project-slug")]
    assert slugs == [annotation.split(":")[0]]
    assert ("replace CHANGE-ME" in text) == (repository == "")
    warned = "replace `CHANGE-ME` with the repository's owner" in security(project)
    assert warned == (repository == "")


@pytest.mark.slow
def test_a_changed_route_fails_the_tests_until_make_openapi(bake: Bake, tmp_path: Path) -> None:
    project = Path(shutil.copytree(bake(), tmp_path / "service"))
    venv = service_venv(project)
    health = project / "app" / "health.py"
    text = health.read_text().replace(
        "def add_routes(", 'async def added() -> str:\n    return "new"\n\n\ndef add_routes('
    )
    # add_routes ends the module: one more line is one more route.
    health.write_text(text + '    app.add_api_route("/added", added)\n')
    check = [
        venv / "bin" / "python",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "tests/test_openapi.py",
    ]

    stale = subprocess.run(check, cwd=project, capture_output=True, text=True, check=False)
    run("make", "openapi", f"VENV={venv}", cwd=project)

    assert stale.returncode == 1, stale.stdout
    assert "run `make openapi` and commit it" in stale.stdout
    assert "/added" in json.loads((project / "openapi.json").read_text())["paths"]
    run(*check, cwd=project)


def test_the_catalog_owner_is_the_answer_slugified(bake: Bake) -> None:
    project = bake(author_name="Payments & Billing Team")

    catalog = catalog_entities(project)["Component"]
    assert catalog["spec"]["owner"] == "group:default/payments-billing-team"
    assert "nothing verifies that the group" in security(project)


@pytest.mark.parametrize("kubernetes", ["manifests", "helm"])
def test_the_deployment_files_expose_no_path_to_the_outside(bake: Bake, kubernetes: str) -> None:
    """No Ingress, Route or LoadBalancer: the README tells who may add one and what then."""
    deploy = bake(kubernetes=kubernetes) / "deploy"
    text = "\n".join(path.read_text() for path in deploy.rglob("*.yaml"))

    assert not re.search(r"kind: (Ingress|Route|Gateway|HTTPRoute)\b", text)
    assert "LoadBalancer" not in text and "NodePort" not in text


# Where each CI system's owners turn code-owner review into a rule, as CODEOWNERS says.
CODE_OWNER_RULE = {
    "github": "Require review from Code Owners",
    "gitlab": "Code owner approval",
    "none": "GitHub and GitLab both read this file",
}
# The private channel SECURITY.md offers besides email, per CI system.
PRIVATE_CHANNEL = {
    "github": "Report a vulnerability",
    "gitlab": "confidential issue",
    "none": None,
}
OWNER_EMAIL = "o'brien+svc@example.co.uk"


@pytest.mark.parametrize("ci", CHOICES["ci"])
def test_the_owner_is_code_owner_of_every_file(bake: Bake, ci: str) -> None:
    """As GitHub matches CODEOWNERS (the codeowners package); GitLab reads the same lines."""
    project = bake(ci=ci, author_email=OWNER_EMAIL)
    text = (project / "CODEOWNERS").read_text()
    owners = CodeOwners(text)
    owner = ("EMAIL", OWNER_EMAIL)
    unowned = [path for path in published_files(project) if owners.of(path) != [owner]]

    assert unowned == []
    assert CODE_OWNER_RULE[ci] in " ".join(text.replace("#", " ").split())  # the comment


@pytest.mark.parametrize("ci", CHOICES["ci"])
def test_security_md_says_how_to_report_privately(bake: Bake, ci: str) -> None:
    project = bake(ci=ci, author_email=OWNER_EMAIL)
    policy = " ".join((project / "SECURITY.md").read_text().split())

    assert f"at <{OWNER_EMAIL}>" in policy
    assert "never in a public issue" in policy
    offered = [channel for channel in PRIVATE_CHANNEL.values() if channel and channel in policy]
    assert offered == ([PRIVATE_CHANNEL[ci]] if PRIVATE_CHANNEL[ci] else [])


def test_a_missing_uv_is_named_with_how_to_install_it(bake: Bake, tmp_path: Path) -> None:
    project = bake(package_manager="uv")
    without_uv = [d for d in os.environ["PATH"].split(os.pathsep) if not (Path(d) / "uv").exists()]
    environment = {**os.environ, "PATH": os.pathsep.join(without_uv)}

    result = subprocess.run(
        ["make", "install", f"VENV={tmp_path / 'venv'}"],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
    )

    errors = [line for line in result.stderr.splitlines() if not line.startswith("make")]
    assert result.returncode != 0
    assert len(errors) == 1 and errors[0].startswith("error: uv is not installed"), errors
    assert "pipx install uv==" in errors[0]
    assert "python" not in errors[0].split(":")[1]  # not blamed on Python


@pytest.mark.slow
def test_pip_builds_the_service_as_the_app_package_alone(bake: Bake, tmp_path: Path) -> None:
    project = Path(shutil.copytree(bake(python_version=HOST_PYTHON), tmp_path / "service"))

    run(TOOLS / "python", "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "dist", ".",
        cwd=project)  # fmt: skip

    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = {name for name in archive.namelist() if ".dist-info/" not in name}
    assert {name.split("/")[0] for name in names} == {"app"}
    assert {"app/main.py", "app/__main__.py", "app/logging.json"} <= names
