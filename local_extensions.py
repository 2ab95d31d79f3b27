"""The template's Jinja extensions, for the cookiecutter CLI (cookiecutter.json's ``_extensions``).

They live in {{cookiecutter.project_slug}}/_template/extensions.py, inside the
project template, because Backstage's fetch:cookiecutter copies only that
directory and must load the same sandbox. Cookiecutter imports extensions by
dotted name, which a directory named ``{{cookiecutter.project_slug}}`` cannot
be part of, so this module loads the file by path.
"""

import importlib.util
from pathlib import Path

_PATH = (
    Path(__file__).resolve().parent
    / "{{cookiecutter.project_slug}}"
    / "_template"
    / "extensions.py"
)
_spec = importlib.util.spec_from_file_location("_template_extensions", _PATH)
extensions = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(extensions)

SandboxExtension = extensions.SandboxExtension
RulesExtension = extensions.RulesExtension
QuotingExtension = extensions.QuotingExtension
