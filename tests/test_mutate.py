"""`make mutate`: its mutants still apply, and a trial tells a caught mutant from a missed one."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.mutate import MUTANTS, Mutant, copy_of_the_repository, missing_originals, trial
from tests.helpers import ROOT


def test_every_mutant_still_applies_and_names_existing_tests() -> None:
    files = {argument.split("::")[0] for m in MUTANTS for argument in m.tests[:1]}

    assert missing_originals(MUTANTS) == []
    assert [name for name in sorted(files) if not (ROOT / name).is_file()] == []
    assert len({m.name for m in MUTANTS}) == len(MUTANTS)


@pytest.fixture(scope="module")
def copy(tmp_path_factory) -> Path:
    return copy_of_the_repository(tmp_path_factory.mktemp("repository"))


@pytest.mark.slow
def test_a_trial_names_the_test_that_catches_the_mutant(copy: Path) -> None:
    (mutant,) = [m for m in MUTANTS if m.name == "rule-whole-number"]

    caught_by, _ = trial(mutant, copy)

    assert caught_by and caught_by.startswith("tests/test_validation.py::"), caught_by
    assert (copy / mutant.path).read_text() == (ROOT / mutant.path).read_text()


@pytest.mark.slow
def test_a_trial_of_a_change_no_test_notices_reports_it_missed(copy: Path) -> None:
    harmless = Mutant(
        "comment", "nothing", "CHANGELOG.md", (("# Changelog", "# Changes"),),
        ("tests/test_mutate.py", "-k", "still_applies"),
    )  # fmt: skip

    assert trial(harmless, copy)[0] is None
