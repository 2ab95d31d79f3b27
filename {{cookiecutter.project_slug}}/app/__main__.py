"""Start the service as the image does: ``python -m app [uvicorn options]``.
{%- if cookiecutter.database == "postgresql" %}
``python -m app migrate`` migrates the database instead (app/database.py).
{%- endif %}

uvicorn reads its options from ``UVICORN_*`` variables. This runs once, in the
process that later starts the workers, before anything creates a metric: files
that an earlier run left in ``PROMETHEUS_MULTIPROC_DIR`` would be counted again
(app/metrics.py), so the directory starts empty. The protocol ``UVICORN_HTTP``
names is served in its bounded form (app/server.py).
"""

{% if cookiecutter.database == "postgresql" -%}
import json
import logging.config
{% endif -%}
import os
import shutil
import sys
from pathlib import Path

from uvicorn.main import main
{%- if cookiecutter.database == "postgresql" %}

from app import database
from app.server import PROTOCOLS

LOG_CONFIG = Path(__file__).with_name("logging.json")
{%- else %}

from app.server import PROTOCOLS
{%- endif %}


def empty_metrics_directory() -> None:
    if directory := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True)


{%- if cookiecutter.database == "postgresql" %}


def migrate() -> None:
    """Migrate, logging as the service does (app/logging.json)."""
    logging.config.dictConfig(json.loads(LOG_CONFIG.read_text(encoding="utf-8")))
    database.migrate()
{%- endif %}


if __name__ == "__main__":
{%- if cookiecutter.database == "postgresql" %}
    if sys.argv[1:] == ["migrate"]:
        migrate()
        sys.exit()
{%- endif %}
    empty_metrics_directory()
    http = os.environ.get("UVICORN_HTTP", "auto")
    arguments = ["app.main:app", "--http", PROTOCOLS.get(http, http), *sys.argv[1:]]
    main(args=arguments, prog_name="uvicorn")
