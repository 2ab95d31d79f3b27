"""Facts about the template and helpers its tests share."""

from __future__ import annotations

import fcntl
import hashlib
import json
import subprocess
import sys
import venv
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_CONTEXT = json.loads((ROOT / "cookiecutter.json").read_text())
# Choice keys and their values, default first, as cookiecutter.json lists them.
CHOICES = {key: value for key, value in TEMPLATE_CONTEXT.items() if isinstance(value, list)}
VENV_CACHE = ROOT / ".cache" / "venvs"
# Command-line tools from requirements-dev.txt, installed beside this interpreter.
TOOLS = Path(sys.executable).parent

Bake = Callable[..., Path]


def context_of(extra: dict[str, str]) -> dict[str, str]:
    """The values a bake with ``extra`` gets for the keys whose default is not derived."""
    defaults = {
        key: str(value[0] if isinstance(value, list) else value)
        for key, value in TEMPLATE_CONTEXT.items()
        if not key.startswith("_") and "{{" not in str(value)
    }
    return {**defaults, **extra}


def case_id(extra: dict[str, str]) -> str:
    """A readable test id for a set of choices: 'ci:gitlab-port:9000', or 'defaults'."""
    return "-".join(f"{key}:{value}" for key, value in extra.items()) or "defaults"


def venv_for(lock: Path) -> Path:
    """A venv with ``lock`` installed, shared by every test, worker and run with that lock.

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


def run(*args: str | Path, cwd: Path, **kwargs) -> subprocess.CompletedProcess[str]:
    """Run a command, failing the test with its output if it fails."""
    result = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, capture_output=True, text=True, **kwargs
    )
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} exited {result.returncode}\n{result.stdout}\n{result.stderr}"
    )
    return result
