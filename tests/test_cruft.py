"""Template updates reach a service baked earlier, and nothing is lost on the way.

A service is created with cruft from a commit of this template (a git copy of
the working tree), the team changes it, the template moves on, and the team
runs `cruft check`, `cruft diff` and `cruft update` as the baked README says.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import GIT, PRE_COMMIT_HOME, ROOT, TOOLS, environment_with, run

SLUG_DIR = "{{cookiecutter.project_slug}}"

# The team's own work: a route appended to app/main.py, a requirement added.
TEAM_ROUTE = """

@app.get("/team")
async def team() -> dict[str, str]:
    return {"owner": "team"}
"""
TEAM_REQUIREMENT = "orjson\n"
# The template's docstring for app/main.py, changed upstream.
OLD_DOCSTRING = '"""The ASGI application: uvicorn serves ``app.main:app``."""'
NEW_DOCSTRING = '"""The ASGI application (uvicorn serves ``app.main:app``)."""'


def git(*args: str, cwd: Path) -> str:
    return run(*GIT, *args, cwd=cwd).stdout


def cruft(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """cruft, not failing the test on its exit code (some of these must fail)."""
    return subprocess.run(
        [TOOLS / "cruft", *map(str, args)], cwd=cwd, capture_output=True, text=True, check=False
    )


def commit_template_change(template: Path, edit: dict[str, tuple[str, str]], new: dict) -> str:
    """Edit files of the template (path -> (old, new)), add files, commit; return the commit."""
    for path, (old, replacement) in edit.items():
        file = template / SLUG_DIR / path
        text = file.read_text()
        assert old in text, f"{old!r} not in {path}"
        file.write_text(text.replace(old, replacement))
    for path, text in new.items():
        (template / SLUG_DIR / path).write_text(text)
    git("add", "--all", cwd=template)
    git("commit", "--quiet", "-m", "Template change", cwd=template)
    return git("rev-parse", "HEAD", cwd=template).strip()


@dataclass
class Service:
    path: Path
    template: Path

    def read(self, relative: str) -> str:
        return (self.path / relative).read_text()


@pytest.fixture
def service(tmp_path: Path) -> Service:
    """A service cruft-created from a commit of the template, then changed by its team."""
    template = tmp_path / "template"
    listed = git("ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=ROOT)
    for relative in filter(None, listed.split("\0")):
        source = ROOT / relative
        if source.is_file():  # deleted in the working tree but not yet in git
            (template / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, template / relative)
    git("init", "--quiet", cwd=template)
    git("add", "--all", cwd=template)
    git("commit", "--quiet", "-m", "Template", cwd=template)

    created = cruft("create", "--no-input", "--output-dir", tmp_path, template, cwd=tmp_path)
    assert created.returncode == 0, created.stdout + created.stderr
    assert "Created my-service. Next:" in created.stdout
    path = tmp_path / "my-service"
    git("init", "--quiet", cwd=path)
    git("add", "--all", cwd=path)
    git("commit", "--quiet", "-m", "Bake my-service", cwd=path)

    with (path / "app" / "main.py").open("a") as main:
        main.write(TEAM_ROUTE)
    with (path / "requirements.in").open("a") as requirements:
        requirements.write(TEAM_REQUIREMENT)
    git("commit", "--quiet", "--all", "-m", "Team changes", cwd=path)
    return Service(path, template)


def test_the_service_records_its_template_and_commit(service: Service) -> None:
    record = json.loads(service.read(".cruft.json"))

    assert record["template"] == str(service.template)
    assert record["commit"] == git("rev-parse", "HEAD", cwd=service.template).strip()
    assert record["context"]["cookiecutter"]["project_slug"] == "my-service"
    assert cruft("check", cwd=service.path).returncode == 0


def test_diff_shows_what_the_team_changed(service: Service) -> None:
    diff = cruft("diff", cwd=service.path)

    assert diff.returncode == 0, diff.stderr
    assert "Next:" not in diff.stdout  # cruft's own regeneration says nothing
    assert '@app.get("/team")' in diff.stdout
    assert "orjson" in diff.stdout


def test_update_brings_the_template_change_and_keeps_the_teams(service: Service) -> None:
    commit = commit_template_change(
        service.template,
        edit={"app/main.py": (OLD_DOCSTRING, NEW_DOCSTRING)},
        new={"CHANGELOG.md": "# Changes\n"},
    )
    behind = cruft("check", cwd=service.path)
    assert behind.returncode == 1
    assert "out of date" in behind.stdout

    updated = cruft("update", "--skip-apply-ask", cwd=service.path)

    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert "Next:" not in updated.stdout
    main = service.read("app/main.py")
    assert main.startswith(NEW_DOCSTRING)
    assert TEAM_ROUTE in main
    assert service.read("requirements.in").endswith(TEAM_REQUIREMENT)
    assert service.read("CHANGELOG.md") == "# Changes\n"
    assert json.loads(service.read(".cruft.json"))["commit"] == commit
    assert cruft("check", cwd=service.path).returncode == 0


def test_conflicting_changes_are_reported_and_both_sides_kept(service: Service) -> None:
    commit_template_change(
        service.template,
        edit={"app/main.py": ("\napp = create_app()\n", "\napp = create_app()  # template\n")},
        new={},
    )
    main = service.path / "app" / "main.py"
    main.write_text(
        main.read_text().replace("\napp = create_app()\n", "\napp = create_app()  # team\n")
    )
    git("commit", "--quiet", "--all", "-m", "Team edits the same line", cwd=service.path)

    updated = cruft("update", "--skip-apply-ask", cwd=service.path)

    output = updated.stdout + updated.stderr
    assert "app/main.py' with conflicts" in output
    assert "UU app/main.py" in git("status", "--porcelain", cwd=service.path)
    text = main.read_text()
    assert "app = create_app()  # team" in text
    assert "app = create_app()  # template" in text
    assert "<<<<<<<" in text
    assert TEAM_ROUTE in text


def test_pre_commit_hook_reports_a_service_behind_its_template(service: Service) -> None:
    """The baked pre-commit config's cruft hook fails until `cruft update` has run."""
    environment = environment_with(PRE_COMMIT_HOME=str(PRE_COMMIT_HOME))
    hook = (TOOLS / "pre-commit", "run", "cruft", "--all-files")

    run(*hook, cwd=service.path, env=environment)
    commit_template_change(service.template, edit={}, new={"CHANGELOG.md": "# Changes\n"})
    behind = subprocess.run(hook, cwd=service.path, env=environment, capture_output=True, text=True)
    assert behind.returncode == 1
    assert "out of date" in behind.stdout

    assert cruft("update", "--skip-apply-ask", cwd=service.path).returncode == 0
    git("add", "--all", cwd=service.path)
    run(*hook, cwd=service.path, env=environment)
