"""What the service adds to a request, in instructions that callgrind counts
(benchmarks/instructions.py, docs/benchmarks.md "Cost per request"): held under
its budget over bare FastAPI, so no change can quietly double it again. The
counts do not depend on the machine's load."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import instructions
from tests.helpers import ROOT, environment_with

# On one xdist worker: each worker would otherwise count every variant for its
# share of the tests.
pytestmark = [pytest.mark.xdist_group("instructions"), pytest.mark.slow]

BARE = "bare FastAPI"
# Instructions per /health request, at most, as a multiple of bare FastAPI's. With
# an endpoint the aim is 3x, not reached: measured 3.13x (how the export thread's
# batches fall moves it by 2%), bare FastAPI with its own tracing and the SDK's OTLP
# export costing 2.83x by itself (docs/benchmarks.md, "Cost per request").
OTLP = "tracing=opentelemetry, OTLP endpoint"
BUDGETS = {
    "tracing=none": 1.35,
    "tracing=opentelemetry": 1.35,
    OTLP: 3.25,
}
# What the service's own features (access record with trace ids, request id, metrics)
# may add to a traced request over bare FastAPI traced and exported the same way, as a
# multiple of bare FastAPI's: measured 0.30x. FastAPI's and the SDK's own costs cancel
# out of this one, so it holds the service's share whatever their releases do.
BARE_TRACED = "bare FastAPI, FastAPI's tracing, OTLP endpoint"
FEATURES_OVER_TRACING = 0.4


@pytest.fixture(scope="module")
def per_request(tmp_path_factory: pytest.TempPathFactory) -> dict[str, float]:
    if problem := instructions.valgrind_missing():
        if os.environ.get("REQUIRE_VALGRIND") == "1":
            pytest.fail(f"REQUIRE_VALGRIND=1, but {problem}")
        pytest.skip(problem)
    chosen = {BARE, BARE_TRACED, *BUDGETS}
    return instructions.measure(tmp_path_factory.mktemp("instructions"), chosen)


@pytest.mark.parametrize(("variant", "budget"), BUDGETS.items())
def test_a_request_costs_at_most_its_budget_over_bare_fastapi(
    per_request: dict[str, float], variant: str, budget: float
) -> None:
    ratio = per_request[variant] / per_request[BARE]

    assert ratio <= budget, (
        f"{variant}: {per_request[variant]:,.0f} instructions per request, "
        f"{ratio:.2f}x bare FastAPI's {per_request[BARE]:,.0f} (budget {budget}x)"
    )


def test_the_services_features_add_little_to_a_traced_request(
    per_request: dict[str, float],
) -> None:
    added = (per_request[OTLP] - per_request[BARE_TRACED]) / per_request[BARE]

    assert added <= FEATURES_OVER_TRACING, (
        f"the service adds {added:.2f}x bare FastAPI's instructions to a traced request"
        f" over bare FastAPI traced the same way (budget {FEATURES_OVER_TRACING}x)"
    )


@pytest.mark.parametrize(("required", "outcome"), [("0", "3 skipped"), ("1", "3 errors")])
def test_without_valgrind_the_budget_tests_skip_or_fail_when_required(
    tmp_path: Path, required: str, outcome: str
) -> None:
    result = subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", "-n0",
            f"{Path(__file__).relative_to(ROOT)}::"
            "test_a_request_costs_at_most_its_budget_over_bare_fastapi",
        ],
        cwd=ROOT, capture_output=True, text=True,
        env=environment_with(PATH=str(tmp_path), REQUIRE_VALGRIND=required),
    )  # fmt: skip

    assert outcome in result.stdout, result.stdout
    assert "valgrind and callgrind_control not on PATH (Debian: apt-get install valgrind)" in (
        result.stdout
    )
