"""The cookiecutter versions the README promises: the oldest bakes what the newest
bakes, and an older one stops before anything renders, naming the minimum.

Each version runs from its own venv, from the hashed locks in tests/cookiecutter/.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.helpers import (
    ROOT,
    fresh_bake,
    published_files,
    run,
    template_module,
    venv_for,
)

OLDEST = ".".join(map(str, template_module("extensions").OLDEST_COOKIECUTTER))
TOO_OLD = "2.1.1"
VARIANTS = {
    "defaults": {},
    "uv-gitlab-helm": {
        "package_manager": "uv",
        "ci": "gitlab",
        "kubernetes": "helm",
        "python_version": "3.14",
    },
    "no-ci-no-deploy-no-syntax-line": {
        "ci": "none",
        "kubernetes": "none",
        "python_version": "3.11",
        "dockerfile_frontend": "",
    },
    "quoted-text": {"project_name": 'Zoë\'s "Payments": API {braces}', "description": "a: b # c"},
}


def cookiecutter(version: str) -> Path:
    return venv_for(ROOT / "tests" / "cookiecutter" / f"{version}.txt") / "bin" / "cookiecutter"


@pytest.mark.parametrize("extra", VARIANTS.values(), ids=VARIANTS.keys())
def test_the_oldest_supported_cookiecutter_bakes_what_the_newest_bakes(
    extra: dict[str, str], tmp_path: Path
) -> None:
    values = [f"{key}={value}" for key, value in extra.items()]
    oldest = tmp_path / "oldest"

    run(cookiecutter(OLDEST), ROOT, "--no-input", "--output-dir", oldest, *values, cwd=tmp_path)

    newest = fresh_bake(tmp_path / "newest", **extra)
    assert published_files(oldest / newest.name) == published_files(newest)


def test_an_older_cookiecutter_stops_in_one_line_naming_the_minimum(tmp_path: Path) -> None:
    result = subprocess.run(
        [cookiecutter(TOO_OLD), ROOT, "--no-input", "--output-dir", tmp_path / "out"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"This template needs cookiecutter {OLDEST} or newer, and this is {TOO_OLD}:"
        f" pipx install 'cookiecutter>={OLDEST}' (or pip install --upgrade cookiecutter)."
    ]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_the_readme_states_the_oldest_cookiecutter() -> None:
    readme = (ROOT / "README.md").read_text()

    assert f"cookiecutter {OLDEST} or newer" in readme
    assert (ROOT / "tests" / "cookiecutter" / f"{OLDEST}.txt").is_file()
