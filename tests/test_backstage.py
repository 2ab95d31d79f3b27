"""The Backstage template refuses what the hooks refuse, and both files are valid Backstage.

Backstage's fetch:cookiecutter runs no hooks, so template.yaml's parameter schema
must give the pre-generation hook's verdict on every value, and its fs:delete
steps must remove what the post-generation hook removes. The schemas in
tests/schemas/backstage/ are Backstage's own (see SOURCE.md there). Patterns are
matched as ECMAScript regular expressions with the `u` flag, as the portal does.
"""

from __future__ import annotations

import json
import re

import pytest
import regress
import yaml
from jsonschema import Draft7Validator, ValidationError, validators
from referencing import Registry, Resource

from hooks import post_gen_project as post
from hooks import pre_gen_project as pre
from tests.helpers import CHOICES, ROOT, Bake, case_id
from tests.test_validation import INVALID, VALID, defaults

SCHEMAS = ROOT / "tests" / "schemas" / "backstage"
TEMPLATE = yaml.safe_load((ROOT / "template.yaml").read_text())
INTEGER_KEYS = ("port", "app_uid", "app_gid")


def ecma_pattern(validator, pattern: str, instance, schema):
    if isinstance(instance, str) and regress.Regex(pattern, "u").find(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


# Draft 7, as Backstage's schemas declare, with the portal's regular expressions.
Validator = validators.extend(Draft7Validator, {"pattern": ecma_pattern})


def backstage_validator(schema_file: str) -> Draft7Validator:
    resources = [
        Resource.from_contents(json.loads(path.read_text())) for path in SCHEMAS.glob("*.json")
    ]
    registry = Registry().with_resources((r.id(), r) for r in resources)
    return Validator(json.loads((SCHEMAS / schema_file).read_text()), registry=registry)


PARAMETERS = Validator({"allOf": TEMPLATE["spec"]["parameters"][:2]})


def as_submitted(key: str, value: str):
    """The value as the portal submits it: integer fields send JSON numbers."""
    if key in INTEGER_KEYS and re.fullmatch(r"-?(0|[1-9][0-9]*)", value):
        return int(value)
    return value


def portal_accepts(context: dict[str, str]) -> bool:
    submitted = {key: as_submitted(key, value) for key, value in context.items()}
    return PARAMETERS.is_valid(submitted)


def hook_accepts(context: dict[str, str]) -> bool:
    return pre.validate(context) == []


def context_with(key: str, value: str) -> dict[str, str]:
    context = {**defaults(), key: value}
    if key == "python_version":
        context["base_image"] = f"python:{value}-slim"
    return context


# One table for both: test_validation.py's valid and invalid values, values near
# the edges of each rule, and the python tag of base_image against python_version.
EDGES = [
    ("project_name", "trailing\u00a0"),
    ("project_name", "\u2028"),
    ("project_name", "tab\tinside"),
    ("project_name", "é" * pre.MAX_TEXT),
    ("description", " "),
    ("author_email", "zoë@exämple.com"),
    ("author_email", "a@b.c."),
    ("port", " 8000"),
    ("port", "08000"),
    ("port", "8000.5"),
    ("app_uid", "1000"),
    ("app_gid", "65535"),
    ("base_image", "python:3.13-slimé"),
    ("base_image", "a" * 255 + ":tag"),
    ("base_image", "a" * 256 + ":tag"),
    ("base_image", "registry.example.com:5000/" + "a" * 230 + ":3.13"),
    ("uv_image", "ghcr.io/astral-sh/uv:0.13.8@sha256:" + "a" * 64),
    ("uv_image", "ghcr.io/astral-sh/uv:0.13"),
    ("dockerfile_frontend", ""),
]
TABLE = [
    *((key, value) for key, values in VALID.items() for value in values),
    *((key, value) for key, cases in INVALID.items() for value, _ in cases),
    *EDGES,
]
PYTHON_TAGS = [
    ("python:3.12-slim", "3.13"),
    ("python:3.13.1-slim-bookworm", "3.13"),
    ("python:3.13", "3.13"),
    ("python:3.131", "3.13"),
    ("mirror.example.com/python:3.11-alpine", "3.13"),
    ("python:3.11@sha256:" + "0" * 64, "3.11"),
    ("python:3.12@sha256:" + "0" * 64, "3.11"),
    ("python:slim", "3.13"),
    ("company/base:2024.10", "3.13"),
    ("python:5000/python:3.12", "3.14"),
]


@pytest.mark.parametrize(("key", "value"), TABLE, ids=lambda v: repr(v)[:40])
def test_the_portal_and_the_hook_agree_on_each_value(key: str, value: str) -> None:
    context = context_with(key, value)

    assert portal_accepts(context) == hook_accepts(context), pre.validate(context)


@pytest.mark.parametrize(("base_image", "python_version"), PYTHON_TAGS)
def test_the_portal_and_the_hook_agree_on_the_python_tag(
    base_image: str, python_version: str
) -> None:
    context = {**defaults(), "base_image": base_image, "python_version": python_version}

    assert portal_accepts(context) == hook_accepts(context), pre.validate(context)


def test_the_table_holds_both_verdicts_for_every_key() -> None:
    for key in pre.RULES:
        verdicts = {hook_accepts(context_with(k, v)) for k, v in TABLE if k == key}
        assert verdicts == {True, False} or (key in CHOICES and verdicts), key


def test_the_parameters_are_the_cookiecutter_keys_with_their_defaults() -> None:
    properties = {}
    for page in TEMPLATE["spec"]["parameters"][:2]:
        properties.update(page["properties"])

    assert sorted(properties) == sorted(pre.RULES)
    submitted = {key: as_submitted(key, value) for key, value in defaults().items()}
    assert {key: spec["default"] for key, spec in properties.items()} == submitted
    for key in pre.RULES.keys() & CHOICES.keys():
        assert properties[key]["enum"] == CHOICES[key]


def test_cookiecutter_gets_every_parameter() -> None:
    (fetch,) = [
        step for step in TEMPLATE["spec"]["steps"] if step["action"] == "fetch:cookiecutter"
    ]

    assert fetch["input"]["values"] == {key: f"${{{{ parameters.{key} }}}}" for key in pre.RULES}


def test_the_steps_remove_what_the_post_generation_hook_removes() -> None:
    deletes = {
        step["input"]["files"][0]: step["if"]
        for step in TEMPLATE["spec"]["steps"]
        if step["action"] == "fs:delete"
    }

    assert set(deletes) == set(post.OPTIONAL_PATHS)
    for path, (key, keep) in post.OPTIONAL_PATHS.items():
        unless = " and ".join(f"parameters.{key} != '{value}'" for value in keep)
        assert deletes[path] == f"${{{{ {unless} }}}}"


def test_template_yaml_is_a_valid_backstage_template() -> None:
    errors = list(backstage_validator("Template.v1beta3.schema.json").iter_errors(TEMPLATE))

    assert errors == []


def test_an_invalid_template_is_refused() -> None:
    broken = {**TEMPLATE, "spec": {**TEMPLATE["spec"], "steps": [{"id": "x"}]}}

    assert not backstage_validator("Template.v1beta3.schema.json").is_valid(broken)


@pytest.mark.parametrize(
    "extra", [{}, {"author_name": "???", "project_name": 'Zoë\'s: "quoted" service'}], ids=case_id
)
def test_catalog_info_is_a_valid_backstage_component(bake: Bake, extra: dict) -> None:
    entity = yaml.safe_load((bake(**extra) / "catalog-info.yaml").read_text())
    validator = backstage_validator("Component.v1alpha1.schema.json")

    assert list(validator.iter_errors(entity)) == []
    assert entity["metadata"]["name"] == bake(**extra).name
    assert re.fullmatch(r"group:default/[a-z0-9]([a-z0-9-]*[a-z0-9])?", entity["spec"]["owner"])


def test_the_schemas_are_backstages() -> None:
    source = (SCHEMAS / "SOURCE.md").read_text()

    for path in SCHEMAS.glob("*.json"):
        assert path.name in source
