"""Bad choices are refused before anything is written, each with a message that helps."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from cookiecutter.exceptions import FailedHookException
from jinja2 import Environment

from tests.cases import EDGES, INVALID, PYTHON_TAGS, VALID
from tests.helpers import (
    CHOICES,
    ROOT,
    TEMPLATE_CONTEXT,
    default_context,
    readable,
    template_module,
)

pre = template_module("rules")


def test_every_key_of_the_template_has_a_rule() -> None:
    prompted = {key for key in TEMPLATE_CONTEXT if not key.startswith("_")}

    assert prompted == set(pre.RULES)
    assert set(VALID) == set(INVALID) == set(pre.RULES)


def test_defaults_are_valid() -> None:
    assert pre.validate(default_context()) == []


ACCEPTED = [(key, value) for key, values in VALID.items() for value in values]
REFUSED = [(key, value, words) for key, cases in INVALID.items() for value, words in cases]


@pytest.mark.parametrize(
    ("key", "value"), ACCEPTED, ids=[f"{key}={readable(value)}" for key, value in ACCEPTED]
)
def test_accepts(key: str, value: str) -> None:
    context = default_context(**{key: value})
    if key == "python_version":
        context["base_image"] = f"python:{value}-slim"

    assert pre.validate(context) == []


@pytest.mark.parametrize(
    ("key", "value", "words"),
    REFUSED,
    ids=[f"{key}={readable(value)}" for key, value, _ in REFUSED],
)
def test_refuses_naming_key_value_and_what_is_allowed(key: str, value: str, words: str) -> None:
    # The slug kept valid: a bad project_name would otherwise derive a bad one too.
    errors = pre.validate(default_context(**{"project_slug": "my-service", key: value}))

    assert len(errors) == 1
    assert errors[0].startswith(f"{key}={value!r} ")
    assert words in errors[0]


def test_reports_every_problem_at_once() -> None:
    context = default_context(port="80", app_uid="0", project_slug="Bad Slug")

    keys = [error.split("=", 1)[0] for error in pre.validate(context)]

    assert keys == ["project_slug", "port", "app_uid"]


@pytest.mark.parametrize(
    ("key", "value", "accepted"),
    EDGES,
    ids=[f"{key}={readable(value)}" for key, value, _ in EDGES],
)
def test_each_rule_judges_the_values_at_its_edges(key: str, value: str, accepted: bool) -> None:
    """Leading zeros and spaces in numbers, non-ASCII in image tags, lengths at the limit."""
    assert (pre.RULES[key](value) is None) == accepted


@pytest.mark.parametrize(
    ("base_image", "python_version", "accepted"),
    PYTHON_TAGS,
    ids=[f"{image}-for-{version}" for image, version, _ in PYTHON_TAGS],
)
def test_python_tag_of_base_image_must_match_python_version(
    base_image: str, python_version: str, accepted: bool
) -> None:
    errors = pre.validate(default_context(base_image=base_image, python_version=python_version))

    assert errors == [] if accepted else len(errors) == 1
    if not accepted:
        assert "choose one Python version for both" in errors[0]


def test_an_empty_derived_slug_names_the_project_name() -> None:
    errors = pre.validate(default_context(project_name="???", project_slug=""))

    assert errors == [
        "project_slug='' must be a DNS-1123 label, as Kubernetes, compose and Docker image"
        " names need: 1-63 characters of lowercase letters a-z, digits and '-', starting and"
        " ending with a letter or digit (e.g. 'my-service'); it is derived from"
        " project_name='???', which has no letters or digits to make one from: set"
        " project_slug."
    ]


def test_non_text_values_are_refused() -> None:
    errors = pre.validate(default_context(port=8000))

    assert errors == ["port=8000 must be text."]


@pytest.mark.parametrize(("port", "status"), [("80", 1), ("8000", 0)])
def test_the_hook_prints_every_problem_and_fails_only_when_there_is_one(
    tmp_path: Path, port: str, status: int
) -> None:
    """The hook, the second check (the template's first refuses as the directory's
    name renders), rendered with the template's ``problems`` filter alone."""
    environment = Environment()
    environment.filters["problems"] = template_module("extensions").problems
    hook = environment.from_string((ROOT / "hooks" / "pre_gen_project.py").read_text())
    script = tmp_path / "pre_gen_project.py"
    script.write_text(hook.render(cookiecutter=default_context(port=port)))

    result = subprocess.run([sys.executable, script], capture_output=True, text=True)

    assert result.returncode == status
    if status:
        assert "error: port='80' must be a whole number from 1024 to 65535" in result.stderr
        assert "Nothing was generated" in result.stderr
    else:
        assert result.stderr == ""


# One bad value per key, through cookiecutter, refused when the directory's name is
# rendered; a bad project_slug has its own test below.
REFUSED_BY_THE_HOOK = [
    (key, *INVALID[key][0]) for key in pre.RULES if key not in CHOICES and key != "project_slug"
] + [("base_image", "python:3.12-slim", "is tagged for Python 3.12")]


def assert_nothing_written(tmp_path: Path) -> None:
    """pytest-cookies' output directory (made or not, by when cookiecutter refused)
    and nothing in it."""
    written = set(tmp_path.rglob("*")) - {tmp_path / "cookies", tmp_path / "cookies" / "bake00"}
    assert written == set()


@pytest.mark.parametrize(
    ("key", "value", "words"),
    REFUSED_BY_THE_HOOK,
    ids=[f"{key}={readable(value)}" for key, value, _ in REFUSED_BY_THE_HOOK],
)
def test_cookiecutter_refuses_and_leaves_no_directory(
    cookies, tmp_path: Path, key: str, value: str, words: str
) -> None:
    result = cookies.bake(extra_context={key: value}, template=str(ROOT))

    assert isinstance(result.exception, FailedHookException)
    told = str(result.exception)
    assert f"{key}={value!r} " in told
    assert words in told
    assert told.endswith("\nNothing was generated; run cookiecutter again with these fixed.")
    assert_nothing_written(tmp_path)


@pytest.mark.parametrize("key", sorted(CHOICES))
def test_cookiecutter_itself_refuses_a_value_outside_a_choice(cookies, key: str) -> None:
    """Choice keys are checked by cookiecutter before any template code runs."""
    result = cookies.bake(extra_context={key: "not-a-choice"}, template=str(ROOT))

    assert isinstance(result.exception, ValueError)
    assert f"choice variable {key}, but the choices are" in str(result.exception)


@pytest.mark.parametrize("slug", ["Bad_Slug", "a/b", "../escape", "x/../../y"])
def test_a_bad_slug_is_refused_before_the_project_directory_exists(
    cookies, tmp_path: Path, slug: str
) -> None:
    """cookiecutter creates the project directory before the pre-generation hook
    runs, so the template checks the answers when it renders the directory's name."""
    result = cookies.bake(extra_context={"project_slug": slug}, template=str(ROOT))

    assert isinstance(result.exception, FailedHookException)
    assert f"project_slug={slug!r} must be a DNS-1123 label" in str(result.exception)
    assert_nothing_written(tmp_path)


def test_the_command_line_prints_the_problems_and_one_line_more(tmp_path: Path) -> None:
    """What a person sees: no context dump, no traceback."""
    command = [sys.executable, "-m", "cookiecutter", str(ROOT), "--no-input"]
    command += ["-o", str(tmp_path / "out"), "project_slug=Bad_Slug", "port=80"]

    result = subprocess.run(command, capture_output=True, text=True)

    lines = (result.stdout + result.stderr).splitlines()
    assert result.returncode == 1
    assert [line.split("=", 1)[0] for line in lines] == [
        "error: project_slug",
        "error: port",
        "Nothing was generated; run cookiecutter again with these fixed.",
    ]
    assert not (tmp_path / "out").exists()
