"""How the suite itself runs: what conftest.py promises about workers."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, environment_with, run
from tests.test_docker import VARIANTS

# Each test runs an inner pytest session.
pytestmark = pytest.mark.slow


def test_the_docker_tests_all_run_on_one_worker(tmp_path: Path) -> None:
    """conftest.py groups them for --dist loadgroup: on two workers, builds that reuse
    each other's steps would leave records neither worker's cleanup can remove, and
    would wait on each other for the builder. With no engine they skip at once, so
    this inner session costs seconds."""
    no_engine = environment_with(
        DOCKER=str(tmp_path / "no-docker"), REQUIRE_DOCKER="", TMPDIR=str(tmp_path)
    )
    result = run(
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-n", "2", "-v", "-m", "docker",
        "tests/test_build_cache.py", "tests/test_private_index.py",
        cwd=ROOT, env=no_engine,
    )  # fmt: skip

    workers = re.findall(r"^\[(gw\d+)\] .*(?:SKIPPED|PASSED)", result.stdout, re.M)
    assert len(workers) > 2, f"too few tests ran to tell:\n{result.stdout}"
    assert len(set(workers)) == 1, f"the Docker tests ran on {sorted(set(workers))}"


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_each_image_variant_is_built_once_whatever_the_order(seed: int) -> None:
    """A test parametrised over only some variants must not make pytest set the
    variant's builds up again (it keys them by the parameter's position): each
    extra set-up is minutes of builds, and a rebuild of the same context finds its
    steps cached where a test expects them to run."""
    result = run(
        sys.executable, "-m", "pytest", "--setup-plan", "-n0", "-p", "no:cacheprovider",
        "-p", "randomly", f"--randomly-seed={seed}", "-m", "docker", "tests/test_docker.py",
        cwd=ROOT,
    )  # fmt: skip

    set_ups = re.findall(r"^\s*SETUP\s+M (\w+)", result.stdout, re.M)
    assert set_ups.count("builds") == len(VARIANTS), result.stdout
