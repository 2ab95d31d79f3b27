"""The build cache the tests' builds make is theirs to remove, and only that.

Every run of the suite makes its build steps unique to the run, so each run adds
records (gigabytes of them) that no later run reuses: kept, they fill the disk.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from harness.docker import (
    BuildCacheLedger,
    Docker,
    build_cache_records,
    builder_to_ourselves,
    no_other_builds,
)
from tests.helpers import ROOT, default_context, environment_with, run

pytestmark = pytest.mark.docker


def build_unique(docker: Docker, workdir: Path, name: str) -> None:
    """Build (and untag) an image whose steps no earlier build has made."""
    context = workdir / name
    context.mkdir()
    (context / "Dockerfile").write_text(
        f"FROM {default_context()['base_image']}\nRUN echo {uuid.uuid4()} > /{name}\n"
    )
    tag = f"template-tests-ledger:{name}-{uuid.uuid4().hex[:8]}"
    docker.build(context, tag)
    docker("rmi", tag)


def test_a_ledger_removes_the_records_its_builds_made_and_no_other(
    docker: Docker, tmp_path: Path
) -> None:
    # "Theirs" stands for a user's other project: built first, on the same base,
    # so "ours" finds records of theirs to reuse.
    theirs, ours = BuildCacheLedger(), BuildCacheLedger()
    with builder_to_ourselves(docker):
        with theirs.recording(docker):
            build_unique(docker, tmp_path, "theirs")
        with ours.recording(docker):
            build_unique(docker, tmp_path, "ours")
    made_by_us = set(ours.made)
    assert made_by_us, "the build made no record the ledger saw"
    assert not made_by_us & theirs.made

    ours.remove(docker)

    left = build_cache_records(docker)
    assert not made_by_us & left, "records of ours are still there"
    assert theirs.made <= left, "a record made before ours was removed"
    assert not ours.made, "the ledger still lists what it removed"


def test_a_ledger_removes_what_the_engine_created_while_it_recorded(
    docker: Docker, tmp_path: Path
) -> None:
    ledger = BuildCacheLedger()
    with builder_to_ourselves(docker), ledger.recording(docker):
        build_unique(docker, tmp_path, "unlisted")
    made = set(ledger.made)
    assert made, "the build made no record the ledger saw"
    ledger.made.clear()  # as if the listing when the recording ended had missed them

    ledger.remove(docker)

    assert not made & build_cache_records(docker), "records created meanwhile are still there"


def test_a_test_session_leaves_no_build_cache_behind(docker: Docker, tmp_path: Path) -> None:
    """A whole pytest session, its end included: the test above, run on its own.

    This session's other workers wait while it runs, so every record that appears
    is its; it builds under a lock of its own, in its own TMPDIR."""
    with no_other_builds():
        before = build_cache_records(docker)
        run(
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-n0",
            f"{Path(__file__).relative_to(ROOT)}::"
            "test_a_ledger_removes_the_records_its_builds_made_and_no_other",
            cwd=ROOT, env=environment_with(TMPDIR=str(tmp_path)),
        )  # fmt: skip
        after = build_cache_records(docker)

    assert after <= before
