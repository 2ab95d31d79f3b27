"""cookiecutter.json is the one source: `make generate` writes what restates it, and
CONTRIBUTING's recipe for a new option, followed on a copy, passes the suite's checks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from scripts.mutate import copy_of_the_repository
from tests.helpers import ROOT, TOOLS, run

GENERATE = ("scripts/generate.py",)
# The tests that hold the generated files, the rules and the tables together.
CHECKS = [
    "tests/test_validation.py",
    "tests/test_backstage.py::test_the_task_api_refuses_exactly_what_the_rules_refuse",
    "tests/test_backstage.py::test_the_table_holds_both_verdicts_for_every_key",
    "tests/test_backstage.py::test_the_form_asks_for_every_cookiecutter_key_with_its_default_and_choices",
    "tests/test_backstage.py::test_template_yaml_is_a_valid_backstage_template",
    "tests/test_inputs.py::test_every_key_that_takes_text_has_a_strategy",
    "tests/test_repository.py::test_every_prompt_is_documented_in_the_readme",
    "tests/test_generate.py::test_the_generated_files_are_up_to_date",
]


def generate_check(repository: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *GENERATE, "--check"], cwd=repository, capture_output=True, text=True
    )


def test_the_generated_files_are_up_to_date() -> None:
    result = generate_check(ROOT)

    assert result.returncode == 0, result.stderr


def edit_json(path: Path, edit) -> None:
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def add_key(context: dict, key: str, default: object, prompt: object) -> None:
    """A new prompted key with its question, after the others and before the private keys."""
    moved = {name: context.pop(name) for name in [name for name in context if name.startswith("_")]}
    context[key] = default
    context.update(moved)
    context["__prompts__"][key] = prompt


def add_choices(context: dict) -> None:
    """Step 1 for choices: a choice key and a Python version, each with its question."""
    labels = {"__prompt__": "Log format", "json": "JSON lines", "text": "Text"}
    add_key(context, "log_format", ["json", "text"], labels)
    context["python_version"].append("3.15")
    context["__prompts__"]["python_version"]["3.15"] = "3.15"


def add_free_text(context: dict) -> None:
    """Step 1 for free text: the key, its default and its question."""
    add_key(context, "team_channel", "#platform-team", "Chat channel of the owning team")


def add_options(context: dict) -> None:
    add_choices(context)
    add_free_text(context)


def add_rule(rules: Path) -> None:
    """Step 2: the free-text key's rule, an existing one."""
    text = rules.read_text()
    anchor = '    "author_email": author_email,\n'
    assert anchor in text
    rules.write_text(text.replace(anchor, anchor + '    "team_channel": one_line_text,\n'))


def add_examples(cases: Path) -> None:
    """Step 3: valid and invalid values of the free-text key."""
    text = cases.read_text()
    for table, example in [
        ("\nVALID = {\n", '    "team_channel": ["#payments", "Payments on Slack"],\n'),
        ("INVALID = {\n", '    "team_channel": [("", "must not be empty")],\n'),
    ]:
        assert table in text
        text = text.replace(table, table + example)
    cases.write_text(text)


@pytest.fixture(scope="module")
def recipe(tmp_path_factory) -> Path:
    """CONTRIBUTING's "Adding an option", steps 1-3 and `make generate`, on a copy."""
    copy = copy_of_the_repository(tmp_path_factory.mktemp("repository"))
    edit_json(copy / "cookiecutter.json", add_options)
    add_rule(copy / "{{cookiecutter.project_slug}}" / "_template" / "rules.py")
    add_examples(copy / "tests" / "cases.py")
    # This checkout's tools stand in for the copy's venv, which make would build.
    venv = TOOLS.parent
    run("make", "-o", f"{venv}/installed", "generate", f"VENV={venv}", cwd=copy)
    return copy


def test_a_changed_cookiecutter_json_makes_the_generated_files_stale(tmp_path: Path) -> None:
    copy = copy_of_the_repository(tmp_path)
    edit_json(copy / "cookiecutter.json", add_choices)

    result = generate_check(copy)

    assert result.returncode == 1
    stale = re.findall(r"^(\S+) is stale: run `make generate`", result.stderr, re.MULTILINE)
    assert stale == [
        "{{cookiecutter.project_slug}}/_template/choices.json",
        "template.yaml",
        "README.md",
    ]


def test_a_free_text_key_without_a_rule_is_named_with_the_fix(tmp_path: Path) -> None:
    copy = copy_of_the_repository(tmp_path)
    edit_json(copy / "cookiecutter.json", add_free_text)

    result = generate_check(copy)

    assert result.returncode == 2
    assert result.stderr.startswith("error: 'team_channel' in cookiecutter.json has no rule: ")
    assert "add one to RULES in {{cookiecutter.project_slug}}/_template/rules.py" in result.stderr


@pytest.mark.slow
def test_the_recipe_passes_the_checks_that_hold_the_sources_together(recipe: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", *CHECKS],
        cwd=recipe,
        capture_output=True,
        text=True,
    )

    assert result.returncode == 0, result.stdout[-5000:]
    assert " passed" in result.stdout and " failed" not in result.stdout


def test_the_recipe_reaches_the_form_the_rules_and_the_readme(recipe: Path) -> None:
    template = yaml.safe_load((recipe / "template.yaml").read_text())
    build = template["spec"]["parameters"][1]
    choices = json.loads(
        (recipe / "{{cookiecutter.project_slug}}/_template/choices.json").read_text()
    )
    readme = (recipe / "README.md").read_text()

    assert build["properties"]["log_format"]["enum"] == ["json", "text"]
    assert build["properties"]["team_channel"]["default"] == "#platform-team"
    assert "3.15" in build["properties"]["python_version"]["enum"]
    assert "3.15" in [
        rule["if"]["properties"]["python_version"]["const"] for rule in build["allOf"]
    ]
    assert choices["log_format"] == ["json", "text"]
    assert "| `team_channel` | Chat channel of the owning team | `#platform-team` |" in readme


CHECKOUT = re.compile(r"uses: actions/checkout@([0-9a-f]{40}) # (v[\d.]+)$", re.MULTILINE)


def workflows_of(repository: Path) -> list[Path]:
    return sorted(
        [
            *(repository / ".github/workflows").glob("*.yml"),
            *(repository / "{{cookiecutter.project_slug}}/.github/workflows").glob("*.yml"),
        ]
    )


def edit_text(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def checkout_row(repository: Path) -> str:
    table = (repository / "docs/actions.md").read_text()
    return next(line for line in table.splitlines() if line.startswith("| `actions/checkout` |"))


def test_a_row_of_the_action_table_reaches_every_workflow(tmp_path: Path) -> None:
    copy = copy_of_the_repository(tmp_path)
    row = checkout_row(copy)
    new_row = re.sub(r"\| v[\d.]+ \| `[0-9a-f]{40}` \|", f"| v9.9.9 | `{'b' * 40}` |", row)
    edit_text(copy / "docs/actions.md", row, new_row)

    run(sys.executable, *GENERATE, cwd=copy)

    pins = [pin for path in workflows_of(copy) for pin in CHECKOUT.findall(path.read_text())]
    assert len(pins) >= 5
    assert set(pins) == {("b" * 40, "v9.9.9")}


def test_a_workflow_pinned_apart_from_the_table_is_named_with_the_fix(tmp_path: Path) -> None:
    """Dependabot's pull request moves a workflow's pin; the table must follow."""
    copy = copy_of_the_repository(tmp_path)
    workflow = copy / ".github/workflows/ci.yml"
    (commit, release) = CHECKOUT.findall(workflow.read_text())[0]
    edit_text(workflow, f"{commit} # {release}", f"{'c' * 40} # v9.9.9")

    result = generate_check(copy)

    assert result.returncode == 1
    assert result.stderr == (
        ".github/workflows/ci.yml pins an action other than docs/actions.md says: change the"
        " table's row (release, commit, runtime), then run `make generate` and commit the result\n"
    )


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda row: row.replace("| node24 |", "| node20 |"),
            "error: `actions/checkout` <release> runs on node20 in docs/actions.md; pin a release"
            " that runs on one of node24, composite",
        ),
        (
            lambda row: "",
            "error: .github/workflows/ci.yml uses actions/checkout, which has no row in"
            " docs/actions.md: add its release, commit and runtime",
        ),
    ],
    ids=["node20", "no-row"],
)
def test_an_action_table_that_cannot_pin_the_workflows_is_refused(
    tmp_path: Path, edit, message: str
) -> None:
    copy = copy_of_the_repository(tmp_path)
    row = checkout_row(copy)
    edit_text(copy / "docs/actions.md", row + "\n", edit(row) + "\n" if edit(row) else "")
    before = {path: path.read_text() for path in workflows_of(copy)}

    result = subprocess.run([sys.executable, *GENERATE], cwd=copy, capture_output=True, text=True)

    assert result.returncode == 1
    assert result.stderr.strip() == message.replace("<release>", row.split("|")[2].strip())
    assert {path: path.read_text() for path in workflows_of(copy)} == before
