"""openapi.json: the API definition the software catalog shows for this service.

``python -m app.openapi`` (``make openapi``) writes it from the routes, and
tests/test_openapi.py fails while the file and the routes disagree. The app is
built from the current settings: run it without APP_TITLE, APP_DESCRIPTION or
APP_VERSION set, as the tests run.
"""

import json
from pathlib import Path

from app.main import create_app

DEFINITION = Path(__file__).resolve().parent.parent / "openapi.json"


def document() -> str:
    """The text openapi.json should hold: readable, diffable, non-ASCII kept."""
    return json.dumps(create_app().openapi(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    DEFINITION.write_text(document(), encoding="utf-8")
