"""Template updates reach a service baked earlier, and nothing is lost on the way.

A service is created with cruft from a release of this template (a bare git
repository made from the working tree and tagged), the team changes it, the
template moves on, and the team runs `make template-check`, `cruft diff` and
`make template-update` as the baked README says: from release to release.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import (
    GIT,
    PRE_COMMIT_HOME,
    ROOT,
    TEMPLATE_CONTEXT,
    TOOLS,
    environment_with,
    run,
    service_venv,
)

# cruft, git and pre-commit on a released copy of the template, end to end.
pytestmark = pytest.mark.slow

SLUG_DIR = "{{cookiecutter.project_slug}}"

# The team's own work: a route appended to app/main.py, a requirement added.
TEAM_ROUTE = """

@app.get("/team")
async def team() -> dict[str, str]:
    return {"owner": "team"}
"""
TEAM_REQUIREMENT = "tenacity\n"
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


@dataclass
class Template:
    """The template's repository as the company publishes it: a bare repository
    (``url``) that a maintainer's clone (``work``) pushes commits and release tags to."""

    work: Path
    url: Path

    def change(
        self,
        edit: dict[str, tuple[str, str]],
        new: dict[str, str],
        settings: dict[str, str] | None = None,
    ) -> str:
        """Edit files of the project template (path -> (old, new)), add files, change
        cookiecutter.json's values (key -> JSON text); commit and push; return the commit."""
        edits = {Path(SLUG_DIR) / path: change for path, change in edit.items()}
        if settings:
            context = self.work / "cookiecutter.json"
            text = context.read_text()
            for key, value in settings.items():
                entry = re.search(rf'^  "{key}": .*?(?=,?\n  ")', text, re.M | re.S)[0]
                text = text.replace(entry, f'  "{key}": {value}')
            edits[Path("cookiecutter.json")] = (context.read_text(), text)
        for path, (old, replacement) in edits.items():
            file = self.work / path
            text = file.read_text()
            assert old in text, f"{old!r} not in {path}"
            file.write_text(text.replace(old, replacement))
        for path, text in new.items():
            (self.work / SLUG_DIR / path).write_text(text)
        git("add", "--all", cwd=self.work)
        git("commit", "--quiet", "-m", "Template change", cwd=self.work)
        git("push", "--quiet", self.url, "HEAD:main", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work).strip()

    def release(self, tag: str) -> str:
        git("tag", tag, cwd=self.work)
        git("push", "--quiet", self.url, tag, cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work).strip()


@dataclass
class Service:
    path: Path
    template: Template
    venv: Path

    def read(self, relative: str) -> str:
        return (self.path / relative).read_text()

    def make(self, target: str) -> subprocess.CompletedProcess[str]:
        """A target of the service's Makefile, with the venv its lock describes."""
        return subprocess.run(
            ["make", target, f"VENV={self.venv}"],
            cwd=self.path,
            capture_output=True,
            text=True,
            check=False,
        )


FIRST = f"v{TEMPLATE_CONTEXT['_template_version']}"


@pytest.fixture
def service(tmp_path: Path) -> Service:
    """A service cruft-created from the template's first release, then changed by its team."""
    work = tmp_path / "template"
    listed = git("ls-files", "--cached", "--others", "--exclude-standard", "-z", cwd=ROOT)
    for relative in filter(None, listed.split("\0")):
        source = ROOT / relative
        if source.is_file():  # deleted in the working tree but not yet in git
            (work / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, work / relative)
    git("init", "--quiet", "--initial-branch", "main", cwd=work)
    git("add", "--all", cwd=work)
    git("commit", "--quiet", "-m", "Template", cwd=work)
    git("init", "--quiet", "--bare", tmp_path / "template.git", cwd=tmp_path)
    template = Template(work, tmp_path / "template.git")
    git("push", "--quiet", template.url, "HEAD:main", cwd=work)
    template.release(FIRST)

    created = cruft(
        "create", "--no-input", "--checkout", FIRST, "--output-dir", tmp_path, template.url,
        cwd=tmp_path,
    )  # fmt: skip
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
    return Service(path, template, service_venv(path))


def test_the_service_records_its_template_release_and_commit(service: Service) -> None:
    record = json.loads(service.read(".cruft.json"))

    assert record["template"] == str(service.template.url)
    assert record["checkout"] == FIRST
    assert (
        record["commit"]
        == git("rev-parse", f"{FIRST}^{{commit}}", cwd=service.template.work).strip()
    )
    assert record["context"]["cookiecutter"]["_template_version"] == FIRST[1:]
    assert service.make("template-check").returncode == 0


def test_diff_shows_what_the_team_changed(service: Service) -> None:
    diff = cruft("diff", cwd=service.path)

    assert diff.returncode == 0, diff.stderr
    assert "Next:" not in diff.stdout  # cruft's own regeneration says nothing
    assert '@app.get("/team")' in diff.stdout
    assert "tenacity" in diff.stdout


def test_updates_go_to_the_newest_release_never_to_unreleased_main(service: Service) -> None:
    # The release also changes the template's own settings, which .cruft.json recorded
    # as they were and passes on; the template refuses them as overrides, but not
    # from cruft.
    optional = {**TEMPLATE_CONTEXT["_optional_paths"], "NOTICE.md": {"ci": ["none"]}}
    service.template.change(
        edit={"app/main.py": (OLD_DOCSTRING, NEW_DOCSTRING)},
        new={"CHANGELOG.md": "# Changes\n", "NOTICE.md": "Only without CI.\n"},
        settings={"_optional_paths": json.dumps(optional)},
    )
    released = service.template.release("v9.1.0")
    service.template.change(edit={}, new={"UNRELEASED.md": "not yet\n"})
    behind = service.make("template-check")
    assert behind.returncode != 0
    assert "out of date" in behind.stdout

    updated = service.make("template-update")

    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert "Next:" not in updated.stdout
    main = service.read("app/main.py")
    assert main.startswith(NEW_DOCSTRING)
    assert TEAM_ROUTE in main
    assert service.read("requirements.in").endswith(TEAM_REQUIREMENT)
    assert service.read("CHANGELOG.md") == "# Changes\n"
    assert not (service.path / "UNRELEASED.md").exists()
    assert list(service.path.rglob("*.rej")) == []
    assert not (service.path / "NOTICE.md").exists()  # the new release's own setting
    record = json.loads(service.read(".cruft.json"))
    assert (record["checkout"], record["commit"]) == ("v9.1.0", released)
    assert record["context"]["cookiecutter"]["_optional_paths"] == optional
    assert service.make("template-check").returncode == 0  # main's newer commit is no release


def test_the_newest_release_is_the_highest_version_not_the_latest_tag(service: Service) -> None:
    service.template.change(edit={}, new={"TEN.md": "10\n"})
    service.template.release("v10.0.0")
    service.template.change(edit={}, new={"NINE.md": "9.9\n"})
    service.template.release("v9.9.0")  # a fix to the older line, tagged later
    service.template.release("v11.0.0-rc1")  # not a release

    newest = run("scripts/newest-template-release.sh", cwd=service.path)

    assert newest.stdout == "v10.0.0\n"


def test_conflicting_changes_are_reported_and_both_sides_kept(service: Service) -> None:
    service.template.change(
        edit={"app/main.py": ("\napp = create_app()\n", "\napp = create_app()  # template\n")},
        new={},
    )
    service.template.release("v9.1.0")
    main = service.path / "app" / "main.py"
    main.write_text(
        main.read_text().replace("\napp = create_app()\n", "\napp = create_app()  # team\n")
    )
    git("commit", "--quiet", "--all", "-m", "Team edits the same line", cwd=service.path)

    updated = service.make("template-update")

    output = updated.stdout + updated.stderr
    assert "app/main.py' with conflicts" in output
    assert "UU app/main.py" in git("status", "--porcelain", cwd=service.path)
    text = main.read_text()
    assert "app = create_app()  # team" in text
    assert "app = create_app()  # template" in text
    assert "<<<<<<<" in text
    assert TEAM_ROUTE in text
    assert list(service.path.rglob("*.rej")) == []


def test_pre_commit_hook_reports_a_service_behind_its_template(service: Service) -> None:
    """The baked pre-commit config's hook fails until `make template-update` has run."""
    environment = environment_with(PRE_COMMIT_HOME=str(PRE_COMMIT_HOME), VENV=str(service.venv))
    hook = (TOOLS / "pre-commit", "run", "template-check", "--all-files")

    run(*hook, cwd=service.path, env=environment)
    service.template.change(edit={}, new={"CHANGELOG.md": "# Changes\n"})
    service.template.release("v9.1.0")
    behind = subprocess.run(hook, cwd=service.path, env=environment, capture_output=True, text=True)
    assert behind.returncode == 1
    assert "out of date" in behind.stdout

    assert service.make("template-update").returncode == 0
    git("add", "--all", cwd=service.path)
    run(*hook, cwd=service.path, env=environment)
