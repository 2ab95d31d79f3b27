"""The template's rules for every answer: refuse bad choices before anything is written.

Every rule is a small function from a value to an error message (or None);
``validate`` runs them all, so one run reports every problem, each naming the
key, the value and what is allowed.

This module lives in the project template's ``_template/`` directory (removed
from every bake) because that is the one directory both ways of baking can
import from: the cookiecutter CLI, through hooks/pre_gen_project.py, and
Backstage's fetch:cookiecutter, which copies only the project template and runs
no hooks (extensions.py validates there). Standard library only.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path

# The choice keys and their values, default first: written from cookiecutter.json by
# `make generate`, because Backstage's action copies this directory but not that file.
CHOICES: dict[str, list[str]] = json.loads(
    Path(__file__).with_name("choices.json").read_text(encoding="utf-8")
)
PORT_RANGE = (1024, 65535)
ID_RANGE = (1000, 65534)
MAX_TEXT = 200
MAX_IMAGE_NAME = 255

DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
# {extra} takes the characters the portal's form must refuse too (see FORM).
_EMAIL = r"[^@\s{extra}]+@[^@\s{extra}]+\.[^@\s.{extra}]+"
EMAIL = re.compile(_EMAIL.format(extra=""))

# Docker image references, from the grammar of distribution/reference.
_ALNUM = r"[a-z0-9]+"
_PATH_COMPONENT = rf"{_ALNUM}(?:(?:[._]|__|-+){_ALNUM})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
_NAME = rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"  # ASCII, as Docker's grammar means
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"
IMAGE_REFERENCE = re.compile(rf"(?P<name>{_NAME})(?::(?P<tag>{_TAG}))?(?:@{_DIGEST})?")
_UV_VERSION = r"[0-9]+\.[0-9]+\.[0-9]+"
UV_VERSION = re.compile(_UV_VERSION)
# Written as JSON writes a whole number: ASCII digits, no sign, spaces or leading zeros.
WHOLE_NUMBER = re.compile(r"0|[1-9][0-9]*")
PYTHON_TAG = re.compile(r"(\d+\.\d+)(?:\.\d+)?(?:$|[-.])")

Rule = Callable[[str], "str | None"]

# Each rule carries its JSON Schema (``form``) for the portal's form, which
# `make generate` writes into template.yaml. Patterns are ECMAScript with the `u`
# flag, as Backstage checks them; Unicode classes stand in for is_printable, which
# JavaScript cannot call. tests/test_backstage.py holds both to one table of values.
_NOT_PRINTABLE = r"\p{C}\p{Zl}\p{Zp}"
_ONE_LINE = rf"[^\s{_NOT_PRINTABLE}](?:[^{_NOT_PRINTABLE}]*[^\s{_NOT_PRINTABLE}])?"
_TEXT = {"type": "string", "maxLength": MAX_TEXT}


def _image_pattern(tag: str = rf"(?::{_TAG})?") -> str:
    """A reference whose name has at most MAX_IMAGE_NAME characters (the lookahead)."""
    tail = rf"(?::{_TAG})?(?:@{_DIGEST})?$"
    return rf"(?=.{{1,{MAX_IMAGE_NAME}}}{tail}){_NAME}{tag}(?:@{_DIGEST})?"


def with_form(**schema: object) -> Callable[[Rule], Rule]:
    def attach(rule: Rule) -> Rule:
        rule.form = schema
        return rule

    return attach


def is_printable(char: str) -> bool:
    """Characters every format takes literally: no controls, formats or line separators."""
    category = unicodedata.category(char)
    return not (category.startswith("C") or category in ("Zl", "Zp"))


@with_form(**_TEXT, minLength=1, pattern=f"^{_ONE_LINE}$")
def one_line_text(value: str, *, required: bool = True) -> str | None:
    """Free text that lands in docs, metadata and code: one line of printable text."""
    if required and not value.strip():
        return "must not be empty"
    if value != value.strip():
        return "must not start or end with spaces"
    if len(value) > MAX_TEXT:
        return f"must be at most {MAX_TEXT} characters (it has {len(value)})"
    for char in value:
        if not is_printable(char):
            return (
                f"must be one line of printable text; it contains {char!r}"
                " (line breaks, tabs and other control characters are not allowed)"
            )
    return None


@with_form(**_TEXT, pattern=f"^(?:{_ONE_LINE})?$")
def optional_one_line_text(value: str) -> str | None:
    return one_line_text(value, required=False)


@with_form(type="string", pattern=f"^{DNS_LABEL.pattern}$")
def project_slug(value: str) -> str | None:
    if DNS_LABEL.fullmatch(value):
        return None
    return (
        "must be a DNS-1123 label, as Kubernetes, compose and Docker image names need:"
        " 1-63 characters of lowercase letters a-z, digits and '-',"
        " starting and ending with a letter or digit (e.g. 'my-service')"
    )


@with_form(**_TEXT, pattern=f"^{_EMAIL.format(extra=_NOT_PRINTABLE)}$")
def author_email(value: str) -> str | None:
    if EMAIL.fullmatch(value) and not one_line_text(value):
        return None
    return "must be an email address like 'name@example.com'"


def choice(allowed: tuple[str, ...]) -> Rule:
    def check(value: str) -> str | None:
        if value in allowed:
            return None
        return "must be one of " + ", ".join(repr(a) for a in allowed)

    check.form = {"type": "string", "enum": list(allowed)}
    return check


def integer_in(low: int, high: int, why: str = "") -> Rule:
    def check(value: str) -> str | None:
        if WHOLE_NUMBER.fullmatch(value) and low <= int(value) <= high:
            return None
        return f"must be a whole number from {low} to {high}{why}"

    check.form = {"type": "integer", "minimum": low, "maximum": high}
    return check


@with_form(type="string", pattern=f"^{_image_pattern()}$")
def image_reference(value: str) -> str | None:
    match = IMAGE_REFERENCE.fullmatch(value)
    if match and len(match["name"]) <= MAX_IMAGE_NAME:
        return None
    return (
        "must be a Docker image reference such as 'python:3.13-slim' or"
        " 'registry.example.com/team/python:3.13-slim@sha256:<digest>'"
        " (lowercase repository path, optional :tag and @digest)"
    )


@with_form(type="string", pattern=f"^(?:{_image_pattern()})?$")
def optional_image_reference(value: str) -> str | None:
    return image_reference(value) if value else None


@with_form(type="string", pattern=f"^{_image_pattern(f':{_UV_VERSION}')}$")
def uv_image_reference(value: str) -> str | None:
    """uv's image, tagged with uv's version: CI and Makefile install that same uv."""
    match = IMAGE_REFERENCE.fullmatch(value)
    if match and UV_VERSION.fullmatch(match["tag"] or ""):
        return image_reference(value)
    return (
        "must be a uv image reference tagged with uv's version, such as"
        " 'ghcr.io/astral-sh/uv:0.13.8' (a mirror's name and an @sha256 digest may be added)"
    )


RULES: dict[str, Rule] = {
    "project_name": one_line_text,
    "project_slug": project_slug,
    "description": optional_one_line_text,
    "author_name": one_line_text,
    "author_email": author_email,
    **{key: choice(tuple(values)) for key, values in CHOICES.items()},
    "port": integer_in(
        *PORT_RANGE, " (the service runs as a non-root user, which cannot bind ports below 1024)"
    ),
    "app_uid": integer_in(*ID_RANGE, " (not root, and not a system account)"),
    "app_gid": integer_in(*ID_RANGE, " (not root, and not a system group)"),
    "base_image": image_reference,
    "dockerfile_frontend": optional_image_reference,
    "uv_image": uv_image_reference,
}


# The template's own values that reach baked files. Nobody is asked for them, but a
# config file, extra_context or a replay file can still set them, so they are held
# to rules like the answers (cruft passes them on from release to release).
SEMANTIC_VERSION = re.compile(r"(?:0|[1-9][0-9]*)(?:\.(?:0|[1-9][0-9]*)){2}")
_REF_PART = r"[a-z0-9]+(?:[-_.][a-z0-9]+)*"
TEMPLATE_REF = re.compile(rf"template:{_REF_PART}/{_REF_PART}")


def template_version(value: str) -> str | None:
    if SEMANTIC_VERSION.fullmatch(value):
        return None
    return "must be the template's release as X.Y.Z (e.g. '0.1.0')"


def template_ref(value: str) -> str | None:
    if TEMPLATE_REF.fullmatch(value) and len(value) <= MAX_TEXT:
        return None
    return (
        "must be a Backstage template reference 'template:<namespace>/<name>' in lowercase"
        " letters, digits and '-', '_', '.' (e.g. 'template:default/python-service')"
    )


# A repository's path on its host: GitHub's owner/name, GitLab's group/subgroup/project.
REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+")


def repository(value: str) -> str | None:
    """The portal passes the repository it creates; the CLI leaves it empty."""
    parts = value.split("/")
    if value == "" or (
        REPOSITORY.fullmatch(value) and len(value) <= MAX_TEXT and all(p.strip(".") for p in parts)
    ):
        return None
    return (
        "must be the repository's path on its host, 'owner/name' (on GitLab"
        " 'group/subgroup/project'): letters, digits, '-', '_' and '.', or empty"
    )


PRIVATE_RULES: dict[str, Rule] = {
    "_template_version": template_version,
    "_template_ref": template_ref,
    "_repository": repository,
}

# Settings of the template itself, which decide what code loads and which paths
# are deleted: a bake takes them from cookiecutter.json or not at all.
INTERNALS = ("_extensions", "_copy_without_render", "_optional_paths")


def uv_version_matches_uv_image(context: Mapping[str, object]) -> str | None:
    """``__uv_version`` is derived from ``uv_image``; anything else is an override."""
    if "__uv_version" not in context:
        return None
    match = IMAGE_REFERENCE.fullmatch(str(context.get("uv_image", "")))
    derived = match["tag"] if match else None
    if context["__uv_version"] == derived:
        return None
    return (
        f"__uv_version={context['__uv_version']!r} must not be set: it is derived from"
        f" uv_image ({derived!r}); set uv_image instead"
    )


def overridden_internals(context: Mapping[str, object], own: Mapping[str, object]) -> list[str]:
    """The template's settings (INTERNALS) that differ from ``own``, its cookiecutter.json.

    Except in cruft's regenerations (the only bakes with ``_commit``, which cruft
    sets itself and no override can add): cruft passes on the settings it recorded
    from the release a service came from, and the service's .cruft.json is its own.
    """
    if "_commit" in context:
        return []
    return [
        f"{key} is the template's own setting and cannot be overridden (a config file's"
        f" default_context, extra_context or a replay file set it to {context[key]!r}):"
        " remove it from there"
        for key in INTERNALS
        if key in own and key in context and context[key] != own[key]
    ]


def python_tag_mismatch(version: str) -> str:
    """ECMAScript: a ``python`` image tagged for a Python other than ``version``
    (python_matches_base_image, for the form)."""
    other = rf"(?!{re.escape(version)}(?:\.[0-9]+)?(?:$|[-.@]))"
    return rf"(?:^|/)python:{other}[0-9]+\.[0-9]+(?:\.[0-9]+)?(?:$|[-.@])"


def python_matches_base_image(context: Mapping[str, str]) -> str | None:
    """A ``python`` image tagged with a version must carry the chosen one."""
    match = IMAGE_REFERENCE.fullmatch(context["base_image"])
    if not match or match["name"].rsplit("/", 1)[-1] != "python":
        return None
    tag = PYTHON_TAG.match(match["tag"] or "")
    if not tag or tag[1] == context["python_version"]:
        return None
    return (
        f"base_image={context['base_image']!r} is tagged for Python {tag[1]} but"
        f" python_version={context['python_version']!r}: choose one Python version for both"
    )


def validate(context: Mapping[str, object]) -> list[str]:
    """Every problem with the choices, one line each, naming key, value and what is allowed."""
    errors = []
    for key, rule in RULES.items():
        value = context.get(key, "")
        problem = rule(value) if isinstance(value, str) else "must be text"
        if problem and key == "project_slug" and value == "":
            problem += (
                f"; it is derived from project_name={context.get('project_name')!r}, which has"
                " no letters or digits to make one from: set project_slug"
            )
        if problem:
            errors.append(f"{key}={value!r} {problem}.")
    for key, rule in PRIVATE_RULES.items():
        value = context.get(key, "")
        if key in context and (
            problem := rule(value) if isinstance(value, str) else "must be text"
        ):
            errors.append(f"{key}={value!r} {problem}.")
    if not errors:
        for mismatch in (python_matches_base_image(context), uv_version_matches_uv_image(context)):
            if mismatch:
                errors.append(mismatch + ".")
    return errors
