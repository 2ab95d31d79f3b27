"""Start the service as the image does: ``python -m app [uvicorn options]``.

uvicorn reads its options from ``UVICORN_*`` variables. This runs once, in the
process that later starts the workers, before anything creates a metric: files
that an earlier run left in ``PROMETHEUS_MULTIPROC_DIR`` would be counted again
(app/metrics.py), so the directory starts empty. The protocol ``UVICORN_HTTP``
names is served in its bounded form (app/server.py).
"""

import os
import shutil
import sys
from pathlib import Path

from uvicorn.main import main

from app.server import PROTOCOLS


def empty_metrics_directory() -> None:
    if directory := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True)


if __name__ == "__main__":
    empty_metrics_directory()
    http = os.environ.get("UVICORN_HTTP", "auto")
    arguments = ["app.main:app", "--http", PROTOCOLS.get(http, http), *sys.argv[1:]]
    main(args=arguments, prog_name="uvicorn")
