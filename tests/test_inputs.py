"""Whatever people type, the template bakes a valid project or refuses clearly, and no
value runs code on the machine that bakes.

The property tests run cookiecutter's own pipeline in this process, so they can try
hundreds of values per key: the values are rendered as cookiecutter renders them
(in the template's sandbox), checked by the pre-generation hook's ``validate``,
generated without the hook subprocesses, and finished by the post-generation hook's
functions. test_validation.py runs the hooks themselves, as cookiecutter does.
"""

from __future__ import annotations

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from cookiecutter.exceptions import UndefinedVariableInTemplate
from cookiecutter.generate import generate_context, generate_files
from cookiecutter.main import cookiecutter
from cookiecutter.prompt import prompt_for_config
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import BytecodeCache

from hooks import post_gen_project as post
from tests.helpers import (
    CHOICES,
    ROOT,
    assert_every_file_parses,
    assert_free_text_verbatim,
    readable,
    template_module,
    text_files,
)

pre = template_module("rules")

JINJA_MARKERS = ("{{", "}}", "{%", "%}", "{#", "#}")
# Control characters but the line break and the tab, which no baked file holds: a
# terminal or an editor would act on them.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@dataclass
class Outcome:
    refusal: str | None = None  # what the baker was told, when refused
    project: Path | None = None
    context: dict | None = None


class CompiledTemplates(BytecodeCache):
    """The template's files compiled once for the session, not once per example:
    keyed by file name and source checksum, as Jinja's own caches are."""

    def __init__(self) -> None:
        self.compiled: dict[str, tuple[str, bytes]] = {}

    def load_bytecode(self, bucket) -> None:
        if bucket.key in self.compiled:
            checksum, code = self.compiled[bucket.key]
            if checksum == bucket.checksum:
                bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = (bucket.checksum, bucket.bytecode_to_string())


COMPILED = CompiledTemplates()


def bake_in_process(extra: dict[str, str], output: Path) -> Outcome:
    """cookiecutter's pipeline for ``--no-input`` with ``extra``, hooks' functions in-process."""
    context = generate_context(str(ROOT / "cookiecutter.json"), extra_context=extra)
    try:
        rendered = prompt_for_config(context, no_input=True)
    except UndefinedVariableInTemplate as refusal:
        return Outcome(refusal=f"{refusal.message}: {refusal.error.message}")
    errors = pre.validate(rendered)
    if errors:
        return Outcome(refusal="\n".join(errors))
    rendered.update(_template=str(ROOT), _repo_dir=str(ROOT), _output_dir=str(output))
    rendered["_jinja2_env_vars"] = {"bytecode_cache": COMPILED}
    try:
        project = Path(
            generate_files(str(ROOT), {"cookiecutter": rendered}, str(output), accept_hooks=False)
        )
    except UndefinedVariableInTemplate as refusal:
        return Outcome(refusal=f"{refusal.message}: {refusal.error.message}")
    post.remove_unselected(project, rendered)
    return Outcome(project=project, context=rendered)


def check(key: str, value: str) -> None:
    """The property: refused with a message naming ``key`` and nothing written, or
    baked into a project whose files parse and agree, with the value where it belongs."""
    with tempfile.TemporaryDirectory() as output:
        outcome = bake_in_process({key: value}, Path(output))
        if outcome.refusal is not None:
            assert f"{key}=" in outcome.refusal or f"'{key}'" in outcome.refusal, outcome.refusal
            assert list(Path(output).iterdir()) == []
            return
        project, context = outcome.project, outcome.context
        assert_every_file_parses(project)
        assert post.parse_errors(project) == []
        assert post.consistency_errors(project, context) == []
        for path in text_files(project):
            text = path.read_text(encoding="utf-8")
            assert "{{ cookiecutter" not in text, path
            assert not CONTROL.search(text), f"{path}: {CONTROL.search(text)}"
        if not any(marker in value for marker in JINJA_MARKERS):
            assert str(context[key]) == value  # Jinja syntax is rendered, all else is kept
        assert_free_text_verbatim(project, context)


# Text that stresses every format a value lands in: quotes, escapes, YAML and TOML
# syntax, Jinja syntax, control characters, astral and confusable characters.
SPECIAL = [*"\"'\\\n\t\r :#-[]{}&*!|>%@`$,?~=<", "\x00", "\x7f", "\u2028", "\ufeff", "😀"]
FRAGMENTS = [*SPECIAL, *JINJA_MARKERS, "{{ 7*7 }}", "{{ cookiecutter.port }}", "{% raw %}"]
FRAGMENTS += ["yes", "null", "0x10", "1e3", "- item", "key: value", "# note", "Zoë", "名前"]
PRINTABLE_SPECIAL = [char for char in SPECIAL if char.isprintable()]
ANY_TEXT = st.text(st.characters() | st.sampled_from(SPECIAL), max_size=60)
# Printable text, the valid shape, so that half the examples get as far as a bake.
PRINTABLE = (
    st.text(
        st.characters(exclude_categories=["C", "Zl", "Zp"]) | st.sampled_from(PRINTABLE_SPECIAL),
        min_size=1,
        max_size=80,
    )
    .map(str.strip)
    .filter(bool)
)
PIECES = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=5), max_size=12).map("".join)
LONG = st.text(st.characters(codec="utf-8"), min_size=150, max_size=260)
ANYTHING = st.one_of(ANY_TEXT, PIECES, LONG, st.sampled_from(["", " ", " padded "]))
FREE_TEXT = st.booleans().flatmap(lambda printable: PRINTABLE if printable else ANYTHING)


def valid_or(valid: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Values of the valid shape as often as anything at all (nested one_of would
    flatten, giving ``valid`` a seventh of the examples)."""
    return st.booleans().flatmap(lambda shaped: valid if shaped else FREE_TEXT)


def numbers(low: int, high: int) -> st.SearchStrategy[str]:
    """Half in range, a quarter any number, a quarter any text."""
    choices = [st.integers(low, high), st.integers(low, high), st.integers(-10, 70_000)]
    return st.integers(0, 3).flatmap(
        lambda pick: choices[pick].map(str) if pick < len(choices) else FREE_TEXT
    )


COMPONENT = r"[a-z0-9]+([._-][a-z0-9]+)*"
IMAGE = rf"([a-z0-9]+(\.[a-z0-9]+)*(:[0-9]{{2,5}})?/)?{COMPONENT}(/{COMPONENT}){{0,2}}"
DIGEST = r"(@sha256:[0-9a-f]{64})?"
IMAGES = rf"\A{IMAGE}(:[\w.-]{{1,20}})?{DIGEST}\Z"
# Values for each kind of rule; a key takes its rule's, so a new key with an
# existing rule needs nothing here, and a new rule needs a line.
FREE_TEXT_RULES = {
    pre.one_line_text: FREE_TEXT,
    pre.optional_one_line_text: FREE_TEXT,
    pre.author_email: valid_or(st.emails()),
}
BY_RULE = {
    **FREE_TEXT_RULES,
    pre.project_slug: valid_or(st.from_regex(r"\A[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?\Z")),
    pre.image_reference: valid_or(st.from_regex(IMAGES)),
    pre.optional_image_reference: valid_or(st.from_regex(IMAGES)),
    pre.uv_image_reference: valid_or(
        st.from_regex(rf"\A{IMAGE}:\d{{1,2}}\.\d{{1,2}}\.\d{{1,2}}{DIGEST}\Z")
    ),
}


def strategy_for(rule) -> st.SearchStrategy[str] | None:
    if rule in BY_RULE:
        return BY_RULE[rule]
    if rule.form["type"] == "integer":
        return numbers(rule.form["minimum"], rule.form["maximum"])
    return None


STRATEGIES = {key: strategy_for(rule) for key, rule in pre.RULES.items() if key not in CHOICES}
FREE_KEYS = {key for key, rule in pre.RULES.items() if rule in FREE_TEXT_RULES}


def bakes_per_key(key: str, profile: settings | None = None) -> int:
    """A bake costs a thousand times a quoting example: a quarter of the profile's
    examples per key (25 by default, 250 when thorough), twice that for free text,
    whose values reach the most files."""
    share = max(1, (profile or settings.default).max_examples // 4)
    return 2 * share if key in FREE_KEYS else share


@pytest.mark.parametrize(
    ("profile", "free_text", "other"),
    [("default", 50, 25), ("ci", 50, 25), ("thorough", 500, 250), ("fast", 10, 5)],
)
def test_each_profile_sets_how_many_values_a_key_tries(
    profile: str, free_text: int, other: int
) -> None:
    examples = settings.get_profile(profile)

    assert (bakes_per_key("project_name", examples), bakes_per_key("port", examples)) == (
        free_text,
        other,
    )


@pytest.mark.parametrize("key", sorted(STRATEGIES))
def test_any_value_bakes_a_valid_project_or_is_refused_clearly(key: str) -> None:
    @settings(
        max_examples=bakes_per_key(key),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(STRATEGIES[key])
    def property_holds(value: str) -> None:
        check(key, value)

    property_holds()


def test_every_key_that_takes_text_has_a_strategy() -> None:
    assert [key for key, strategy in STRATEGIES.items() if strategy is None] == []


PROBE = '{{{{ cycler.__init__.__globals__.os.system("touch {marker}") }}}}'


def probe(tmp_path: Path) -> tuple[str, Path]:
    marker = tmp_path / "code-ran"
    return PROBE.format(marker=marker), marker


def cli(tmp_path: Path, *args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cookiecutter", str(ROOT), "-o", str(tmp_path / "out"), *args]
    return subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, **kwargs)


def assert_refused_without_running_code(result, marker: Path, tmp_path: Path) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stdout + result.stderr
    assert "Unable to render variable 'project_name'" in result.stdout
    assert "unsafe" in result.stdout
    assert not marker.exists()
    out = tmp_path / "out"
    assert not out.exists() or not any(out.iterdir())


def test_probe_on_the_command_line_runs_no_code(tmp_path: Path) -> None:
    value, marker = probe(tmp_path)

    result = cli(tmp_path, "--no-input", f"project_name={value}")

    assert_refused_without_running_code(result, marker, tmp_path)


def test_probe_typed_at_the_prompt_is_kept_as_text(tmp_path: Path) -> None:
    """cookiecutter renders defaults, not what a person types at a prompt."""
    value, marker = probe(tmp_path)

    result = cli(tmp_path, input=f"{value}\n" + "\n" * 20)

    assert result.returncode == 0, result.stdout + result.stderr
    assert not marker.exists()
    (readme,) = (tmp_path / "out").glob("*/README.md")
    assert readme.read_text().startswith(f"# {value}\n")


def test_probe_in_a_user_config_file_runs_no_code(tmp_path: Path) -> None:
    value, marker = probe(tmp_path)
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({"default_context": {"project_name": value}}))

    result = cli(tmp_path, "--no-input", "--config-file", str(config))

    assert_refused_without_running_code(result, marker, tmp_path)


def test_probe_in_extra_context_runs_no_code(tmp_path: Path) -> None:
    value, marker = probe(tmp_path)

    with pytest.raises(UndefinedVariableInTemplate) as refusal:
        cookiecutter(
            str(ROOT),
            no_input=True,
            extra_context={"project_name": value},
            output_dir=str(tmp_path / "out"),
        )

    assert "unsafe" in refusal.value.error.message
    assert not marker.exists()


def test_probe_in_a_replay_file_is_kept_as_text(tmp_path: Path) -> None:
    """cookiecutter uses a replay file's values as they are, without rendering them."""
    value, marker = probe(tmp_path)
    rendered = prompt_for_config(generate_context(str(ROOT / "cookiecutter.json")), no_input=True)
    replay = tmp_path / "replay.json"
    replay.write_text(json.dumps({"cookiecutter": {**rendered, "project_name": value}}))

    project = cookiecutter(str(ROOT), replay=str(replay), output_dir=str(tmp_path / "out"))

    assert not marker.exists()
    assert (Path(project) / "README.md").read_text().startswith(f"# {value}\n")


def test_an_installed_hooks_package_does_not_replace_the_templates_rules(tmp_path: Path) -> None:
    """cookiecutter appends the template to sys.path, after installed packages."""
    (tmp_path / "shadow" / "hooks").mkdir(parents=True)
    (tmp_path / "shadow" / "hooks" / "__init__.py").write_text("")
    environment = {**os.environ, "PYTHONPATH": str(tmp_path / "shadow")}

    result = cli(tmp_path, "--no-input", "project_slug=a/b", env=environment)

    assert result.returncode != 0
    assert "project_slug='a/b' must be a DNS-1123 label" in result.stdout
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


EXTENSIONS = [f"local_extensions.{name}Extension" for name in ("Sandbox", "Rules", "Quoting")]


@pytest.mark.parametrize(
    "extensions",
    [EXTENSIONS[1:], EXTENSIONS[1:2], EXTENSIONS[2:]],
    ids=["rules-and-quoting", "rules", "quoting"],
)
def test_no_subset_of_the_extensions_drops_the_sandbox(
    tmp_path: Path, extensions: list[str]
) -> None:
    """cookiecutter takes any subset of a list as an override; each of the template's
    extensions makes the environment a sandbox, so none loads without it."""
    value, marker = probe(tmp_path)

    with pytest.raises(UndefinedVariableInTemplate) as refusal:
        cookiecutter(
            str(ROOT),
            no_input=True,
            extra_context={"project_name": value, "_extensions": extensions},
            output_dir=str(tmp_path / "out"),
        )

    assert "unsafe" in refusal.value.error.message
    assert not marker.exists()


def config_file(tmp_path: Path, default_context: dict) -> str:
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({"default_context": default_context}))
    return str(config)


# The template's own settings, each as an override would set it, and what must survive.
INTERNALS = {
    "_extensions": EXTENSIONS[1:],
    "_copy_without_render": [],  # cookiecutter itself refuses anything but a subset
    "_optional_paths": {"victim": {"ci": ["none"]}},
}


@pytest.mark.parametrize("key", sorted(INTERNALS))
@pytest.mark.parametrize("way", ["config-file", "extra-context"])
def test_an_override_of_the_templates_own_settings_is_refused(
    tmp_path: Path, key: str, way: str
) -> None:
    override = {key: INTERNALS[key]}
    if key == "_optional_paths":  # a directory beside the output, as an attacker would aim
        victim = tmp_path / "victim"
        victim.mkdir()
        override[key] = {str(victim): {"ci": ["none"]}, "../victim": {"ci": ["none"]}}
    if way == "config-file":
        result = cli(tmp_path, "--no-input", "--config-file", config_file(tmp_path, override))
    else:
        result = run_api(tmp_path, override)

    told = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"{key} is the template's own setting and cannot be overridden" in told
    assert "Nothing was generated" in told
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert key != "_optional_paths" or (tmp_path / "victim").is_dir()


def run_api(tmp_path: Path, extra_context: dict) -> subprocess.CompletedProcess[str]:
    """cookiecutter's API with ``extra_context``, as tools call it, in a process of its own."""
    script = (
        "import json, sys\n"
        "from cookiecutter.main import cookiecutter\n"
        "from cookiecutter.exceptions import FailedHookException\n"
        "try:\n"
        f"    cookiecutter({str(ROOT)!r}, no_input=True, output_dir={str(tmp_path / 'out')!r},"
        " extra_context=json.loads(sys.argv[1]))\n"
        "except FailedHookException as error:\n"
        "    sys.exit(str(error))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script, json.dumps(extra_context)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )


def test_a_replay_file_cannot_delete_outside_the_project(tmp_path: Path) -> None:
    """A replay file's values are used as they are, internals included: the hooks
    refuse its ``_optional_paths`` before anything is deleted."""
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.txt").write_text("kept")
    rendered = prompt_for_config(generate_context(str(ROOT / "cookiecutter.json")), no_input=True)
    escaping = {str(victim): {"ci": ["none"]}, "../../victim": {"ci": ["none"]}}
    replay = tmp_path / "replay.json"
    replay.write_text(json.dumps({"cookiecutter": {**rendered, "_optional_paths": escaping}}))
    out = tmp_path / "out"
    script = (
        "import sys\nfrom cookiecutter.main import cookiecutter\n"
        f"cookiecutter({str(ROOT)!r}, replay={str(replay)!r}, output_dir={str(out)!r})\n"
    )

    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)

    assert result.returncode != 0
    assert "_optional_paths is the template's own setting" in result.stderr
    assert (victim / "keep.txt").read_text() == "kept"


# Every path here leads to this test's own directories, never further: were the
# hook to regress, it would delete nothing but them.
ESCAPES = ["..", "../victim", "app/../../victim", ".", "{victim}", "link-to-victim"]


@pytest.mark.parametrize("relative", ESCAPES, ids=readable)
def test_the_post_generation_hook_deletes_nothing_outside_the_project(
    tmp_path: Path, relative: str
) -> None:
    project = tmp_path / "project"
    (project / "app").mkdir(parents=True)
    (tmp_path / "victim").mkdir()
    (project / "link-to-victim").symlink_to(tmp_path / "victim")
    relative = relative.format(victim=tmp_path / "victim")
    context = {
        "ci": "github",
        "_optional_paths": {"app": {"ci": ["none"]}, relative: {"ci": ["none"]}},
    }

    with pytest.raises(ValueError, match="_optional_paths names paths outside the project"):
        post.remove_unselected(project, context)

    assert (project / "app").is_dir() and (tmp_path / "victim").is_dir()


# Values the template sets itself that reach baked files, as an override could set them.
PRIVATE_VALUES = {
    "__uv_version": "0.13.8 && touch X #",
    "_template_ref": "template:default/python-service\n    github.com/project-slug: other/repo",
    "_template_version": "0.1.0; touch X",
    "_repository": "platform/service\n    backstage.io/techdocs-ref: url:https://evil.example",
}


@pytest.mark.parametrize("key", sorted(PRIVATE_VALUES))
def test_a_private_value_that_reaches_a_baked_file_is_held_to_a_rule(
    tmp_path: Path, key: str
) -> None:
    result = run_api(tmp_path, {key: PRIVATE_VALUES[key]})

    assert result.returncode != 0
    assert f"{key}={PRIVATE_VALUES[key]!r}" in result.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    assert not (tmp_path / "X").exists()


# Values that would hold the baking machine for minutes or take gigabytes.
EXHAUSTING = {
    "nested-loops": (
        "{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}{% endfor %}"
    ),
    "loops-over-a-variable": (
        '{% set s = "x" * 99999 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}'
    ),
    "multiply-a-string": "{{ 'a' * 300000000 }}",
    "center": '{{ "x" | center(300000000) }}',
    "format-width": '{{ "%300000000d" | format(1) }}',
    "str-format-width": '{{ "{:300000000}".format(1) }}',
    "join-of-joins": "{{ range(99999) | join(range(99999) | join) }}",
    "replace-twice": '{{ "x" | replace("x", "y" * 99999) | replace("y", "y" * 99999) }}',
}
# What a refusal for cost says, one of these.
COST_REFUSALS = ("not allowed", "larger than", "took more than", "needed more than")


@pytest.mark.parametrize("value", EXHAUSTING.values(), ids=EXHAUSTING)
def test_a_value_that_would_exhaust_the_machine_is_refused_in_seconds(
    tmp_path: Path, value: str
) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)

    result = cli(tmp_path, "--no-input", f"project_name={value}", timeout=120)

    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    assert result.returncode != 0
    assert "Unable to render variable 'project_name'" in result.stdout
    assert any(reason in result.stdout for reason in COST_REFUSALS), result.stdout[-500:]
    assert cpu < 20, f"{cpu:.1f} s of CPU"
    assert after.ru_maxrss < 1024 * 1024, f"a child used {after.ru_maxrss} kB"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
