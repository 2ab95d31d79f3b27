"""The template repository keeps its promises to maintainers and newcomers."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from harness import docker as docker_module
from harness.docker import BuildCacheLedger, Docker
from tests.helpers import ROOT, TEMPLATE_CONTEXT, TOOLS, run

PROMPTED = [key for key in TEMPLATE_CONTEXT if not key.startswith("_")]


def test_every_prompt_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    documented = re.findall(r"^\| (`[a-z_]+`(?:, `[a-z_]+`)*) \|", readme, re.MULTILINE)
    keys = {key.strip("`") for row in documented for key in row.split(", ")}

    assert set(PROMPTED) <= keys


def test_every_prompt_has_a_question() -> None:
    assert set(TEMPLATE_CONTEXT["__prompts__"]) == set(PROMPTED)


def test_readme_gives_two_setup_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text()
    setup = readme.split("## Set up", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in setup.splitlines()]

    assert commands == ["make bake", "make test"]
    assert "\nmake test\n" in (ROOT / ".ci" / "run").read_text()


def test_template_code_is_lint_clean() -> None:
    # The template's own code inside the project template, which the root's
    # settings exclude with the rest of that directory, is named explicitly.
    code = ["--config", "pyproject.toml", ".", "{{cookiecutter.project_slug}}/_template"]
    run(TOOLS / "ruff", "check", *code, cwd=ROOT)
    run(TOOLS / "ruff", "format", "--check", *code, cwd=ROOT)


def test_template_files_keep_lf_endings() -> None:
    files = [".ci/run", "scripts/lock.py", "{{cookiecutter.project_slug}}/Dockerfile"]

    report = run("git", "check-attr", "eol", "--", *files, cwd=ROOT)

    assert report.stdout.splitlines() == [f"{name}: eol: lf" for name in files]


def test_make_bake_tells_the_path_it_baked_to(tmp_path: Path) -> None:
    """The README's first command (into a directory of the test's own, so a
    newcomer's out/ is left alone); its "Next:" lines must work when copied."""
    out = tmp_path / "out"
    baked = run("make", "bake", f"OUT={out}", cwd=ROOT)

    assert f"    cd {os.path.relpath(out / 'my-service', ROOT)}\n" in baked.stdout
    assert (out / "my-service" / "Dockerfile").is_file()


def test_a_second_make_bake_keeps_the_first_and_says_why(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run("make", "bake", f"OUT={out}", cwd=ROOT)
    edited = out / "my-service" / "app" / "main.py"
    edited.write_text("# my edits\n")

    again = subprocess.run(
        ["make", "bake", f"OUT={out}"], cwd=ROOT, capture_output=True, text=True, check=False
    )

    assert again.returncode != 0
    assert 'my-service" directory already exists' in again.stdout + again.stderr
    assert edited.read_text() == "# my edits\n"


# A path as CONTRIBUTING.md writes one: with a directory, or a file name with an extension.
PATH_LIKE = re.compile(r"[\w.{}-]+(?:/[\w.{}-]*)+|[\w.{}-]+\.[a-z]+")


def test_every_path_contributing_names_exists() -> None:
    """Paths are the repository's, a test file's (in tests/) or a baked file's (in the
    project template)."""
    text = (ROOT / "CONTRIBUTING.md").read_text()
    named = {token for token in re.findall(r"`([^`\s]+)`", text) if PATH_LIKE.fullmatch(token)}
    places = [ROOT, ROOT / "tests", ROOT / "{{cookiecutter.project_slug}}"]
    made = made_by_the_build()

    assert len(named) > 30
    assert [
        path
        for path in sorted(named)
        if not any((p / path).exists() for p in places)
        and not any(path == m or path.startswith(f"{m}/") for m in made)
    ] == []


def made_by_the_build() -> tuple[str, ...]:
    """What `make clean` removes: paths the build makes, which a fresh clone lacks."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nclean:", 1)[1].split("\n\t", 1)[1].split("\n", 1)[0]
    paths = recipe.replace("$(VENV)", ".venv").replace("$(BACKSTAGE)", "tests/backstage")
    return tuple(paths.split()[2:])  # after `rm -rf`


# What would aim traffic at a container's bridge address, or empty every project's
# build cache on the user's engine: a prune is only ever of records named by id
# (harness.docker.BuildCacheLedger).
OFF_LIMITS = {
    "a container's address": re.compile(r"\.IPAddress|NetworkSettings|\.Gateway"),
    "a global cache prune": re.compile(r'(builder|system)\W+prune(?!.*--filter\W+f?"?id=)'),
}


def test_tests_and_benchmarks_stay_on_loopback_and_prune_nothing() -> None:
    """Containers are reached on 127.0.0.1 (harness.docker.Container.url), and
    caches are emptied by id (harness.docker.empty_cache_mount) and records removed
    by id (harness.docker.BuildCacheLedger), never globally."""
    files = run("git", "ls-files", "tests/*.py", "harness", "benchmarks", ".ci", cwd=ROOT)
    found = [
        f"{path}:{number}: {what}"
        for path in files.stdout.split()
        for number, line in enumerate((ROOT / path).read_text().splitlines(), 1)
        for what, pattern in OFF_LIMITS.items()
        if pattern.search(line) and path != "tests/test_repository.py"
    ]

    assert len(files.stdout.split()) > 20
    assert found == []


def test_an_engine_whose_cli_cannot_build_skips_the_docker_tests_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A current docker CLI without buildx answers `info` (the engine's clock among
    it) and lists the build cache (`system df`), but fails every build.

    Its probe build takes a builder lock and a ledger of its own: this session's
    Docker tests, on another worker, hold the suite's lock for minutes at a time."""
    monkeypatch.setattr(docker_module, "BUILDER_LOCK", tmp_path / "builder.lock")
    monkeypatch.setattr(docker_module, "BUILDS_HERE", BuildCacheLedger())
    cli = tmp_path / "docker"
    cli.write_text(
        "#!/bin/sh\n"
        'case "$1" in info) date -u +%FT%T.000000000Z; exit 0;; system) echo "[]"; exit 0;; esac\n'
        "echo 'ERROR: BuildKit is enabled but the buildx component is missing or broken.' >&2\n"
        "exit 1\n"
    )
    cli.chmod(0o755)

    reason = Docker(str(cli)).unreachable()

    assert reason is not None
    assert "cannot build with BuildKit" in reason and "buildx component is missing" in reason


def benchmark_medians() -> dict[str, dict[str, float]]:
    """docs/benchmarks.md's first table: figure -> variant -> median."""
    text = (ROOT / "docs" / "benchmarks.md").read_text()
    table = text.split("| figure | reference | template-pip | template-uv |", 1)[1]
    rows = {}
    for line in table.split("\n\n", 1)[0].splitlines()[2:]:
        figure, *cells = [cell.strip() for cell in line.strip("|").split("|")]
        medians = [float(cell.split(" ")[0]) for cell in cells]
        rows[figure] = dict(zip(("reference", "template-pip", "template-uv"), medians, strict=True))
    return rows


def test_the_readmes_figures_are_the_benchmarks_medians() -> None:
    """Every figure README.md quotes, as docs/benchmarks.md's table has it."""
    rows = benchmark_medians()
    readme = " ".join((ROOT / "README.md").read_text().split())
    code = rows["code change: new layers (kB)"]
    cold = rows["cold build (s)"]
    size = rows["image over base (MB)"]
    start = rows["start to first 200 (s)"]
    slow_start = rows["start to first 200, --cpus=0.5 (s)"]
    templates = ("template-pip", "template-uv")

    claims = [
        f"ships {code['template-pip']:.0f} kB instead of the reference's"
        f" {code['reference'] / 1000:.0f} MB layer",
        f"uv builds cold {cold['reference'] / cold['template-uv']:.1f}x faster",
        f"both template images are {min(size['reference'] - size[t] for t in templates):.0f} MB"
        " smaller",
        f"answers `/health` {max(start[t] for t in templates):.1f} s after `docker run`"
        f" ({max(slow_start[t] for t in templates):.1f} s with half a CPU)",
    ]
    assert [claim for claim in claims if claim not in readme] == []
    assert "Measured against the recommended Dockerfile on 2026-12-03" in readme
    assert "Measured 2026-12-03" in (ROOT / "docs" / "benchmarks.md").read_text()


def collected(*options: str) -> set[str]:
    """The test functions pytest collects with ``options`` (parameters left out)."""
    output = run(
        sys.executable, "-m", "pytest", "--collect-only", "-q", "-n0", *options, cwd=ROOT
    ).stdout
    return {line.split("[")[0] for line in output.splitlines() if "::" in line}


def test_make_test_fast_leaves_out_the_docker_and_slow_tests_and_keeps_the_rest() -> None:
    recipe = run("make", "--dry-run", "test-fast", cwd=ROOT).stdout
    (command,) = [line for line in recipe.splitlines() if "pytest" in line]
    assert "HYPOTHESIS_PROFILE=${HYPOTHESIS_PROFILE:-fast}" in command
    selection = shlex.split(command.split("pytest", 1)[1])

    fast, everything = collected(*selection), collected()

    slow_or_docker = everything - fast
    assert "tests/test_bake.py::test_make_test_works_on_a_fresh_checkout" in slow_or_docker
    assert "tests/test_docker.py::test_runs_as_the_configured_non_root_user" in slow_or_docker
    assert "tests/test_bake.py::test_the_default_project_passes_its_own_lint_and_tests" in fast
    # Every file keeps tests in the loop but those that only build images or run
    # whole programs.
    files = {name.split("::")[0] for name in fast}
    assert {name.split("::")[0] for name in everything} - files == {
        "tests/test_cruft.py",
        "tests/test_docker.py",
        "tests/test_docker_database.py",
        "tests/test_build_cache.py",
        "tests/test_instructions.py",
        "tests/test_private_index.py",
        "tests/test_suite.py",
    }
