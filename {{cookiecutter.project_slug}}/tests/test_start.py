from pathlib import Path

import pytest

from app.__main__ import empty_metrics_directory


def test_the_metrics_directory_starts_empty(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_7.db").write_bytes(b"stale")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(directory))

    empty_metrics_directory()

    assert directory.is_dir() and list(directory.iterdir()) == []
