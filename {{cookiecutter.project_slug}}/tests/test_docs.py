import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_docs_build_as_techdocs_builds_them(tmp_path: Path) -> None:
    """`mkdocs build --strict` with the techdocs-core plugin, as the catalog's TechDocs
    runs it: a link to a page or heading that does not exist fails the build."""
    build = ["mkdocs", "build", "--strict", "--site-dir", str(tmp_path)]

    result = subprocess.run(  # noqa: S603 (a fixed command, nothing from outside)
        [sys.executable, "-m", *build], cwd=ROOT, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr
