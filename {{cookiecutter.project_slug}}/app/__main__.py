"""Start the service as the image does: ``python -m app [uvicorn options]``.

uvicorn reads its options from ``UVICORN_*`` variables. This runs once, in the
process that later starts the workers, before anything creates a metric: files
that an earlier run left in ``PROMETHEUS_MULTIPROC_DIR`` would be counted again
(app/metrics.py), so the directory starts empty.
"""

import os
import shutil
import sys
from pathlib import Path

from uvicorn.main import main


def empty_metrics_directory() -> None:
    if directory := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True)


if __name__ == "__main__":
    empty_metrics_directory()
    main(args=["app.main:app", *sys.argv[1:]], prog_name="uvicorn")
