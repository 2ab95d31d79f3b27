"""How the suite itself runs: what conftest.py promises about workers."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from tests.helpers import ROOT, environment_with, run


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
