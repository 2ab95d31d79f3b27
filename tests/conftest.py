"""Fixtures shared by the template's tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import ROOT, Bake


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

