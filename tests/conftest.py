"""Fixtures shared by the template's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from harness.docker import Docker
from tests.helpers import ROOT, Bake, case_id

# Developers' runs draw new examples each time and keep exploring; CI tries the
# same examples every run, so a submission fails only for what it changed;
# HYPOTHESIS_PROFILE=thorough tries ten times as many, for a change to the rules
# or the property tests themselves. Each bake-property test takes its share of
# max_examples (tests/test_inputs.py).
settings.register_profile("default", max_examples=100)
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("thorough", max_examples=1000)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep each Docker variant's tests on one xdist worker, so each image builds once,
    and hand those groups out first, whatever order pytest-randomly drew.

    Two workers building the same image at once would share BuildKit steps, and
    BuildKit reports a shared step's output to only one of them. A variant's group
    runs for minutes; started last, it would run alone while the other worker idles.
    """
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and "variant" in callspec.params:
            item.add_marker(pytest.mark.xdist_group(case_id(callspec.params["variant"])))
    items.sort(key=lambda item: item.get_closest_marker("xdist_group") is None)


@pytest.fixture(scope="session")
def bake(cookies_session) -> Bake:
    """Bake the template with these choices, once per session, and return the project."""
    baked: dict[tuple, Path] = {}

    def _bake(**extra: str) -> Path:
        key = tuple(sorted(extra.items()))
        if key not in baked:
            result = cookies_session.bake(extra_context=extra, template=str(ROOT))
            assert result.exception is None, f"bake {extra} failed: {result.exception!r}"
            assert result.exit_code == 0
            baked[key] = Path(result.project_path)
        return baked[key]

    return _bake


@pytest.fixture(scope="session")
def docker() -> Docker:
    docker = Docker.from_environment()
    problem = docker.unreachable()
    if problem and os.environ.get("REQUIRE_DOCKER") == "1":
        pytest.fail(f"REQUIRE_DOCKER=1 but {problem}")
    if problem:
        pytest.skip(problem)
    return docker
