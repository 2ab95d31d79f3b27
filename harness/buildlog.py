"""Reading BuildKit's plain progress log: which steps ran, what was downloaded."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class InstallLog:
    """How an installer's build step looks in BuildKit's log."""

    step: str  # text of the RUN step that installs the dependencies
    downloaded: re.Pattern[str]  # what it prints about downloads

    def downloads(self, log: str) -> int:
        """How many packages the install step downloaded, by the installer's own report."""
        found = self.downloaded.findall(log)
        return sum(int(count) for count in found) if self.downloaded.groups else len(found)


INSTALL_LOGS = {
    "pip": InstallLog(
        "pip download --require-hashes", re.compile(r"^#\d+ [\d.]+ +Downloading ", re.M)
    ),
    "uv": InstallLog("uv pip sync", re.compile(r"^#\d+ [\d.]+ Prepared (\d+) packages? in ", re.M)),
}


# A requirement the default service does not have yet, pinned and hashed: what
# the rebuild-after-adding-a-requirement checks append to requirements.txt.
ADDED_REQUIREMENT = """six==1.17.0 \\
    --hash=sha256:4721f391ed90541fddacab5acf947aa0d3dc7d27b2e1e8eda2be8970586c3274 \\
    --hash=sha256:ff70335d468e7eb6ec65b95b99d3a2836546063f63acc5171de367e834932a81
"""


def step_numbers(log: str, command: str) -> list[str]:
    """BuildKit's step numbers for the RUN steps whose command contains ``command``."""
    return re.findall(rf"^#(\d+) \[[^\]]+\] RUN .*{re.escape(command)}", log, re.MULTILINE)
