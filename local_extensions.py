"""Jinja filters this template uses to put free text into generated files.

Cookiecutter loads the classes named in ``_extensions`` (cookiecutter.json) into
its Jinja environment before it renders anything, so these filters are
available in every template file and hook.

Each filter turns a string into a double-quoted literal of one file format.
Python string literals, TOML basic strings and YAML double-quoted scalars share
the escapes used here (``\\\\``, ``\\"``, ``\\n``, ``\\t``, ``\\r``, ``\\uXXXX``,
``\\UXXXXXXXX``), so one function serves all three; they differ only in which
characters may stay as they are.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from jinja2.ext import Extension

_NAMED_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _is_printable(char: str) -> bool:
    """Characters every format takes literally: no controls, formats, separators."""
    category = unicodedata.category(char)
    return not (category.startswith("C") or category in ("Zl", "Zp"))


def _is_printable_ascii(char: str) -> bool:
    return " " <= char <= "~"


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def quote(value: str, keep: Callable[[str], bool] = _is_printable, mark: str = '"') -> str:
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


class QuotingExtension(Extension):
    """Registers ``py_str``, ``toml_str`` and ``yaml_str`` as Jinja filters."""

    def __init__(self, environment):
        super().__init__(environment)
        environment.filters.update(py_str=py_str, toml_str=toml_str, yaml_str=yaml_str)
