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
instead of a traceback. Every render with the complete context (the first names
the project directory, which cookiecutter creates before the pre-generation hook
runs, and Backstage's action runs no hooks) applies every rule of rules.py first,
and a broken rule stops the bake with the problems alone; ``project_slug`` is also
checked wherever a template reads it.

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
import html
import importlib.metadata
import importlib.util
import json
import operator
import re
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

try:
    import resource
except ImportError:  # Windows: no address-space limit
    resource = None

from cookiecutter.exceptions import FailedHookException
from jinja2 import Environment, Template
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.ext import Extension
from jinja2.nodes import EvalContext
from jinja2.runtime import Context
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


def json_str(value: str) -> str:
    """A JSON string as ``json.dumps(value, ensure_ascii=False)`` writes it: the bytes
    of a file the service writes with that call (``make openapi``)."""
    return json.dumps(value, ensure_ascii=False)


def html_text(value: str) -> str:
    """Text with ``&``, ``<``, ``>`` and both quotes as HTML character references, for
    a place that pastes it into HTML as it is: mkdocs' themes put ``site_name`` in
    ``<title>`` and ``site_description`` in an attribute without escaping them."""
    return html.escape(str(value), quote=True)


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


# A width or precision in a format string ("%300000000d", "{:>300000000}").
_HUGE_NUMBER = re.compile(rf"[0-9]{{{len(str(MAX_SIZE)) + 1},}}")


def _refuse_huge_format(text: Any) -> None:
    if isinstance(text, str) and _HUGE_NUMBER.search(text):
        raise UnrenderableValue(f"format strings with numbers above {MAX_SIZE} are not allowed")


def _refuse_huge_arguments(name: str, args: tuple, kwargs: dict) -> None:
    """Numbers that make a result that large (a width, a count) are refused before
    the work is done, not after."""
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SIZE:
            raise UnrenderableValue(f"{name}() with a number above {MAX_SIZE} is not allowed")


def _guarded(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that refuses huge arguments and results."""

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        # The first argument that is no environment or context is the filtered value.
        passed = [arg for arg in args if not isinstance(arg, Environment | Context | EvalContext)]
        _refuse_huge_arguments(name, tuple(passed[1:]), kwargs)
        if name == "format" and passed:
            _refuse_huge_format(passed[0])
        return _bounded(function(*args, **kwargs))

    return run


class _GuardedFilters(dict):
    """The environment's filters, each guarded when a template looks it up: at run
    time (``[]``) and when Jinja folds constants while compiling (``get``)."""

    def __getitem__(self, name: str) -> Callable[..., Any]:
        return _guarded(name, super().__getitem__(name))

    def get(self, name: str, default: Any = None) -> Any:
        try:
            return self[name]
        except KeyError:
            return default


def _checked(operation: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """``operation``, refusing operands that would make a huge result."""

    def run(left: Any, right: Any) -> Any:
        if operation is operator.pow and isinstance(right, int) and abs(right) > 1000:
            raise UnrenderableValue("exponents above 1000 are not allowed")
        if operation is operator.mod:
            _refuse_huge_format(left)
        for factor in (left, right):
            if isinstance(factor, int) and factor > MAX_SIZE and operation is operator.mul:
                other = right if factor is left else left
                if isinstance(other, str | bytes | list | tuple):
                    raise UnrenderableValue(f"the result is larger than {MAX_SIZE} characters")
        return _bounded(operation(left, right))

    return run


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox rules, with every failure reported as UnrenderableValue."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def call_binop(self, context: Any, operator_: str, left: Any, right: Any) -> Any:
        return _checked(self.binop_table[operator_])(left, right)

    def call(self, context: Context, function: Any, /, *args: Any, **kwargs: Any) -> Any:
        name = getattr(function, "__name__", type(function).__name__)
        if function is not safe_range:  # which refuses more than 100000 items itself
            _refuse_huge_arguments(name, args, kwargs)
        if name in ("format", "format_map"):  # str.format, as the sandbox wraps it
            text = getattr(getattr(function, "__wrapped__", function), "__self__", None)
            _refuse_huge_format(text)
        return _bounded(super().call(context, function, *args, **kwargs))

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
        if isinstance(error, MemoryError):
            raise OverBudget(f"rendering needed more than {MAX_MEMORY // 2**20} MiB") from None
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
    environment.filters = _GuardedFilters(environment.filters)
    environment.template_class = _RuledTemplate


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


# What rendering one template may cost: seconds of CPU, and memory beyond what the
# process holds already. Renders here take milliseconds and kilobytes; the bounds
# stop a value written to exhaust the machine that bakes (a scaffolder worker).
MAX_SECONDS = 3
MAX_MEMORY = 512 * 2**20
_rendering = threading.local()


class OverBudget(UnrenderableValue):
    """A render ran out of its time or memory."""


def _over_time(*_: object) -> None:
    raise OverBudget(f"rendering took more than {MAX_SECONDS} s of CPU")


def _address_space() -> int | None:
    """This process's address space in bytes (Linux), or None where unknown."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * resource.getpagesize()


@contextmanager
def _cpu_limit() -> Iterator[None]:
    """SIGPROF after MAX_SECONDS of CPU, which raises OverBudget where the render is.
    Signals reach the main thread only; elsewhere, or under a profiler, no limit."""
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGPROF) not in (signal.SIG_DFL, None):
        yield
        return
    previous = signal.signal(signal.SIGPROF, _over_time)
    signal.setitimer(signal.ITIMER_PROF, MAX_SECONDS)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


@contextmanager
def _memory_limit() -> Iterator[None]:
    """An address-space limit of MAX_MEMORY above what the process holds: an
    allocation past it raises MemoryError instead of exhausting the machine."""
    used = _address_space() if resource is not None else None
    if used is None:
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = used + MAX_MEMORY
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft != resource.RLIM_INFINITY and soft <= limit:
        yield
        return
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        with suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


class _BudgetedTemplate(Template):
    """A template whose render stops past MAX_SECONDS of CPU or MAX_MEMORY."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        if getattr(_rendering, "active", False):  # a render inside a render
            return super().render(*args, **kwargs)
        _rendering.active = True
        try:
            with _cpu_limit(), _memory_limit():
                return super().render(*args, **kwargs)
        finally:
            _rendering.active = False


NOTHING_GENERATED = "Nothing was generated; run cookiecutter again with these fixed."


class _RuledTemplate(_BudgetedTemplate):
    """A template that refuses to render with a complete context that breaks a rule.

    The context is complete once cookiecutter has rendered every value; the first
    render with it names the project directory, before anything is written. The
    refusal is a FailedHookException, which cookiecutter prints as it is: every
    problem and one line more, no context dump or traceback.
    """

    def render(self, *args: Any, **kwargs: Any) -> str:
        context = dict(*args, **kwargs).get("cookiecutter")
        if isinstance(context, dict) and context.keys() >= RULES.RULES.keys():
            found = problems(context)
            if found:
                lines = [f"error: {problem}" for problem in found]
                raise FailedHookException("\n".join([*lines, NOTHING_GENERATED]))
        return super().render(*args, **kwargs)


class RulesExtension(_Sandboxing):
    """Registers the ``problems`` filter, which hooks/pre_gen_project.py prints."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["problems"] = problems


class QuotingExtension(_Sandboxing):
    """Registers ``py_str``, ``toml_str``, ``yaml_str``, ``json_str`` and ``html_text`` as
    Jinja filters."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters.update(
            py_str=py_str,
            toml_str=toml_str,
            yaml_str=yaml_str,
            json_str=json_str,
            html_text=html_text,
        )
