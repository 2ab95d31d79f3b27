"""Send requests through an ASGI app in this process, as uvicorn hands them over.

    python drive.py TARGET WARM_UP COUNT [--measure] [--without FEATURE ...]

benchmarks/instructions.py runs this with a service's venv, from the service's
directory (or the bare app's), under callgrind with instrumentation off:
uvicorn's own Config loads TARGET with the log config UVICORN_LOG_CONFIG names
(uvicorn's default without it) and wraps it as the server does; WARM_UP
requests run first, then ``--measure`` turns callgrind's counting on and COUNT
requests follow. Each request gets a fresh scope, as uvicorn's protocols build
one, and is awaited to the end of its answer; no socket, parser or client runs
here. ``--without`` takes one of the service's features out, for the breakdown
in docs/benchmarks.md.
"""

import argparse
import asyncio
import importlib
import logging
import os
import subprocess
import sys

from uvicorn.config import LOGGING_CONFIG, Config

PATH = b"/health"
HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"benchmarks/drive.py"),
    (b"accept", b"*/*"),
]


def without_access_record() -> None:
    logging.getLogger("app.access").disabled = True


def without_metrics() -> None:
    metrics = importlib.import_module("app.metrics")
    metrics.started = lambda: None
    metrics.finished = lambda *labels_and_seconds: None


def without_request_context() -> None:
    app = importlib.import_module("app.main").app
    context = importlib.import_module("app.middleware").RequestContext
    app.user_middleware = [m for m in app.user_middleware if m.cls is not context]
    app.middleware_stack = None  # built again, without it, on the first request


FEATURES = {
    "access-record": without_access_record,
    "metrics": without_metrics,
    "request-context": without_request_context,
}


async def request(app) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 40000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": PATH.decode(),
        "raw_path": PATH,
        "query_string": b"",
        "headers": list(HEADERS),
        "state": {},
    }
    status = 0

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def serve(app, count: int) -> None:
    for _ in range(count):
        if (status := await request(app)) != 200:
            raise SystemExit(f"{PATH.decode()} answered {status}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("target")
    parser.add_argument("warm_up", type=int)
    parser.add_argument("count", type=int)
    parser.add_argument("--measure", action="store_true")
    parser.add_argument("--without", action="append", choices=FEATURES, default=[])
    arguments = parser.parse_args()

    sys.path.insert(0, ".")  # as uvicorn's --app-dir does
    config = Config(
        arguments.target, log_config=os.environ.get("UVICORN_LOG_CONFIG", LOGGING_CONFIG)
    )
    config.load()
    for feature in arguments.without:
        FEATURES[feature]()
    asyncio.run(serve(config.loaded_app, arguments.warm_up))
    if arguments.measure:
        on = ["callgrind_control", "--instr=on", str(os.getpid())]
        subprocess.run(on, check=True, capture_output=True)
    asyncio.run(serve(config.loaded_app, arguments.count))


if __name__ == "__main__":
    main()
