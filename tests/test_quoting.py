"""Free text survives the trip into Python, TOML, YAML and JSON literals, whatever it holds."""

from __future__ import annotations

import ast
import json
import subprocess
import tomllib

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import TOOLS, template_module

quoting = template_module("extensions")
py_str, toml_str, yaml_str, json_str = (
    quoting.py_str,
    quoting.toml_str,
    quoting.yaml_str,
    quoting.json_str,
)

# Any text the validation lets through is one line of printable text, but the
# filters must be right for anything at all that is valid Unicode.
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=80)
TRICKY = st.text(alphabet="\"'\\\n\t\r:#-[]{}&*!|>%@`$ {}é€😀\x00\x7f\u2028\ufeff", max_size=40)
TEXTS = ANY_TEXT | TRICKY


@given(TEXTS)
def test_python_literal_round_trips(value: str) -> None:
    literal = py_str(value)

    assert literal.isascii()
    assert ast.literal_eval(literal) == value


@given(TEXTS)
def test_toml_string_round_trips(value: str) -> None:
    assert tomllib.loads(f"key = {toml_str(value)}")["key"] == value


@given(TEXTS)
def test_yaml_string_round_trips(value: str) -> None:
    assert yaml.safe_load(f"key: {yaml_str(value)}")["key"] == value


@given(TEXTS)
def test_json_string_round_trips(value: str) -> None:
    assert json.loads(f'{{"key": {json_str(value)}}}')["key"] == value


@settings(max_examples=60, deadline=None)
@given(TEXTS)
def test_python_literal_is_already_ruff_formatted(value: str) -> None:
    source = f"TITLE = {py_str(value)}\n"
    if len(source) > 88:  # ruff would wrap a long line; the template avoids that layout
        source = f"call(\n    default={py_str(value)},\n)\n"

    formatted = subprocess.run(
        [TOOLS / "ruff", "format", "-"], input=source, capture_output=True, text=True, check=True
    ).stdout

    assert formatted == source
