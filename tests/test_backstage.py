"""The portal bakes the CLI's service, runs no value as code, and refuses what the CLI refuses.

template.yaml runs through tests/backstage/scaffold.cjs: the Backstage scaffolder
backend's own code (the task API's parameter check, the workflow runner that
renders `${{ }}` and step `if`s, and the real fetch:cookiecutter and fs:delete
actions), with this venv's cookiecutter first on PATH as on a scaffolder host.
Only publish:github and catalog:register are stand-ins: publish copies the
workspace it would push, register records what it would register. The schemas
in tests/schemas/backstage/ are Backstage's own (see SOURCE.md there), and
tests/backstage/catalog.cjs checks entities with the catalog's own code.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource

from tests.cases import COMBINATIONS, PYTHON_TAGS, TABLE
from tests.helpers import (
    CHOICES,
    ROOT,
    TEMPLATE_CONTEXT,
    TOOLS,
    Bake,
    case_id,
    catalog_entities,
    default_context,
    fresh_bake,
    published_files,
    template_module,
)
from tests.test_inputs import COST_REFUSALS, EXHAUSTING, PROBE

pre = template_module("rules")
SCHEMAS = ROOT / "tests" / "schemas" / "backstage"
SCAFFOLDER = ROOT / "tests" / "backstage"
TEMPLATE = yaml.safe_load((ROOT / "template.yaml").read_text())
INTEGER_KEYS = ("port", "app_uid", "app_gid")
# Keys of the form that are not cookiecutter keys.
FORM_ONLY = ("omit_syntax_line", "repoUrl")
REPO_URL = "github.com?owner=platform&repo=service"
# The template repository's own files, which no service gets (a service has a
# docs/ of its own, so the template's pages are named one by one).
TEMPLATE_CODE = (
    "_template",
    "hooks",
    "tests/backstage",
    "template.yaml",
    "cookiecutter.json",
    "local_extensions.py",
    "CONTRIBUTING.md",
    *(page.relative_to(ROOT).as_posix() for page in (ROOT / "docs").glob("*.md")),
    "benchmarks",
)


def backstage_validator(schema_file: str) -> Draft7Validator:
    resources = [
        Resource.from_contents(json.loads(path.read_text())) for path in SCHEMAS.glob("*.json")
    ]
    registry = Registry().with_resources((r.id(), r) for r in resources)
    return Draft7Validator(json.loads((SCHEMAS / schema_file).read_text()), registry=registry)


def run_node(script: str, *args: str | Path, stdin: str | None = None, **kwargs: Any) -> Any:
    """Run one of tests/backstage's scripts with Backstage's packages; its JSON answer."""
    if not (SCAFFOLDER / "node_modules").is_dir():
        pytest.fail("Backstage's packages are not installed: run `make test`, which installs them")
    result = subprocess.run(
        ["node", SCAFFOLDER / script, *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def scaffold(requests: list[dict[str, Any]] | dict[str, Any], path_first: Path) -> Any:
    """Run scaffold.cjs; ``path_first`` leads PATH, so its cookiecutter is the host's."""
    environment = {**os.environ, "PATH": f"{path_first}{os.pathsep}{os.environ['PATH']}"}
    return run_node("scaffold.cjs", stdin=json.dumps(requests), env=environment)


def catalog_problems(*files: Path) -> dict[str, list[str]]:
    """What Backstage's catalog refuses in each file (catalog.cjs, the catalog's own code)."""
    return run_node("catalog.cjs", *files)


def as_submitted(key: str, value: str):
    """The value as the portal submits it: integer fields send JSON numbers."""
    if key in INTEGER_KEYS and re.fullmatch(r"-?(0|[1-9][0-9]*)", value):
        return int(value)
    return value


def portal_verdicts(contexts: list[dict[str, str]]) -> list[list[str]]:
    """The task API's errors for each context, from the backend's own check."""
    submitted = [
        {"repoUrl": REPO_URL, **{key: as_submitted(key, value) for key, value in c.items()}}
        for c in contexts
    ]
    request = {"template": str(ROOT / "template.yaml"), "validate": submitted}
    return scaffold(request, TOOLS)["errors"]


CASES = [
    *(default_context(**{key: value}) for key, value in TABLE),
    *(default_context(base_image=image, python_version=v) for image, v, _ in PYTHON_TAGS),
]


@pytest.mark.slow
def test_the_task_api_refuses_exactly_what_the_rules_refuse() -> None:
    verdicts = portal_verdicts(CASES)

    disagreements = [
        {"context": case, "portal": errors, "rules": pre.validate(case)}
        for case, errors in zip(CASES, verdicts, strict=True)
        if (errors == []) != (pre.validate(case) == [])
    ]
    assert disagreements == []


def test_the_table_holds_both_verdicts_for_every_key() -> None:
    for key in pre.RULES:
        verdicts = {pre.validate(default_context(**{k: v})) == [] for k, v in TABLE if k == key}
        assert verdicts == {True, False} or (key in CHOICES and verdicts), key


def form_properties() -> dict[str, dict]:
    return {
        key: spec
        for page in TEMPLATE["spec"]["parameters"]
        for key, spec in page["properties"].items()
    }


def test_the_form_asks_for_every_cookiecutter_key_with_its_default_and_choices() -> None:
    properties = form_properties()

    assert sorted(properties) == sorted([*pre.RULES, *FORM_ONLY])
    cli_defaults = {key: as_submitted(key, value) for key, value in default_context().items()}
    # The slug and the base image are derived from other answers when left empty.
    for key in pre.RULES.keys() - {"project_slug", "base_image"}:
        assert properties[key]["default"] == cli_defaults[key], key
    for key in pre.RULES.keys() & CHOICES.keys():
        assert properties[key]["enum"] == CHOICES[key]


def test_the_template_version_is_the_one_every_bake_records() -> None:
    annotations = TEMPLATE["metadata"]["annotations"]
    (fetch,) = [s for s in TEMPLATE["spec"]["steps"] if s["action"] == "fetch:cookiecutter"]

    assert annotations["backstage.io/template-version"] == TEMPLATE_CONTEXT["_template_version"]
    assert fetch["input"]["values"]["_template_version"] == TEMPLATE_CONTEXT["_template_version"]
    ref = f"template:default/{TEMPLATE['metadata']['name']}"
    assert TEMPLATE_CONTEXT["_template_ref"] == fetch["input"]["values"]["_template_ref"] == ref


# The form's answers as the frontend submits them: its defaults, then the
# user's changes. A field left empty is not submitted at all. Together the
# cases cover every value of every choice key.
FORM_DEFAULTS = {
    **{key: spec["default"] for key, spec in form_properties().items() if "default" in spec},
    "repoUrl": REPO_URL,
}
ANSWERS = {
    "form-defaults": {},
    "uv-gitlab-helm": {
        "repoUrl": "gitlab.com?owner=platform%2Fpayments&repo=service",
        "python_version": "3.14",
        "package_manager": "uv",
        "ci": "gitlab",
        "kubernetes": "helm",
        "database": "postgresql",
    },
    "no-ci-no-deploy-no-tracing-no-syntax-line": {
        "python_version": "3.12",
        "ci": "none",
        "kubernetes": "none",
        "tracing": "none",
        "omit_syntax_line": True,
        "port": 9000,
        "app_uid": 2000,
        "app_gid": 3000,
    },
    "mirrors-and-quoted-text": {
        "python_version": "3.11",
        "package_manager": "uv",
        "project_name": 'Zoë\'s "Payments": API',
        "project_slug": "payments",
        "description": "Takes: {money} & <gives> it back.",
        "base_image": "mirror.example.com/python:3.11-slim-bookworm",
        "uv_image": "mirror.example.com/astral/uv:0.14.0@sha256:" + "f" * 64,
    },
    "slug-and-base-image-left-empty": {"project_name": "Billing Gateway 2", "description": ""},
}


def cli_context(answers: dict[str, Any]) -> dict[str, str]:
    """The cookiecutter --no-input values that mean the same as these form answers."""
    form = {**FORM_DEFAULTS, **answers}
    if form.pop("omit_syntax_line"):
        form["dockerfile_frontend"] = ""
    form["_repository"] = repository_of(form.pop("repoUrl"))
    return {key: str(value) for key, value in form.items()}


def repository_of(repo_url: str) -> str:
    """The repository's path that RepoUrlPicker's value names: owner/name."""
    query = urllib.parse.parse_qs(repo_url.split("?", 1)[1])
    return f"{query['owner'][0]}/{query['repo'][0]}"


def portal_bake(answers: dict[str, dict[str, Any]], out: Path, **request: Any) -> dict[str, dict]:
    """Scaffold each named set of answers with template.yaml; the published tree
    goes to out/<name>."""
    requests = [
        {
            "template": str(ROOT / "template.yaml"),
            "values": {**FORM_DEFAULTS, **each},
            "outputDir": str(out / name),
            **request,
        }
        for name, each in answers.items()
    ]
    return dict(zip(answers, scaffold(requests, TOOLS), strict=True))


# The tests that read the portal's bakes run on one xdist worker: each worker would
# otherwise run every answer set through the scaffolder for its share of them.
on_the_portals_worker = pytest.mark.xdist_group("portal")


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> tuple[dict[str, dict], Path]:
    out = tmp_path_factory.mktemp("portal")
    return portal_bake(ANSWERS, out), out


def test_the_answer_sets_cover_every_value_of_every_choice_key() -> None:
    chosen = {
        key: {str({**FORM_DEFAULTS, **answers}[key]) for answers in ANSWERS.values()}
        for key in CHOICES
    }

    assert chosen == {key: set(values) for key, values in CHOICES.items()}


@pytest.mark.slow
@on_the_portals_worker
@pytest.mark.parametrize("name", ANSWERS)
def test_the_portal_publishes_exactly_what_the_cli_bakes(
    portal: tuple[dict[str, dict], Path], name: str, tmp_path: Path
) -> None:
    results, out = portal
    result = results[name]

    assert result["ok"], result.get("error", "") + "\n".join(result["log"][-20:])
    published = published_files(out / name)
    baked = published_files(fresh_bake(tmp_path, **cli_context(ANSWERS[name])))
    assert sorted(published) == sorted(baked)
    assert [path for path in baked if published[path] != baked[path]] == []


@pytest.mark.slow
@on_the_portals_worker
def test_the_service_lands_at_the_root_without_the_templates_files(
    portal: tuple[dict[str, dict], Path],
) -> None:
    results, out = portal

    for name, result in results.items():
        published = out / name
        assert result["catalog"]["catalogInfoPath"] == "/catalog-info.yaml"
        assert (published / "catalog-info.yaml").is_file()
        assert (published / "Dockerfile").is_file()
        assert [path for path in TEMPLATE_CODE if (published / path).exists()] == []


@pytest.mark.slow
@on_the_portals_worker
@pytest.mark.parametrize("name", ANSWERS)
def test_the_portal_publishes_where_ci_runs_and_the_catalog_names_that_repository(
    portal: tuple[dict[str, dict], Path], name: str
) -> None:
    results, out = portal
    answers = {**FORM_DEFAULTS, **ANSWERS[name]}
    host = "gitlab.com" if answers["ci"] == "gitlab" else "github.com"
    picker = TEMPLATE["spec"]["parameters"][-1]["properties"]["repoUrl"]

    published = results[name]["published"]
    annotations = catalog_entities(out / name)["Component"]["metadata"]["annotations"]

    assert published["action"] == f"publish:{host.removesuffix('.com')}"
    assert published["input"]["repoUrl"] == answers["repoUrl"]
    assert answers["repoUrl"].startswith(f"{host}?")
    assert host in picker["ui:options"]["allowedHosts"]
    assert annotations[f"{host}/project-slug"] == repository_of(answers["repoUrl"])


@pytest.mark.slow
def test_a_repository_that_is_no_path_stops_the_portal_bake(tmp_path: Path) -> None:
    """RepoUrlPicker's value reaches the task API as any string: the rules hold the
    repository's path before it lands in catalog-info.yaml."""
    evil = "svc\n    backstage.io/techdocs-ref: url:https://evil.example"
    (result,) = portal_bake(
        {"evil": {"repoUrl": f"github.com?owner=platform&repo={urllib.parse.quote(evil)}"}},
        tmp_path,
    ).values()

    assert not result["ok"]
    assert f"_repository={f'platform/{evil}'!r} must be the repository's path" in "\n".join(
        result["log"]
    )
    assert "published" not in result


@pytest.mark.slow
@on_the_portals_worker
def test_a_left_empty_slug_and_base_image_are_derived_as_the_cli_derives_them(
    portal: tuple[dict[str, dict], Path],
) -> None:
    _, out = portal
    published = out / "slug-and-base-image-left-empty"
    entity = catalog_entities(published)["Component"]

    assert entity["metadata"]["name"] == "billing-gateway-2"
    assert "FROM python:3.13-slim AS base" in (published / "Dockerfile").read_text()


@pytest.mark.slow
@on_the_portals_worker
def test_the_baked_catalog_entry_names_its_template_and_version(
    portal: tuple[dict[str, dict], Path],
) -> None:
    _, out = portal
    annotations = catalog_entities(out / "form-defaults")["Component"]["metadata"]["annotations"]

    assert {key: annotations[key] for key in annotations if "template" in key} == {
        "backstage.io/source-template": f"template:default/{TEMPLATE['metadata']['name']}",
        "backstage.io/template-version": TEMPLATE["metadata"]["annotations"][
            "backstage.io/template-version"
        ],
    }


# Every key that takes text, with code that would leave a file behind if it ran.
TEXT_KEYS = [key for key, rule in pre.RULES.items() if key not in CHOICES]


@pytest.mark.slow
@pytest.mark.parametrize("skip_validation", [False, True], ids=["task-api", "around-the-form"])
def test_no_value_runs_code_on_the_scaffolder_host(tmp_path: Path, skip_validation: bool) -> None:
    markers = {key: tmp_path / f"ran-{key}" for key in TEXT_KEYS}
    answers = {key: {key: PROBE.format(marker=markers[key])} for key in TEXT_KEYS}

    results = portal_bake(answers, tmp_path / "out", skipValidation=skip_validation)

    assert [key for key, marker in markers.items() if marker.exists()] == []
    for key, result in results.items():
        assert not result["ok"], key
        assert "published" not in result, key
        if result["valid"]:  # the form let it through; the sandbox stopped it
            assert "unsafe" in "\n".join(result["log"]), key


@pytest.mark.slow
def test_no_value_holds_a_scaffolder_worker(tmp_path: Path) -> None:
    """The action runs cookiecutter with no time or memory limit of its own: values the
    form accepts must be refused in seconds, the sandbox's bounds working there too."""
    answers = {name: {"project_name": value} for name, value in EXHAUSTING.items()}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)

    results = portal_bake(answers, tmp_path / "out")

    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    for name, result in results.items():
        log = "\n".join(result["log"])
        assert result["valid"], name  # the form takes it: it is one line of text
        assert not result["ok"] and "published" not in result, name
        assert any(reason in log for reason in COST_REFUSALS), (name, log[-500:])
    assert cpu < 20 * len(answers), f"{cpu:.1f} s of CPU"
    assert after.ru_maxrss < 1024 * 1024, f"a child used {after.ru_maxrss} kB"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("answers", "message"),
    [
        ({"port": 80}, "port='80' must be a whole number from 1024 to 65535"),
        ({"project_name": "!!!"}, "it is derived from project_name='!!!'"),
        ({"python_version": "3.10"}, "python_version='3.10' must be one of"),
        ({"base_image": "python:3.12-slim"}, "tagged for Python 3.12"),
    ],
    ids=["port", "derived-slug", "python", "base-image-tag"],
)
def test_around_the_form_the_rules_still_refuse_before_anything_is_written(
    tmp_path: Path, answers: dict, message: str
) -> None:
    (result,) = portal_bake({"bypass": answers}, tmp_path, skipValidation=True).values()

    assert not result["ok"]
    assert message in "\n".join(result["log"])
    assert "published" not in result


@pytest.mark.slow
def test_an_action_that_lays_the_template_out_differently_fails_instead_of_baking_unsandboxed(
    tmp_path: Path,
) -> None:
    """The extensions are named by the directory the action copies the template into."""
    moved = (ROOT / "template.yaml").read_text().replace("'contents'", "'content'")
    assert moved != (ROOT / "template.yaml").read_text()
    (tmp_path / "template.yaml").write_text(moved)
    shutil.copytree(
        ROOT / "{{cookiecutter.project_slug}}", tmp_path / "{{cookiecutter.project_slug}}"
    )
    marker = tmp_path / "ran"
    request = {
        "template": str(tmp_path / "template.yaml"),
        "values": {**FORM_DEFAULTS, "description": PROBE.format(marker=marker)},
        "outputDir": str(tmp_path / "out"),
    }

    (result,) = scaffold([request], TOOLS)

    assert not result["ok"]
    assert "No module named" in "\n".join(result["log"])
    assert not marker.exists()


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
    entity = catalog_entities(bake(**extra))["Component"]
    validator = backstage_validator("Component.v1alpha1.schema.json")

    assert list(validator.iter_errors(entity)) == []
    assert entity["metadata"]["name"] == bake(**extra).name
    assert re.fullmatch(r"group:default/[a-z0-9]([a-z0-9-]*[a-z0-9])?", entity["spec"]["owner"])


def test_a_service_with_a_database_depends_on_it_in_the_catalog(bake: Bake) -> None:
    entities = catalog_entities(bake(database="postgresql"))
    without = catalog_entities(bake())
    database = entities["Resource"]

    assert database["spec"]["type"] == "database"
    assert database["spec"]["owner"] == entities["Component"]["spec"]["owner"]
    assert entities["Component"]["spec"]["dependsOn"] == [
        f"resource:default/{database['metadata']['name']}"
    ]
    assert "Resource" not in without and "dependsOn" not in without["Component"]["spec"]


# Owner answers at the edges of slugify and of the catalog's name rules.
OWNERS = ["???", "Zoë Ångström — Équipe", "x" * 70, "Team_With.Dots", "-leading and trailing-"]


@pytest.mark.slow
def test_the_catalog_accepts_every_bakes_entities_and_the_template(bake: Bake) -> None:
    """Every answer set's catalog-info.yaml, owners at the edges, and template.yaml, as
    the catalog backend reads them: policies, kind validators, entity references."""
    files = [
        *(bake(**extra) / "catalog-info.yaml" for extra in COMBINATIONS.values()),
        *(bake(author_name=owner) / "catalog-info.yaml" for owner in OWNERS),
        ROOT / "template.yaml",
    ]

    problems = catalog_problems(*files)

    assert {file: found for file, found in problems.items() if found} == {}
    assert len(problems) == len(set(files))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kind", "change", "problem"),
    [
        ("Component", {"metadata": {"name": "two words"}}, '"metadata.name" is not valid'),
        ("Component", {"spec": {"owner": "group:default/Two Words"}}, "spec.owner"),
        ("Component", {"spec": {"lifecycle": None}}, "lifecycle"),
        ("Component", {"kind": "Servise"}, "no validator accepts kind Servise"),
        ("API", {"spec": {"definition": {"$text": "./gone.json"}}}, "could not read location"),
        (
            "API",
            {"spec": {"definition": {"$text": "https://github.com/else/where/blob/main/a.json"}}},
            "only reference files from the same repository",
        ),
    ],
    ids=[
        "name",
        "owner",
        "lifecycle",
        "kind",
        "api-definition-missing",
        "api-definition-elsewhere",
    ],
)
def test_the_catalog_check_refuses_what_the_catalog_refuses(
    bake: Bake, tmp_path: Path, kind: str, change: dict, problem: str
) -> None:
    entity = catalog_entities(bake())[kind]
    for field, value in change.items():
        if isinstance(value, dict):
            entity[field] = {**entity[field], **value}
        else:
            entity[field] = value
    broken = tmp_path / "catalog-info.yaml"
    broken.write_text(yaml.safe_dump(entity))

    (found,) = catalog_problems(broken).values()

    assert any(problem in line for line in found), found


def test_the_schemas_are_backstages() -> None:
    source = (SCHEMAS / "SOURCE.md").read_text()

    for path in SCHEMAS.glob("*.json"):
        assert path.name in source
