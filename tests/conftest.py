"""Fixtures shared by the template's tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from harness.docker import BUILDS_HERE, Docker, no_other_builds
from tests.helpers import ROOT, Bake

# Developers' runs draw new examples each time and keep exploring; CI tries the
# same examples every run, so a submission fails only for what it changed;
# HYPOTHESIS_PROFILE=thorough tries ten times as many, for a change to the rules
# or the property tests themselves; `make test-fast` tries a fifth (fast). Each
# bake-property test takes its share of max_examples (tests/test_inputs.py).
settings.register_profile("default", max_examples=100)
settings.register_profile("fast", max_examples=20)
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile("thorough", max_examples=1000)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "default")
)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run every Docker test on one xdist worker, handed out first whatever order
    pytest-randomly drew; the other workers take everything else.

    The engine builds one image at a time for these tests (two builds at once can
    share BuildKit steps, whose output BuildKit reports to only one of them, see
    ``harness.docker.builder_to_ourselves``): a second worker on Docker tests would
    mostly wait for the builder while the tests that need no Docker wait for it,
    and a build cache record one worker made and the other's build reused would
    outlive both workers' cleanup (``harness.docker.BuildCacheLedger``). Handed out
    last, the Docker tests would run alone while the other workers idle.
    """
    for item in items:
        if item.get_closest_marker("docker"):
            item.add_marker(pytest.mark.xdist_group("docker"))
    items.sort(key=lambda item: item.get_closest_marker("docker") is None)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish() -> None:
    """Remove the build cache this process's builds made (each worker its own),
    after every fixture has removed its images (last, so an interrupted session
    tears its fixtures down first): otherwise every run of the suite would leave
    gigabytes on the engine."""
    if BUILDS_HERE.made:
        with no_other_builds():
            BUILDS_HERE.remove(Docker.from_environment())


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
