"""Jinja extensions of this template: a sandbox and the rules for values, and quoting filters.

Cookiecutter loads the classes named in ``_extensions`` into each Jinja
environment it makes, before it renders anything with it, including the values
people type, which cookiecutter renders as templates. Both ways of baking load
this module: the cookiecutter CLI through local_extensions.py at the template's
root, and Backstage's fetch:cookiecutter through the ``extensions`` input in
template.yaml, which names it inside the directory the action copies the project
template into (cookiecutter puts that directory's parent on ``sys.path``).

``SandboxExtension`` turns the environment into a Jinja sandbox, so no value can
reach Python's internals (``{{ cycler.__init__.__globals__.os.system(...) }}``),
and reports every value that fails to render as an ``UndefinedError``, which
cookiecutter prints as "Unable to render variable '<key>'" with the reason,
instead of a traceback. It also checks ``project_slug`` when the project
directory's name is rendered, because cookiecutter creates that directory
before the pre-generation hook runs. Where no pre-generation hook sits beside
the template (Backstage's action copies none), it applies every rule of
rules.py before the first file is rendered instead.

``RulesExtension`` gives templates the ``problems`` filter: the rules' verdict on
a context, which hooks/pre_gen_project.py prints.

``QuotingExtension``'s filters each turn a string into a double-quoted literal of one file format.
Python string literals, TOML basic strings and YAML double-quoted scalars share
the escapes used here (``\\\\``, ``\\"``, ``\\n``, ``\\t``, ``\\r``, ``\\uXXXX``,
``\\UXXXXXXXX``), so one function serves all three; they differ only in which
characters may stay as they are.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import json
import operator
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from jinja2 import Environment, Template
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.ext import Extension
from jinja2.sandbox import SandboxedEnvironment, safe_range


def _load_rules() -> Any:
    """rules.py beside this file, loaded by path: the directory holding both is
    not an importable package in every layout that loads this module."""
    path = Path(__file__).resolve().with_name("rules.py")
    spec = importlib.util.spec_from_file_location("_template_rules", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The oldest cookiecutter this template is tested with. Older ones load these
# extensions but render some values differently and then blame the values, so
# they are stopped here, before anything renders.
OLDEST_COOKIECUTTER = (2, 2, 0)


def _refuse_old_cookiecutter() -> None:
    try:
        installed = importlib.metadata.version("cookiecutter")
    except importlib.metadata.PackageNotFoundError:  # not run by cookiecutter
        return
    numbers = tuple(int(part) for part in re.findall(r"\d+", installed)[:3])
    if numbers < OLDEST_COOKIECUTTER:
        oldest = ".".join(map(str, OLDEST_COOKIECUTTER))
        raise SystemExit(
            f"This template needs cookiecutter {oldest} or newer, and this is {installed}:"
            f" pipx install 'cookiecutter>={oldest}' (or pip install --upgrade cookiecutter)."
        )


_refuse_old_cookiecutter()
RULES = _load_rules()
# The template's root: this file is <root>/{{cookiecutter.project_slug}}/_template/.
# Backstage's action copies the project template alone, so no hook sits beside it.
HOOK_RUNS = (Path(__file__).resolve().parents[2] / "hooks" / "pre_gen_project.py").is_file()

# The largest string, list or number of digits arithmetic in a value may make.
MAX_SIZE = 100_000

_NAMED_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _is_printable_ascii(char: str) -> bool:
    return " " <= char <= "~"


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def quote(value: str, keep: Callable[[str], bool] = RULES.is_printable, mark: str = '"') -> str:
    """Return ``value`` quoted with ``mark``, escaping what ``keep`` rejects."""
    escapes = {**_NAMED_ESCAPES, mark: "\\" + mark}
    body = "".join(
        escapes.get(char) or (char if keep(char) else _escape(char)) for char in str(value)
    )
    return f"{mark}{body}{mark}"


def py_str(value: str) -> str:
    """A Python string literal, ASCII only, so linters see no confusable letters.

    Quoted as ruff's formatter would: double quotes unless the text holds more
    double quotes than single ones, so `ruff format --check` passes on the bake.
    """
    mark = "'" if value.count('"') > value.count("'") else '"'
    return quote(value, keep=_is_printable_ascii, mark=mark)


def toml_str(value: str) -> str:
    """A TOML basic string."""
    return quote(value)


def yaml_str(value: str) -> str:
    """A YAML double-quoted scalar (PyYAML rejects raw control characters)."""
    return quote(value)


class UnrenderableValue(SecurityError, UndefinedError):
    """A value is unsafe, or not a template that renders. An UndefinedError, because
    that is what cookiecutter reports as a message rather than a traceback."""


def _bounded(result: Any) -> Any:
    size = len(result) if isinstance(result, str | bytes | list | tuple) else 0
    if isinstance(result, int) and result.bit_length() > MAX_SIZE * 3.33:
        size = MAX_SIZE + 1
    if size > MAX_SIZE:
        raise UnrenderableValue(f"the result is larger than {MAX_SIZE} characters or digits")
    return result


def _checked(operation: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``operation``, refusing operands that would make a huge result."""

    def run(left: Any, right: Any) -> Any:
        if operation is operator.pow and isinstance(right, int) and abs(right) > 1000:
            raise UnrenderableValue("exponents above 1000 are not allowed")
        for factor in (left, right):
            if isinstance(factor, int) and factor > MAX_SIZE and operation is operator.mul:
                other = right if factor is left else left
                if isinstance(other, str | bytes | list | tuple):
                    raise UnrenderableValue(f"the result is larger than {MAX_SIZE} characters")
        return _bounded(operation(left, right))

    return run


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox rules, with every failure reported as UnrenderableValue."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        return _checked(self.binop_table[operator_])(left, right)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Any:
        return self.undefined(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe",
            name=attribute,
            obj=obj,
            exc=UnrenderableValue,
        )

    def getattr(self, obj: Any, attribute: str) -> Any:
        value = super().getattr(obj, attribute)
        if attribute == "project_slug" and isinstance(value, str) and RULES.project_slug(value):
            # Report every problem, as the hook would: a bad slug is often derived
            # from a bad project_name.
            problems = RULES.validate(obj) if isinstance(obj, dict) else []
            raise UnrenderableValue("\n".join(problems) or f"project_slug={value!r} is invalid")
        return value

    def handle_exception(self, source: str | None = None) -> Any:
        error = sys.exc_info()[1]
        if isinstance(error, UndefinedError):
            return super().handle_exception(source)
        reason = f"{type(error).__name__}: {error}".replace("\n", " ")
        raise UnrenderableValue(
            f"{reason} (values are rendered as Jinja templates; write a literal"
            " '{{' as {{ '{{' }})"
        ) from None


@functools.cache
def _sandboxed(environment_class: type[Environment]) -> type[Environment]:
    return type(f"Sandboxed{environment_class.__name__}", (_Sandbox, environment_class), {})


def _sandbox(environment: Environment) -> None:
    """Make ``environment`` a sandbox, once.

    Jinja compiles templates for the sandbox when the environment's class is a
    sandbox; no template has been compiled yet. What SandboxedEnvironment's own
    __init__ sets up follows.
    """
    if isinstance(environment, _Sandbox):
        return
    environment.__class__ = _sandboxed(type(environment))
    environment.globals["range"] = safe_range
    environment.binop_table = dict(SandboxedEnvironment.default_binop_table)
    environment.unop_table = dict(SandboxedEnvironment.default_unop_table)


class _Sandboxing(Extension):
    """Every extension of this template makes its environment a sandbox: cookiecutter
    takes any subset of ``_extensions`` as an override, and a subset that left out
    SandboxExtension alone would otherwise render values with no sandbox."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        _sandbox(environment)


class SandboxExtension(_Sandboxing):
    """Makes the environment it is loaded into a sandbox (see the module's docstring)."""


# cookiecutter.json at the template's root, where the CLI bakes from; Backstage's
# action writes its own from the step's values, so there it holds nothing to compare.
OWN_SETTINGS = (
    json.loads((Path(__file__).resolve().parents[2] / "cookiecutter.json").read_text("utf-8"))
    if HOOK_RUNS
    else {}
)


def problems(context: dict[str, Any]) -> list[str]:
    """The rules' verdict on a cookiecutter context: one line per problem."""
    return RULES.validate(context) + RULES.overridden_internals(context, OWN_SETTINGS)


class _RuledTemplate(Template):
    """A template that refuses to render with a complete context that breaks a rule."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        context = dict(*args, **kwargs).get("cookiecutter")
        # Complete once cookiecutter has rendered every value; the first render
        # with it names the project directory, before anything is written.
        if isinstance(context, dict) and context.keys() >= RULES.RULES.keys():
            found = problems(context)
            if found:
                raise UnrenderableValue("\n".join(found))
        return super().render(*args, **kwargs)


class RulesExtension(_Sandboxing):
    """Registers the ``problems`` filter; where no hook runs, applies the rules itself."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["problems"] = problems
        if not HOOK_RUNS:
            environment.template_class = _RuledTemplate


class QuotingExtension(_Sandboxing):
    """Registers ``py_str``, ``toml_str`` and ``yaml_str`` as Jinja filters."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters.update(py_str=py_str, toml_str=toml_str, yaml_str=yaml_str)
