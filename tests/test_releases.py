"""Releases of the template: one version, stated in cookiecutter.json and agreed on
everywhere else, and the template's own CI, checked like the baked CI files."""

from __future__ import annotations

import re

import pytest
import yaml
from markdown_it import MarkdownIt

from tests.helpers import ROOT, TEMPLATE_CONTEXT, TOOLS, Bake, run
from tests.test_ci import (
    PINNED_ACTION,
    assert_action_majors_are_proposed_together_a_week_late,
    checkouts_keeping_credentials,
    schema_check,
)

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
    readmes = [ROOT / "README.md", *(bake() / "docs").glob("*.md")]
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
    assert_action_majors_are_proposed_together_a_week_late(yaml.safe_load(config.read_text()))


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(workflow) -> None:
    uses = [line for line in workflow.read_text().splitlines() if "uses:" in line]

    assert uses
    assert [line for line in uses if not PINNED_ACTION.match(line)] == []


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_no_checkout_of_the_templates_ci_leaves_the_token_behind(workflow) -> None:
    assert checkouts_keeping_credentials(yaml.safe_load(workflow.read_text())) == []


def action_table() -> dict[str, tuple[str, str, str]]:
    """docs/actions.md's table, as a Markdown reader sees it: repository of the action
    -> (release, commit, runtime)."""
    tokens = MarkdownIt("commonmark").enable("table").parse((ROOT / "docs/actions.md").read_text())
    rows: list[list[str]] = []
    row: list[str] | None = None
    for token in tokens:
        if token.type == "inline" and row is not None:
            row.append(token.content)
        elif token.type == "tr_open":
            row = []
        elif token.type == "tr_close":
            rows.append(row)
            row = None
    header, *body = rows
    assert header == ["action", "release", "commit", "runtime"]
    return {
        action.split()[0].strip("`"): (release, commit.strip("`"), runtime)
        for action, release, commit, runtime in body
    }


def pins_in(text: str) -> set[tuple[str, str, str]]:
    """(repository of the action, commit, release) of every `uses:` line."""
    pins = set()
    for line in text.splitlines():
        if "uses:" in line:
            match = PINNED_ACTION.match(line)
            assert match, line
            pins.add(("/".join(match[1].split("/")[:2]), match[2], match[3]))
    return pins


def test_every_workflow_pins_each_action_to_its_row_in_the_table(bake: Bake) -> None:
    """The template's own workflows and every baked GitHub workflow, against one table;
    a row no workflow uses would be a stale record."""
    table = action_table()
    baked = [bake(ci="github", package_manager=installer) for installer in ("pip", "uv")]
    workflows = [*WORKFLOWS, *(project / ".github/workflows/ci.yml" for project in baked)]
    pins = {path: pins_in(path.read_text()) for path in workflows}

    for path, used in pins.items():
        assert {(action, commit, release) for action, commit, release in used} == {
            (action, table[action][1], table[action][0]) for action, _, _ in used
        }, path
    assert set().union(*pins.values()) == {
        (action, commit, release) for action, (release, commit, _) in table.items()
    }


def test_every_action_in_the_table_runs_on_node_24() -> None:
    """GitHub is retiring Node 20: an action still on it stops running."""
    assert {action: runtime for action, (_, _, runtime) in action_table().items()} == {
        action: "node24" for action in action_table()
    }


def test_the_readmes_first_command_needs_no_release_tag() -> None:
    """A fresh fork has no tags: the headline command must work without one."""
    readme = (ROOT / "README.md").read_text()
    first = readme.split("```sh\n", 1)[1].split("```", 1)[0].strip()

    assert first == "cookiecutter gh:org/python-service-template"
    procedure = (ROOT / "CONTRIBUTING.md").read_text().split("## Releasing", 1)[1]
    assert "git tag vX.Y.Z && git push origin vX.Y.Z" in procedure
