"""Refuse bad choices before cookiecutter writes anything.

The rules live in {{cookiecutter.project_slug}}/_template/rules.py, where the
Backstage path can load them too; the template's ``problems`` filter applies
them while cookiecutter renders this script, and the script prints the verdict.
"""

import json
import sys

PROBLEMS = json.loads(r"""{{ cookiecutter | problems | tojson }}""")


def main() -> int:
    for problem in PROBLEMS:
        print(f"error: {problem}", file=sys.stderr)
    if PROBLEMS:
        print("Nothing was generated; run cookiecutter again with these fixed.", file=sys.stderr)
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    raise SystemExit(main())
