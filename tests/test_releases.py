"""Releases of the template: one version, stated in cookiecutter.json and agreed on
everywhere else, and the template's own CI, checked like the baked CI files."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.helpers import ROOT, TEMPLATE_CONTEXT, TOOLS, Bake, run
from tests.test_ci import PINNED_ACTION, schema_check

VERSION = TEMPLATE_CONTEXT["_template_version"]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_the_version_is_a_release_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+", VERSION)


def test_the_changelog_has_an_unreleased_section_and_the_version_as_its_newest_release() -> None:
    changelog = (ROOT / "CHANGELOG.md").read_text()
    sections = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", changelog, re.MULTILINE)

    assert sections[0] == ("Unreleased", "")
    assert sections[1][0] == VERSION and sections[1][1]
    assert f"[{VERSION}]: " in changelog


def test_every_checkout_in_the_readmes_names_the_version(bake: Bake) -> None:
    readmes = [ROOT / "README.md", bake() / "README.md"]
    checkouts = [
        tag for path in readmes for tag in re.findall(r"--checkout (v[^\s`]+)", path.read_text())
    ]

    assert len(checkouts) >= 3
    assert set(checkouts) - {"v<release>"} == {f"v{VERSION}"}


def test_the_backstage_template_states_the_version() -> None:
    template = yaml.safe_load((ROOT / "template.yaml").read_text())

    assert template["metadata"]["annotations"]["backstage.io/template-version"] == VERSION


def test_the_templates_own_ci_runs_the_readmes_test_command_with_docker_required() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    (job,) = workflow["jobs"].values()

    assert [step["run"] for step in job["steps"] if "run" in step] == ["make test"]
    assert job["env"]["REQUIRE_DOCKER"] == "1"
    # PyYAML reads the key `on` as True, the YAML 1.1 boolean.
    assert {"pull_request", "push"} <= set(workflow[True])
    assert workflow[True]["push"]["branches"] == ["main"]


def test_the_templates_gitlab_ci_runs_the_readmes_test_command_with_docker_required() -> None:
    config = ROOT / ".gitlab-ci.yml"
    schema_check("gitlab-ci", config)
    pipeline = yaml.safe_load(config.read_text())
    job = pipeline["test"]

    assert job["script"] == ["make test"]
    assert job["variables"]["REQUIRE_DOCKER"] == "1"
    conditions = [rule["if"] for rule in pipeline["workflow"]["rules"]]
    assert '$CI_PIPELINE_SOURCE == "merge_request_event"' in conditions
    assert "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH" in conditions


def test_the_gitlab_job_runs_its_own_docker_engine_on_its_own_loopback(tmp_path) -> None:
    """The tests publish containers on 127.0.0.1: a docker:dind service would put them on
    another host. GitLab runs before_script and script as one shell script."""
    job = yaml.safe_load((ROOT / ".gitlab-ci.yml").read_text())["test"]
    script = tmp_path / "before_script.sh"
    script.write_text("#!/bin/sh\nset -e\n" + "\n".join(job["before_script"]) + "\n")

    assert "services" not in job and "DOCKER_HOST" not in job["variables"]
    assert any(line.startswith("dockerd ") and line.endswith("&") for line in job["before_script"])
    run(TOOLS / "shellcheck", script, cwd=tmp_path)


def test_the_weekly_relock_fails_when_make_lock_changes_a_lock() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "relock.yml").read_text())
    (job,) = workflow["jobs"].values()

    assert [step["run"] for step in job["steps"] if "run" in step] == [
        "make lock",
        "git diff --exit-code",
    ]
    assert workflow[True]["schedule"]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_the_templates_workflows_pass_actionlint_and_their_schema(workflow) -> None:
    run(TOOLS / "actionlint", "-shellcheck", TOOLS / "shellcheck", workflow, cwd=ROOT)
    run(
        TOOLS / "check-jsonschema",
        "--builtin-schema",
        "vendor.github-workflows",
        workflow,
        cwd=ROOT,
    )


def test_the_templates_github_files_pass_zizmor_with_nothing_ignored() -> None:
    run(TOOLS / "zizmor", "--offline", "--persona", "pedantic", ROOT / ".github", cwd=ROOT)


def test_dependabot_updates_the_templates_tools_and_actions() -> None:
    config = ROOT / ".github" / "dependabot.yml"
    run(TOOLS / "check-jsonschema", "--builtin-schema", "vendor.dependabot", config, cwd=ROOT)
    ecosystems = {
        (update["package-ecosystem"], update["directory"])
        for update in yaml.safe_load(config.read_text())["updates"]
    }

    assert ecosystems == {("pip", "/"), ("npm", "/tests/backstage"), ("github-actions", "/")}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(workflow) -> None:
    uses = [line for line in workflow.read_text().splitlines() if "uses:" in line]

    assert uses
    assert [line for line in uses if not PINNED_ACTION.match(line)] == []


def test_the_readmes_first_command_needs_no_release_tag() -> None:
    """A fresh fork has no tags: the headline command must work without one."""
    readme = (ROOT / "README.md").read_text()
    first = readme.split("```sh\n", 1)[1].split("```", 1)[0].strip()

    assert first == "cookiecutter gh:org/python-service-template"
    procedure = (ROOT / "CONTRIBUTING.md").read_text().split("## Releasing", 1)[1]
    assert "git tag vX.Y.Z && git push origin vX.Y.Z" in procedure
