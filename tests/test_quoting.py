"""Free text survives the trip into Python, TOML, YAML and JSON literals and HTML, whatever
it holds."""

from __future__ import annotations

import ast
import json
import subprocess
import tomllib
from html.parser import HTMLParser

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import TOOLS, template_module

quoting = template_module("extensions")
py_str, toml_str, yaml_str, json_str, html_text = (
    quoting.py_str,
    quoting.toml_str,
    quoting.yaml_str,
    quoting.json_str,
    quoting.html_text,
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


class Elements(HTMLParser):
    """The tags, attributes and text of an HTML fragment, as a browser reads them."""

    def __init__(self, fragment: str) -> None:
        super().__init__(convert_charrefs=True)
        self.read: list[tuple[str, object]] = []
        self.feed(fragment)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.read.append((tag, attrs))

    def handle_endtag(self, tag: str) -> None:
        self.read.append(("/" + tag, None))

    def handle_data(self, data: str) -> None:
        self.read.append(("text", data))


@given(TEXTS)
def test_html_text_stays_text_in_an_element_and_an_attribute(value: str) -> None:
    """What mkdocs' themes do with site_name and site_description: paste them in."""
    text = html_text(value)
    read = Elements(f'<title>{text}</title><meta content="{text}">').read

    assert read == [
        ("title", []),
        *([("text", value)] if value else []),
        ("/title", None),
        ("meta", [("content", value)]),
    ]


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
