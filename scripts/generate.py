"""Write every file that restates cookiecutter.json and the rules.

cookiecutter.json holds the keys, defaults, choices, prompts and the paths each
choice keeps (``_optional_paths``); {{cookiecutter.project_slug}}/_template/rules.py
holds the rules for free text, each with its JSON Schema (``form``). From them:

- ``{{cookiecutter.project_slug}}/_template/choices.json``: the choice keys, for
  the rules wherever they run (Backstage's action copies only that directory);
- ``template.yaml``: the Backstage form, the ``fetch:cookiecutter`` values, and
  the ``fs:delete`` steps that prune as hooks/post_gen_project.py does;
- the prompt table in ``README.md``, between its two ``prompts`` markers;

and from the table of actions in ``docs/actions.md``, the commit and release of
every ``uses:`` in the template's own workflows and in the baked one.

    .venv/bin/python scripts/generate.py           # `make generate`
    .venv/bin/python scripts/generate.py --check   # exit 1 naming stale files

Standard library, PyYAML and Jinja2 only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_CODE = ROOT / "{{cookiecutter.project_slug}}" / "_template"
CHOICES_FILE = TEMPLATE_CODE / "choices.json"
README_BEGIN = "<!-- prompts: written by `make generate` from cookiecutter.json -->"
README_END = "<!-- /prompts -->"
ACTIONS_TABLE = ROOT / "docs" / "actions.md"
ACTIONS_BEGIN = "<!-- actions: read by `make generate` (scripts/generate.py) -->"
ACTIONS_END = "<!-- /actions -->"
WORKFLOW_DIRECTORIES = (
    ROOT / ".github" / "workflows",
    ROOT / "{{cookiecutter.project_slug}}" / ".github" / "workflows",
)
# `uses: owner/name[/path]@<commit> # <release>`, as every workflow pins an action.
USES = re.compile(
    r"(?P<lead>uses: )(?P<action>[\w.-]+/[\w.-]+)(?P<path>/[\w./-]+)?"
    r"@(?P<commit>[0-9a-f]{40}) # (?P<release>v\d+(?:\.\d+)*)$",
    re.MULTILINE,
)
# Runtimes GitHub keeps running: Node 24, or steps of other actions.
CURRENT_RUNTIMES = ("node24", "composite")

# The portal's own presentation, which the CLI has no use for.
SERVICE_PAGE = ("project_name", "project_slug", "description", "author_name", "author_email")
HINTS = {
    "project_slug": (
        "Leave it empty to derive it from the service name, as the cookiecutter CLI does."
    ),
    "base_image": (
        "Leave it empty for python:<Python version>-slim. A python image's tag must"
        " match the Python version; point it at your registry mirror."
    ),
}
# A form field with a default cannot be emptied (the form puts the default back),
# so a key that may be empty gets a switch that empties it.
EMPTY_SWITCHES = {
    "dockerfile_frontend": (
        "omit_syntax_line",
        "Leave out the Dockerfile's '# syntax=' line",
        "For builders that cannot fetch the frontend image; they use their built-in one.",
    ),
}
HEADER = """\
# Backstage software template for this golden path: the same service as the
# cookiecutter CLI bakes, from the portal. Written by `make generate` from
# cookiecutter.json and the rules in {{cookiecutter.project_slug}}/_template/rules.py:
# change those, never this file.
#
# fetch:cookiecutter bakes the project template with the template's own sandbox
# and rules (its `extensions` input) but runs no hooks, so the form refuses what
# the rules refuse (the backend checks submitted values against it too) and
# fs:delete steps remove what hooks/post_gen_project.py would. The action copies
# `url` into <tmp>/template/{{cookiecutter and 'contents'}}/ and cookiecutter puts
# <tmp>/template on sys.path, so that directory is the extensions' first package.
# tests/test_backstage.py runs this file through the scaffolder's own runner and
# actions and compares the result with the CLI's.
"""


def load_rules() -> ModuleType:
    spec = importlib.util.spec_from_file_location("_template_rules", TEMPLATE_CODE / "rules.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def is_derived(value: object) -> bool:
    return isinstance(value, str) and "{{" in value


def public_keys(context: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in context.items() if not key.startswith("_")}


def prompt_of(context: dict[str, Any], key: str) -> str:
    prompt = context["__prompts__"].get(key, key)
    return prompt["__prompt__"] if isinstance(prompt, dict) else prompt


def choices_json(context: dict[str, Any]) -> str:
    choices = {key: value for key, value in public_keys(context).items() if isinstance(value, list)}
    return json.dumps(choices, indent=2, ensure_ascii=False) + "\n"


def form_property(context: dict[str, Any], rules: ModuleType, key: str) -> dict[str, Any]:
    default = context[key]
    field: dict[str, Any] = {"title": prompt_of(context, key)}
    if key in HINTS or is_derived(default):
        field["description"] = HINTS.get(key, "Leave it empty for the cookiecutter CLI's default.")
    if isinstance(default, list):
        labels = context["__prompts__"].get(key, {})
        field.update(type="string", enum=default, default=default[0])
        field["ui:enumNames"] = [labels.get(value, value) for value in default]
        return field
    field.update(rules.RULES[key].form)
    if not is_derived(default):
        field["default"] = default
    return field


def is_required(context: dict[str, Any], rules: ModuleType, key: str) -> bool:
    default = context[key]
    if isinstance(default, list) or key in EMPTY_SWITCHES:
        return True
    return not is_derived(default) and rules.RULES[key]("") is not None


def page(context: dict[str, Any], rules: ModuleType, title: str, keys: list[str]) -> dict:
    properties: dict[str, Any] = {}
    for key in keys:
        properties[key] = form_property(context, rules, key)
        if key in EMPTY_SWITCHES:
            switch, switch_title, description = EMPTY_SWITCHES[key]
            properties[switch] = {
                "title": switch_title,
                "description": description,
                "type": "boolean",
                "default": False,
            }
    required = [key for key in keys if is_required(context, rules, key)]
    return {"title": title, "required": required, "properties": properties}


def python_tag_rule(context: dict[str, Any], rules: ModuleType) -> list[dict]:
    """A python base image tagged with a version must carry the chosen one."""
    return [
        {
            "if": {"properties": {"python_version": {"const": version}}},
            "then": {
                "properties": {
                    "base_image": {"not": {"pattern": rules.python_tag_mismatch(version)}}
                }
            },
        }
        for version in context["python_version"]
    ]


# Private values the portal knows and the CLI does not: the repository the
# publish step creates, as its host names it (owner/name; GitLab: group/.../project).
REPOSITORY = "(parameters.repoUrl | parseRepoUrl)"
FROM_THE_PORTAL = {"_repository": f"${{{{ {REPOSITORY}.owner }}}}/${{{{ {REPOSITORY}.repo }}}}"}
# The publish action for each ci; the others get a plain GitHub repository.
PUBLISHERS = {"gitlab": "publish:gitlab"}
DEFAULT_PUBLISHER = "publish:github"
# Where each action takes the repository's description.
DESCRIPTION = "${{ parameters.description }}"
DESCRIBED = {
    "publish:github": {"description": DESCRIPTION},
    "publish:gitlab": {"settings": {"description": DESCRIPTION}},
}


def value_of(context: dict[str, Any], rules: ModuleType, key: str) -> Any:
    """What fetch:cookiecutter passes for ``key``: the answer, or the CLI's derivation."""
    default = context[key]
    if key in FROM_THE_PORTAL:
        return FROM_THE_PORTAL[key]
    if key.startswith("_"):  # rendered (``__``) or private: as cookiecutter.json has it
        return default
    if key in EMPTY_SWITCHES:
        switch = EMPTY_SWITCHES[key][0]
        return f'${{{{ "" if parameters.{switch} else parameters.{key} }}}}'
    if is_derived(default):
        return f"${{{{ parameters.{key} or {json.dumps(default)} }}}}"
    if isinstance(default, str) and rules.RULES[key]("") is None:
        return f'${{{{ parameters.{key} or "" }}}}'
    return f"${{{{ parameters.{key} }}}}"


def passed_keys(context: dict[str, Any]) -> list[str]:
    """Every key a bake's context holds: the public ones, rendered ``__`` ones and
    private text (cookiecutter's own ``_`` settings are the action's inputs)."""
    return [
        key
        for key, value in context.items()
        if key != "__prompts__"
        and (not key.startswith("_") or key.startswith("__") or isinstance(value, str))
    ]


def condition(keep: dict[str, list[str]]) -> str:
    """The step's `if`: some key's value is none of those that keep the path."""
    return " or ".join(
        "(" + " and ".join(f"parameters.{key} != '{value}'" for value in values) + ")"
        if len(keep) > 1
        else " and ".join(f"parameters.{key} != '{value}'" for value in values)
        for key, values in keep.items()
    )


def step_id_of(action: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", action)


def published(output: str) -> str:
    """The output of whichever publish step ran (a skipped step has none)."""
    actions = [*PUBLISHERS.values(), DEFAULT_PUBLISHER]
    return " or ".join(f"steps['{step_id_of(action)}'].output.{output}" for action in actions)


def step_id(path: str) -> str:
    return "remove-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


def template_yaml(context: dict[str, Any], rules: ModuleType) -> str:
    public = list(public_keys(context))
    service = [key for key in public if key in SERVICE_PAGE]
    build = [key for key in public if key not in SERVICE_PAGE]
    build_page = page(context, rules, "Build and deploy", build)
    build_page["allOf"] = python_tag_rule(context, rules)
    repository = {
        "title": "Repository",
        "required": ["repoUrl"],
        "properties": {
            "repoUrl": {
                "title": "Repository location",
                "description": (
                    "On GitHub, or on GitLab when CI is gitlab: the service is published"
                    " there, with its CI."
                ),
                "type": "string",
                "ui:field": "RepoUrlPicker",
                # The hosts with an integration in the portal's app-config: edit both.
                "ui:options": {"allowedHosts": ["github.com", "gitlab.com"]},
            }
        },
    }
    package = "{{cookiecutter and 'contents'}}._template.extensions"
    fetch = {
        "id": "fetch",
        "name": "Bake the service",
        "action": "fetch:cookiecutter",
        "input": {
            "url": "./{{cookiecutter.project_slug}}",
            "copyWithoutRender": context["_copy_without_render"],
            "extensions": [
                f"{package}.{name.rsplit('.', 1)[-1]}" for name in context["_extensions"]
            ],
            "values": {key: value_of(context, rules, key) for key in passed_keys(context)},
        },
    }
    removals = [
        {
            "id": "remove-template-code",
            "name": "Remove the template's own code",
            "action": "fs:delete",
            "input": {"files": context["_copy_without_render"]},
        }
    ] + [
        {
            "id": step_id(path),
            "name": f"Remove {path}",
            "if": f"${{{{ {condition(keep)} }}}}",
            "action": "fs:delete",
            "input": {"files": [path]},
        }
        for path, keep in context["_optional_paths"].items()
    ]
    others = " and ".join(f"parameters.ci != '{ci}'" for ci in PUBLISHERS)
    conditions = {
        **{action: f"parameters.ci == '{ci}'" for ci, action in PUBLISHERS.items()},
        DEFAULT_PUBLISHER: others,
    }
    publish = [
        *(
            {
                "id": step_id_of(action),
                "name": f"Publish ({action})",
                "if": f"${{{{ {condition} }}}}",
                "action": action,
                "input": {
                    "repoUrl": "${{ parameters.repoUrl }}",
                    **DESCRIBED[action],
                    "defaultBranch": "main",
                },
            }
            for action, condition in conditions.items()
        ),
        {
            "id": "register",
            "name": "Register in the catalog",
            "action": "catalog:register",
            "input": {
                "repoContentsUrl": f"${{{{ {published('repoContentsUrl')} }}}}",
                "catalogInfoPath": "/catalog-info.yaml",
            },
        },
    ]
    document = {
        "apiVersion": "scaffolder.backstage.io/v1beta3",
        "kind": "Template",
        "metadata": {
            "name": context["_template_ref"].rsplit("/", 1)[-1],
            "title": "Python web service (FastAPI)",
            "description": (
                "A FastAPI service served by uvicorn, with a small non-root image,"
                " CI and deployment files."
            ),
            "tags": ["python", "fastapi", "recommended"],
            "annotations": {"backstage.io/template-version": context["_template_version"]},
        },
        "spec": {
            "owner": "group:default/platform-team",
            "type": "service",
            "parameters": [
                page(context, rules, "Service", service),
                build_page,
                repository,
            ],
            "steps": [fetch, *removals, *publish],
            "output": {
                "links": [
                    {"title": "Repository", "url": f"${{{{ {published('remoteUrl')} }}}}"},
                    {
                        "title": "Open in catalog",
                        "icon": "catalog",
                        "entityRef": "${{ steps.register.output.entityRef }}",
                    },
                ]
            },
        },
    }
    return HEADER + yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=1000)


class _Dumper(yaml.SafeDumper):
    """Block style, except lists of plain values, which read best on one line."""


def _represent_list(dumper: yaml.SafeDumper, items: list) -> yaml.Node:
    flow = all(isinstance(item, str | int | bool) for item in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flow)


_Dumper.add_representer(list, _represent_list)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def prompt_table(context: dict[str, Any]) -> str:
    rows = ["| key | question | default | other choices |", "|---|---|---|---|"]
    for key, value in public_keys(context).items():
        default, others = (value[0], value[1:]) if isinstance(value, list) else (value, [])
        rows.append(
            f"| `{key}` | {_cell(prompt_of(context, key))} | `{_cell(str(default))}` | "
            + ", ".join(f"`{other}`" for other in others)
            + " |"
        )
    return "\n".join(rows)


def readme(context: dict[str, Any], current: str) -> str:
    begin, end = current.index(README_BEGIN), current.index(README_END)
    table = prompt_table(context)
    return f"{current[: begin + len(README_BEGIN)]}\n{table}\n{current[end:]}"


class Pin(NamedTuple):
    release: str
    commit: str
    runtime: str


def action_pins(table: str) -> dict[str, Pin]:
    """The rows between the ``actions`` markers: `owner/name` (paths), release, commit, runtime."""
    rows = table[table.index(ACTIONS_BEGIN) : table.index(ACTIONS_END)].splitlines()[3:]
    pins = {}
    for row in rows:
        action, release, commit, runtime = (cell.strip() for cell in row.strip("|").split("|"))
        if runtime not in CURRENT_RUNTIMES:
            raise SystemExit(
                f"error: {action} {release} runs on {runtime} in {ACTIONS_TABLE.relative_to(ROOT)};"
                f" pin a release that runs on one of {', '.join(CURRENT_RUNTIMES)}"
            )
        pins[action.split()[0].strip("`")] = Pin(release, commit.strip("`"), runtime)
    return pins


def pinned(workflow: str, pins: dict[str, Pin], name: str) -> str:
    """``workflow`` with every action at its row's commit and release."""

    def repin(match: re.Match[str]) -> str:
        action = match["action"]
        if action not in pins:
            raise SystemExit(
                f"error: {name} uses {action}, which has no row in"
                f" {ACTIONS_TABLE.relative_to(ROOT)}: add its release, commit and runtime"
            )
        pin = pins[action]
        return f"{match['lead']}{action}{match['path'] or ''}@{pin.commit} # {pin.release}"

    return USES.sub(repin, workflow)


def workflows() -> list[Path]:
    return sorted(path for directory in WORKFLOW_DIRECTORIES for path in directory.glob("*.yml"))


def keys_without_a_rule(context: dict[str, Any], rules: ModuleType) -> list[str]:
    """Free-text keys (choice keys get theirs from their choices) the rules miss."""
    return [
        key
        for key, value in public_keys(context).items()
        if not isinstance(value, list) and key not in rules.RULES
    ]


def generated(context: dict[str, Any], rules: ModuleType) -> dict[Path, str]:
    """Every generated file and its content (from the free-text rules only: the
    choices come from ``context``, never from a choices.json that may be stale)."""
    pins = action_pins(ACTIONS_TABLE.read_text(encoding="utf-8"))
    return {
        CHOICES_FILE: choices_json(context),
        ROOT / "template.yaml": template_yaml(context, rules),
        ROOT / "README.md": readme(context, (ROOT / "README.md").read_text(encoding="utf-8")),
        **{
            path: pinned(path.read_text(encoding="utf-8"), pins, path.relative_to(ROOT).as_posix())
            for path in workflows()
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail if stale")
    arguments = parser.parse_args(argv)
    context = json.loads((ROOT / "cookiecutter.json").read_text(encoding="utf-8"))
    rules = load_rules()
    missing = keys_without_a_rule(context, rules)
    for key in missing:
        print(
            f"error: {key!r} in cookiecutter.json has no rule: add one to RULES in"
            f" {(TEMPLATE_CODE / 'rules.py').relative_to(ROOT)}"
            " (CONTRIBUTING.md, 'Adding an option')",
            file=sys.stderr,
        )
    if missing:
        return 2
    files = generated(context, rules)
    if arguments.check:
        stale = [
            path.relative_to(ROOT).as_posix()
            for path, text in files.items()
            if not path.exists() or path.read_text(encoding="utf-8") != text
        ]
        for path in stale:
            if path.endswith(".yml") and "workflows" in path:
                print(
                    f"{path} pins an action other than {ACTIONS_TABLE.relative_to(ROOT)} says:"
                    " change the table's row (release, commit, runtime), then run"
                    " `make generate` and commit the result",
                    file=sys.stderr,
                )
            else:
                print(
                    f"{path} is stale: run `make generate` and commit the result", file=sys.stderr
                )
        return 1 if stale else 0
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
