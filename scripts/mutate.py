"""Break the template one promise at a time and name the test that notices.

Each mutant below changes one thing the READMEs promise (the sandbox, quoting, a
rule, pruning, the post-generation check, a hardening setting, a pin, the
service's behaviour, reproducible images, releases) in a copy of this
repository, then runs the tests that hold that promise. A mutant no test
catches is a promise without a test.

    .venv/bin/python scripts/mutate.py            # `make mutate`: all but the Docker mutants
    .venv/bin/python scripts/mutate.py --docker   # with them (minutes each: they build images)
    .venv/bin/python scripts/mutate.py --only sandbox-size-bound

Prints a Markdown table (mutant, promise, the test that caught it or MISSED) and
exits 1 when a mutant survives. This checkout is never changed.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "{{cookiecutter.project_slug}}"


@dataclass(frozen=True)
class Mutant:
    name: str
    promise: str
    path: str  # relative to the repository
    edits: tuple[tuple[str, str], ...]  # (old, new): old replaced wherever it occurs
    tests: tuple[str, ...]  # pytest arguments: files, node ids, -k expressions
    docker: bool = False


MUTANTS = [
    Mutant(
        "sandbox-size-bound",
        "a value that would build a huge string is refused",
        f"{PROJECT}/_template/extensions.py",
        (
            ('raise UnrenderableValue(f"the result is larger than {MAX_SIZE} characters")', "pass"),
            ("    if size > MAX_SIZE:", "    if False:"),
        ),
        ("tests/test_inputs.py", "-k", "exhaust"),
    ),
    Mutant(
        "sandbox-cpu-budget",
        "a render is stopped after its CPU budget",
        f"{PROJECT}/_template/extensions.py",
        (
            (
                "signal.setitimer(signal.ITIMER_PROF, MAX_SECONDS)",
                "signal.setitimer(signal.ITIMER_PROF, 0)",
            ),
        ),
        ("tests/test_inputs.py", "-k", "exhaust"),
    ),
    Mutant(
        "quoting-yaml",
        "free text lands in YAML as a quoted scalar",
        f"{PROJECT}/_template/extensions.py",
        (
            (
                'control characters)."""\n    return quote(value)',
                'control characters)."""\n    return \'"\' + value + \'"\'',
            ),
        ),
        ("tests/test_quoting.py",),
    ),
    Mutant(
        "rule-printable-text",
        "free text is one line of printable characters",
        f"{PROJECT}/_template/rules.py",
        (("        if not is_printable(char):", "        if False:"),),
        ("tests/test_validation.py",),
    ),
    Mutant(
        "rule-email",
        "author_email is an address without control characters",
        f"{PROJECT}/_template/rules.py",
        (
            (
                "if EMAIL.fullmatch(value) and not one_line_text(value):",
                "if EMAIL.fullmatch(value):",
            ),
        ),
        ("tests/test_validation.py",),
    ),
    Mutant(
        "rule-whole-number",
        "numbers are written without leading zeros",
        f"{PROJECT}/_template/rules.py",
        (('WHOLE_NUMBER = re.compile(r"0|[1-9][0-9]*")', 'WHOLE_NUMBER = re.compile(r"[0-9]+")'),),
        ("tests/test_validation.py",),
    ),
    Mutant(
        "rule-slug",
        "the slug is a DNS-1123 label",
        f"{PROJECT}/_template/rules.py",
        (
            (
                'DNS_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")',
                'DNS_LABEL = re.compile(r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?")',
            ),
        ),
        ("tests/test_validation.py",),
    ),
    Mutant(
        "rule-image-tag",
        "image tags are ASCII, as Docker's grammar has them",
        f"{PROJECT}/_template/rules.py",
        (('_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"', '_TAG = r"\\w[\\w.-]{0,127}"'),),
        ("tests/test_validation.py",),
    ),
    Mutant(
        "rule-python-tag",
        "a python base image is tagged for the chosen Python exactly",
        f"{PROJECT}/_template/rules.py",
        (
            (
                'tag[1] == context["python_version"]:',
                'tag[1].startswith(context["python_version"]):',
            ),
        ),
        ("tests/test_validation.py",),
    ),
    Mutant(
        "pruning-outside-the-project",
        "pruning deletes nothing outside the project",
        "hooks/post_gen_project.py",
        (
            (
                "escaping = [relative for relative in context",
                "escaping = [] and [relative for relative in context",
            ),
        ),
        ("tests/test_inputs.py", "-k", "outside"),
    ),
    Mutant(
        "post-gen-parse-check",
        "a bake whose files do not parse fails",
        "hooks/post_gen_project.py",
        (
            (
                "errors = parse_errors(project) + consistency_errors(project, context)",
                "errors = consistency_errors(project, context)",
            ),
        ),
        ("tests/test_post_gen.py",),
    ),
    Mutant(
        "compose-read-only",
        "compose runs the service read-only",
        f"{PROJECT}/compose.yaml",
        (("    read_only: true\n", ""),),
        ("tests/test_bake.py", "-k", "compose"),
    ),
    Mutant(
        "dockerfile-user",
        "the image runs as the configured non-root user",
        f"{PROJECT}/Dockerfile",
        (("USER {{ cookiecutter.app_uid }}:{{ cookiecutter.app_gid }}", "USER root"),),
        ("tests/test_bake.py", "-k", "port_and_user and defaults"),
    ),
    Mutant(
        "ci-credentials",
        "the baked workflow keeps no credentials in the checkout",
        f"{PROJECT}/.github/workflows/ci.yml",
        (("persist-credentials: false", "persist-credentials: true"),),
        ("tests/test_ci.py", "-k", "zizmor or token"),
    ),
    Mutant(
        "ci-action-pin",
        "every action is pinned to its release's commit",
        f"{PROJECT}/.github/workflows/ci.yml",
        (
            (
                "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1",
                "actions/checkout@0000000000000000000000000000000000000000",
            ),
        ),
        ("tests/test_releases.py", "-k", "table"),
    ),
    Mutant(
        "ci-push-from-pull-requests",
        "only the default branch pushes the image",
        f"{PROJECT}/.github/workflows/ci.yml",
        (
            (
                "PUSH: ${{ github.event_name == 'push' && github.ref_name =="
                " github.event.repository.default_branch }}",
                "PUSH: true",
            ),
        ),
        ("tests/test_ci.py", "-k", "default_branch"),
    ),
    Mutant(
        "kubernetes-non-root",
        "pods run as non-root under the restricted standard",
        f"{PROJECT}/deploy/kubernetes/deployment.yaml",
        (("runAsNonRoot: true", "runAsNonRoot: false"),),
        ("tests/test_kubernetes.py", "-k", "restricted"),
    ),
    Mutant(
        "kubernetes-read-only-root",
        "the pod's root filesystem is read-only",
        f"{PROJECT}/deploy/kubernetes/deployment.yaml",
        (("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"),),
        ("tests/test_kubernetes.py", "-k", "read_only"),
    ),
    Mutant(
        "kubernetes-open-network-policy",
        "only the ingress controller and monitoring reach the pods",
        f"{PROJECT}/deploy/kubernetes/networkpolicy.yaml",
        (
            (
                "values: [ingress-nginx, monitoring]",
                "values: [ingress-nginx, monitoring]\n        - podSelector: {}",
            ),
        ),
        ("tests/test_kubernetes.py", "-k", "ingress_controller"),
    ),
    Mutant(
        "release-changelog",
        "the changelog keeps an Unreleased section above the release",
        "CHANGELOG.md",
        (("## [Unreleased]", "## [Next]"),),
        ("tests/test_releases.py",),
    ),
    Mutant(
        "service-request-id",
        "a caller's request id is kept only when short and plain",
        f"{PROJECT}/app/middleware.py",
        (
            (
                "return value if ACCEPTED_ID.fullmatch(value) else None",
                "return value",
            ),
        ),
        ("tests/test_bake.py::test_project_passes_its_own_lint_and_tests[defaults]",),
    ),
    Mutant(
        "dockerignore-allow-list",
        "only app/, pyproject.toml and requirements.txt reach the builder",
        f"{PROJECT}/.dockerignore",
        (("\n*\n", "\n"),),
        ("tests/test_docker.py", "-k", "allowed_files and package_manager:pip]"),
        docker=True,
    ),
    Mutant(
        "reproducible-venv",
        "a build without any cache gives the same layers",
        f"{PROJECT}/Dockerfile",
        (
            (
                " \\\n    && find /app/.venv -exec touch --no-dereference"
                ' --date="@$FILE_TIME" {} +',
                "",
            ),
        ),
        ("tests/test_docker.py", "-k", "same_layers and package_manager:pip]"),
        docker=True,
    ),
]

FAILED = re.compile(r"^FAILED (\S+)", re.MULTILINE)
ERROR = re.compile(r"^ERROR (\S+)", re.MULTILINE)


def copy_of_the_repository(destination: Path) -> Path:
    """The files git would check out, with this checkout's Backstage packages."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    for name in filter(None, listed.stdout.split("\0")):
        source = ROOT / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    modules = ROOT / "tests" / "backstage" / "node_modules"
    if modules.exists():
        (destination / "tests" / "backstage" / "node_modules").symlink_to(modules)
    return destination


def missing_originals(mutants: list[Mutant], root: Path = ROOT) -> list[str]:
    """Mutants whose text no longer occurs where they say: the template moved on."""
    return [
        m.name
        for m in mutants
        if any(old not in (root / m.path).read_text(encoding="utf-8") for old, _ in m.edits)
    ]


def trial(mutant: Mutant, copy: Path) -> tuple[str | None, float]:
    """The first test that fails with ``mutant`` applied in ``copy`` (None: none
    did), and the seconds it took; the file is restored afterwards."""
    path = copy / mutant.path
    original = path.read_text(encoding="utf-8")
    mutated = original
    for old, new in mutant.edits:
        mutated = mutated.replace(old, new)
    path.write_text(mutated, encoding="utf-8")
    started = time.monotonic()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider",
             "-q", "-x", *mutant.tests],
            cwd=copy,
            capture_output=True,
            text=True,
        )  # fmt: skip
    finally:
        path.write_text(original, encoding="utf-8")
    seconds = time.monotonic() - started
    if result.returncode == 0:
        return None, seconds
    if result.returncode == 5:  # no tests ran: the selection is stale, not a catch
        raise SystemExit(f"error: {mutant.name}: no test matches {' '.join(mutant.tests)}")
    failed = FAILED.search(result.stdout)
    if failed:
        return failed[1], seconds
    # A mutant that breaks a fixture (an image that no longer builds) tests nothing.
    broken = ERROR.search(result.stdout)
    raise SystemExit(
        f"error: {mutant.name} breaks the tests' set-up"
        f" ({broken[1] if broken else f'pytest exited {result.returncode}'}), not a promise:"
        " change the mutant"
    )


def report(results: list[tuple[Mutant, str | None, float]]) -> str:
    lines = ["| mutant | promise | caught by | s |", "|---|---|---|---|"]
    for mutant, caught_by, seconds in results:
        verdict = f"`{caught_by}`" if caught_by else "**MISSED**"
        lines.append(f"| `{mutant.name}` | {mutant.promise} | {verdict} | {seconds:.0f} |")
    caught = sum(1 for _, caught_by, _ in results if caught_by)
    lines += ["", f"{caught} of {len(results)} mutants caught."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--docker", action="store_true", help="include the Docker mutants")
    parser.add_argument("--only", action="append", default=[], help="run this mutant (repeatable)")
    arguments = parser.parse_args(argv)
    unknown = set(arguments.only) - {m.name for m in MUTANTS}
    if unknown:
        print(f"error: no mutant named {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    chosen = [
        m
        for m in MUTANTS
        if (m.name in arguments.only) or (not arguments.only and (arguments.docker or not m.docker))
    ]
    stale = missing_originals(chosen)
    if stale:
        print(f"error: these mutants no longer apply: {', '.join(stale)}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as workdir:
        copy = copy_of_the_repository(Path(workdir))
        results = []
        for mutant in chosen:
            caught_by, seconds = trial(mutant, copy)
            results.append((mutant, caught_by, seconds))
            print(f"{mutant.name}: {caught_by or 'MISSED'} ({seconds:.0f} s)", file=sys.stderr)
    print(report(results))
    return 0 if all(caught_by for _, caught_by, _ in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
