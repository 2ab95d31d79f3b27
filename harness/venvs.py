"""Venvs for the baked services' locks, built once and shared by every test,
worker, benchmark and run with the same lock, under .cache/venvs."""

from __future__ import annotations

import fcntl
import hashlib
import subprocess
import sys
import venv
from pathlib import Path

VENV_CACHE = Path(__file__).resolve().parent.parent / ".cache" / "venvs"


def venv_for(lock: Path) -> Path:
    """A venv with ``lock`` installed, for this Python.

    Keyed by the lock's content, so a changed lock gets a new venv; a file lock
    lets parallel workers wait for the one that builds it.
    """
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()[:16]
    path = VENV_CACHE / f"{sys.implementation.cache_tag}-{digest}"
    VENV_CACHE.mkdir(parents=True, exist_ok=True)
    with open(f"{path}.lock", "w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if not (path / "complete").exists():
            venv.create(path, clear=True, with_pip=True)
            subprocess.run(
                [
                    path / "bin" / "python",
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--require-hashes",
                    "-r",
                    lock,
                ],
                check=True,
            )
            (path / "complete").touch()
    return path
