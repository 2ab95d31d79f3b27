"""The baked CI definitions and update bots: valid by their own tools, and safe.

actionlint (with shellcheck for `run:` steps) and check-jsonschema's copies of
the published schemas judge the files; the rest reads them as parsed YAML.
"""

from __future__ import annotations

import json
import re
import shutil
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.helpers import CHOICES, TOOLS, Bake, environment_with, run

INSTALLERS = CHOICES["package_manager"]
# owner/repo[/path]@<40 hex digits> # v<version>
PINNED_ACTION = re.compile(r"^\s*(?:- )?uses: ([\w.-]+/[\w./-]+)@([0-9a-f]{40}) # (v\d+(\.\d+)*)$")


def database_for(installer: str) -> str:
    """The database the CI files of each installer's bake run their tests with: each
    choice once, not every pair (the test job's database service changes only with it)."""
    return "postgresql" if installer == "uv" else "none"


def github(bake: Bake, installer: str) -> Path:
    return bake(ci="github", package_manager=installer, database=database_for(installer))


def gitlab(bake: Bake, installer: str) -> Path:
    return bake(ci="gitlab", package_manager=installer, database=database_for(installer))


def schema_check(schema: str, *files: Path) -> None:
    run(
        TOOLS / "check-jsonschema",
        "--builtin-schema",
        f"vendor.{schema}",
        *files,
        cwd=files[0].parent,
    )


def step_using(steps: list[dict], action: str) -> dict:
    """The workflow step that uses ``action`` (owner/name, any version)."""
    return next(step for step in steps if step.get("uses", "").startswith(f"{action}@"))


def workflow(project: Path) -> dict:
    # PyYAML reads the key `on` as True, the YAML 1.1 boolean.
    return yaml.safe_load((project / ".github/workflows/ci.yml").read_text())


@pytest.mark.parametrize("installer", INSTALLERS)
def test_github_workflow_passes_actionlint(bake: Bake, installer: str) -> None:
    project = github(bake, installer)
    # actionlint runs shellcheck over every `run:` script when it finds it on PATH.
    environment = environment_with(path_first=TOOLS)
    run(
        *(TOOLS / "actionlint", "-shellcheck", TOOLS / "shellcheck"),
        project / ".github/workflows/ci.yml",
        cwd=project,
        env=environment,
    )


@pytest.mark.parametrize("installer", INSTALLERS)
def test_github_files_match_their_schemas(bake: Bake, installer: str) -> None:
    project = github(bake, installer)
    schema_check("github-workflows", project / ".github/workflows/ci.yml")
    schema_check("dependabot", project / ".github/dependabot.yml")


@pytest.mark.parametrize("installer", INSTALLERS)
def test_gitlab_files_match_their_schemas(bake: Bake, installer: str) -> None:
    project = gitlab(bake, installer)
    schema_check("gitlab-ci", project / ".gitlab-ci.yml")
    schema_check("renovate", project / "renovate.json")


@pytest.mark.parametrize("installer", INSTALLERS)
def test_every_action_is_pinned_to_a_commit_with_its_version(bake: Bake, installer: str) -> None:
    text = (github(bake, installer) / ".github/workflows/ci.yml").read_text()
    uses_lines = [line for line in text.splitlines() if "uses:" in line]
    commits: dict[str, set[str]] = {}
    for line in uses_lines:
        match = PINNED_ACTION.match(line)
        assert match, f"not pinned to a commit with its version: {line.strip()}"
        commits.setdefault(match[1], set()).add(match[2])

    assert uses_lines
    assert all(len(shas) == 1 for shas in commits.values()), commits


def tools_for(command: str, installer: str) -> set[str]:
    """What a command needs installed on a hosted runner or in a python image."""
    if re.match(r"(make\b|\.venv/bin/)", command.strip()):
        return {"python", "uv"} if installer == "uv" else {"python"}
    return set()


# How a GitHub job gets each tool: the action that installs it.
GITHUB_SETUP = {"python": "actions/setup-python", "uv": "astral-sh/setup-uv"}


@pytest.mark.parametrize("installer", INSTALLERS)
def test_every_github_job_sets_up_what_its_commands_need(bake: Bake, installer: str) -> None:
    for name, job in workflow(github(bake, installer))["jobs"].items():
        steps = job["steps"]
        for index, step in enumerate(steps):
            for tool in tools_for(step.get("run", ""), installer):
                setup = [
                    earlier
                    for earlier in steps[:index]
                    if earlier.get("uses", "").startswith(f"{GITHUB_SETUP[tool]}@")
                    and earlier.get("if") in (None, step.get("if"))
                ]
                assert setup, f"job {name!r} runs {step['run']!r} without {GITHUB_SETUP[tool]}"


@pytest.mark.parametrize("installer", INSTALLERS)
def test_every_gitlab_job_installs_what_its_commands_need(bake: Bake, installer: str) -> None:
    project = gitlab(bake, installer)
    jobs = yaml.safe_load((project / ".gitlab-ci.yml").read_text())
    for name, job in jobs.items():
        if not isinstance(job, dict) or "script" not in job:
            continue
        commands = [*job.get("before_script", []), *job["script"]]
        for index, command in enumerate(commands):
            needed = tools_for(command, installer)
            if "python" in needed:
                assert job["image"].split("/")[-1].startswith("python:"), name
            if "uv" in needed:
                assert any("install --quiet uv==" in c for c in commands[:index]), (name, command)


def test_the_image_is_built_with_buildkit_and_a_layer_cache(bake: Bake) -> None:
    jobs = workflow(github(bake, "pip"))["jobs"]
    steps = jobs["build-image"]["steps"]
    actions = [step["uses"].split("@")[0] for step in steps if "uses" in step]
    build = step_using(steps, "docker/build-push-action")["with"]

    assert actions.index("docker/setup-buildx-action") < actions.index("docker/build-push-action")
    assert build["cache-from"] == "type=gha"
    assert build["cache-to"] == "type=gha,mode=max"
    assert jobs["build-image"]["needs"] == "test"


def test_only_the_default_branch_pushes_with_attestations(bake: Bake) -> None:
    job = workflow(github(bake, "pip"))["jobs"]["build-image"]
    steps = job["steps"]
    build = step_using(steps, "docker/build-push-action")["with"]
    login = step_using(steps, "docker/login-action")
    push = "env.PUSH == 'true'"

    assert job["env"]["PUSH"] == (
        "${{ github.event_name == 'push' && "
        "github.ref_name == github.event.repository.default_branch }}"
    )
    assert login["if"] == push
    assert build["push"] == f"${{{{ {push} }}}}"
    assert build["sbom"] == f"${{{{ {push} }}}}"
    assert build["provenance"] == f"${{{{ {push} && 'mode=max' || 'false' }}}}"
    # Only this job may write packages; the workflow's default token reads.
    assert workflow(github(bake, "pip"))["permissions"] == {"contents": "read"}
    assert job["permissions"] == {"contents": "read", "packages": "write"}


def test_the_cache_mount_is_carried_between_runs(bake: Bake) -> None:
    steps = workflow(github(bake, "pip"))["jobs"]["build-image"]["steps"]
    commands = [step.get("run", step.get("uses", "").split("@")[0]) for step in steps]
    restore = commands.index("actions/cache/restore")
    build = commands.index("docker/build-push-action")
    save = commands.index("actions/cache/save")

    assert commands[restore + 1] == 'scripts/buildkit-cache.sh import "$MOUNT_CACHE"'
    assert restore + 1 < build < save
    assert commands[build + 1] == 'scripts/buildkit-cache.sh export "$MOUNT_CACHE"'
    assert commands[build + 2] == "actions/cache/save"


def test_the_run_that_pushes_restores_no_cache_another_run_wrote(bake: Bake) -> None:
    """A cache saved by a pull request's run must not reach the image that is pushed."""
    steps = workflow(github(bake, "pip"))["jobs"]["build-image"]["steps"]
    restoring = [
        s
        for s in steps
        if s.get("uses", "").startswith(("actions/cache@", "actions/cache/restore@"))
    ]

    assert restoring
    assert [s.get("if") for s in restoring] == ["env.PUSH != 'true'"] * len(restoring)
    saving = step_using(steps, "actions/cache/save")
    assert saving["if"] == "env.PUSH == 'true'"


def output_of(steps: list[dict], step_id: str, project: Path, tmp_path: Path) -> str:
    """What the step with ``step_id`` writes to $GITHUB_OUTPUT, run in ``project``."""
    (step,) = [step for step in steps if step.get("id") == step_id]
    output = tmp_path / "github-output"
    run("sh", "-c", step["run"], cwd=project, env=environment_with(GITHUB_OUTPUT=str(output)))
    return output.read_text()


def test_the_image_gets_the_version_from_pyproject_and_the_commit(
    bake: Bake, tmp_path: Path
) -> None:
    project = github(bake, "pip")
    steps = workflow(project)["jobs"]["build-image"]["steps"]

    output = output_of(steps, "version", project, tmp_path)

    version = tomllib.loads((project / "pyproject.toml").read_text())["project"]["version"]
    assert output == f"version={version}\n"
    build = step_using(steps, "docker/build-push-action")["with"]
    assert build["build-args"].splitlines() == [
        "VERSION=${{ steps.version.outputs.version }}",
        "REVISION=${{ github.sha }}",
    ]


COMMIT_TIME = "1700000000"


def committed_copy(project: Path, destination: Path) -> Path:
    """``project`` as a checkout: a git repository whose one commit was made at COMMIT_TIME."""
    checkout = Path(shutil.copytree(project, destination))
    run("git", "init", "-q", cwd=checkout)
    run(
        "git",
        *("-c", "user.name=CI", "-c", "user.email=ci@example.com", "commit", "-q"),
        *("--allow-empty", "-m", "a commit"),
        cwd=checkout,
        env=environment_with(GIT_COMMITTER_DATE=f"@{COMMIT_TIME} +0000"),
    )
    return checkout


def test_the_image_gets_the_commits_time_as_source_date_epoch(bake: Bake, tmp_path: Path) -> None:
    """BuildKit dates the image by SOURCE_DATE_EPOCH: the commit's time, not the run's."""
    project = committed_copy(github(bake, "pip"), tmp_path / "checkout")
    steps = workflow(project)["jobs"]["build-image"]["steps"]

    output = output_of(steps, "commit", project, tmp_path)

    assert output == f"time={COMMIT_TIME}\n"
    build = step_using(steps, "docker/build-push-action")
    assert build["env"] == {"SOURCE_DATE_EPOCH": "${{ steps.commit.outputs.time }}"}


def checkouts_keeping_credentials(workflow: dict) -> list[str]:
    """Jobs with a checkout that leaves the token in .git/config for later steps
    (zizmor's artipacked audit accepts an explicit `persist-credentials: true`)."""
    return [
        name
        for name, job in workflow["jobs"].items()
        for step in job["steps"]
        if step.get("uses", "").startswith("actions/checkout@")
        and step.get("with", {}).get("persist-credentials") is not False
    ]


@pytest.mark.parametrize("installer", INSTALLERS)
def test_no_checkout_leaves_the_token_behind(bake: Bake, installer: str) -> None:
    assert checkouts_keeping_credentials(workflow(github(bake, installer))) == []


@pytest.mark.parametrize("installer", INSTALLERS)
def test_zizmor_finds_nothing_in_the_github_files(bake: Bake, installer: str) -> None:
    """zizmor's strictest persona, offline (no GitHub API), with nothing ignored."""
    project = github(bake, installer)

    run(TOOLS / "zizmor", "--offline", "--persona", "pedantic", project / ".github", cwd=project)
    assert not (project / "zizmor.yml").exists() and not (project / ".github/zizmor.yml").exists()


def test_dependabot_updates_requirements_base_image_and_actions(bake: Bake) -> None:
    config = yaml.safe_load((github(bake, "pip") / ".github/dependabot.yml").read_text())
    ecosystems = {update["package-ecosystem"]: update["directory"] for update in config["updates"]}

    assert ecosystems == {"pip": "/", "docker": "/", "github-actions": "/"}
    assert_action_majors_are_proposed_together_a_week_late(config)


def assert_action_majors_are_proposed_together_a_week_late(dependabot: dict) -> None:
    """Majors of actions arrive as a pull request of their own (a new runtime is a major
    release), after the same week's cooldown as every other update."""
    (actions,) = [u for u in dependabot["updates"] if u["package-ecosystem"] == "github-actions"]
    groups = sorted(group["update-types"] for group in actions["groups"].values())

    assert groups == [["major"], ["minor", "patch"]]
    assert actions["cooldown"] == {"default-days": 7}


def test_renovate_keeps_its_default_managers(bake: Bake) -> None:
    """config:recommended turns on every manager: pip_requirements, dockerfile, gitlabci."""
    config = json.loads((gitlab(bake, "pip") / "renovate.json").read_text())

    assert "config:recommended" in config["extends"]
    assert "enabledManagers" not in config


def test_renovate_proposes_majors_together_a_week_late(bake: Bake) -> None:
    rules = json.loads((gitlab(bake, "pip") / "renovate.json").read_text())["packageRules"]
    (majors,) = [rule for rule in rules if "major" in rule.get("matchUpdateTypes", [])]

    assert majors["matchUpdateTypes"] == ["major"]
    assert majors["groupName"] and majors["minimumReleaseAge"] == "7 days"


FAKE_DOCKER = """#!/bin/sh
echo "docker $*" >> "$DOCKER_LOG"
"""


@pytest.mark.parametrize(
    ("branch", "pushes"), [("main", True), ("feature", False)], ids=["default-branch", "other"]
)
def test_gitlab_pushes_only_from_the_default_branch(
    bake: Bake, tmp_path: Path, branch: str, pushes: bool
) -> None:
    """Run the build job's script with a docker that records what it was asked."""
    project = committed_copy(gitlab(bake, "pip"), tmp_path / "checkout")
    job = yaml.safe_load((project / ".gitlab-ci.yml").read_text())["build-image"]
    fake = tmp_path / "bin" / "docker"
    fake.parent.mkdir()
    fake.write_text(FAKE_DOCKER)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    log = tmp_path / "docker.log"
    predefined = {
        "CI_PROJECT_DIR": str(project),
        "CI_REGISTRY": "registry.example.com",
        "CI_REGISTRY_IMAGE": "registry.example.com/team/my-service",
        "CI_REGISTRY_USER": "gitlab-ci-token",
        "CI_REGISTRY_PASSWORD": "job-token",
        "CI_COMMIT_SHA": "0" * 40,
        "CI_COMMIT_BRANCH": branch,
        "CI_DEFAULT_BRANCH": "main",
        "CI_PIPELINE_CREATED_AT": "2026-11-26T09:00:00Z",
        "CI_PROJECT_URL": "https://gitlab.example.com/team/my-service",
    }
    # GitLab expands the job's variables with the predefined ones.
    variables = {
        key: re.sub(r"\$(\w+)", lambda name: predefined[name[1]], value)
        for key, value in job["variables"].items()
    }
    environment = environment_with(
        path_first=fake.parent, **predefined, **variables, DOCKER_LOG=str(log)
    )
    script = "set -e\n" + "\n".join(job["before_script"] + job["script"])

    subprocess.run(["sh", "-c", script], cwd=project, env=environment, check=True)
    builds = [line for line in log.read_text().splitlines() if "buildx build" in line]
    image_build = next(line for line in builds if line.endswith(" ."))

    assert f"--build-arg SOURCE_DATE_EPOCH={COMMIT_TIME} " in image_build
    assert ("--push" in image_build) == pushes
    assert ("--sbom=true" in image_build) == pushes
    assert ("--provenance=mode=max" in image_build) == pushes
    assert "--cache-from type=registry,ref=registry.example.com/team/my-service/buildcache" in (
        image_build
    )
    version = tomllib.loads((project / "pyproject.toml").read_text())["project"]["version"]
    for build_arg in (
        f"VERSION={version}",
        f"REVISION={'0' * 40}",
        "CREATED=2026-11-26T09:00:00Z",
        "SOURCE=https://gitlab.example.com/team/my-service",
    ):
        assert f"--build-arg {build_arg} " in image_build


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_ci_runs_the_database_tests_against_its_own_postgresql(bake: Bake, ci: str) -> None:
    project = (github if ci == "github" else gitlab)(bake, "uv")
    if ci == "github":
        job = workflow(project)["jobs"]["test"]
        (service,) = job["services"].values()
        image, variables, credentials = service["image"], job["env"], service["env"]
        assert "pg_isready" in service["options"]
    else:
        job = yaml.safe_load((project / ".gitlab-ci.yml").read_text())["test"]
        (service,) = job["services"]
        image, variables, credentials = service["name"], job["variables"], job["variables"]
    address = variables["TEST_DATABASE_URL"]

    assert re.fullmatch(r"postgres:17@sha256:[0-9a-f]{64}", image)
    assert variables["REQUIRE_DATABASE"] == "1"
    assert address.startswith(f"postgresql://test:{credentials['POSTGRES_PASSWORD']}@")
    assert address.endswith(f"/{credentials['POSTGRES_DB']}")


@pytest.mark.parametrize("ci", ["github", "gitlab"])
def test_without_a_database_ci_starts_none(bake: Bake, ci: str) -> None:
    text = (
        bake(ci=ci) / (".github/workflows/ci.yml" if ci == "github" else ".gitlab-ci.yml")
    ).read_text()

    assert "postgres" not in text and "DATABASE" not in text
