"""Instructions per /health request, counted by callgrind: the baked service
against bare FastAPI, with a breakdown of what each feature costs.

    .venv/bin/python -m benchmarks.instructions    # about 2 minutes on 2 CPUs

The count does not depend on the machine's load, so the figures compare across
runs and machines with the same Python and packages. Each figure is the
difference of two runs of benchmarks/drive.py under callgrind, 100 and 600
requests after the same warm-up, divided by the 500 requests between them:
start-up, imports and warm-up cancel out. The service runs as its image
configures it: the runtime stage's ENV (its log config, Prometheus' multiprocess
directory), its locked runtime packages, one JSON access record per request
written to stdout. Bare FastAPI is the same route in the same venv. With an
OTLP endpoint, spans go to a collector on 127.0.0.1 (harness/otlp.py), at the
SDK's default sampling and batching; the export thread's instructions count.

Needs valgrind (callgrind and callgrind_control on PATH).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import dockerfile
from cookiecutter.main import cookiecutter

from harness import otlp
from harness.ports import free_port
from harness.venvs import venv_for

ROOT = Path(__file__).resolve().parent.parent
DRIVER = Path(__file__).resolve().parent / "drive.py"
WARM_UP = 50
FEWER, MORE = 100, 600
TRACED = "tracing=opentelemetry"

BARE_APP = """\
from fastapi import FastAPI

app = FastAPI()


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
"""


# The same route with FastAPI's own tracing exporting over OTLP, as the service's
# tracing sets it up (one span per request, the SDK's batching): what tracing costs
# before the service adds its access record, request id and metrics.
BARE_TRACED_APP = """\
import os

from fastapi import FastAPI
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

resource = Resource.create({"service.name": "bare", "process.pid": os.getpid()})
provider = TracerProvider(resource=resource)
provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
telemetry = {"tracing": True, "tracer_provider": provider, "operation_spans": False}
app = FastAPI(telemetry={"metrics": False, "logs": False, **telemetry})


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok"}
"""


@dataclass(frozen=True)
class Variant:
    """One way of serving /health: an app, where it runs from, its environment, the
    lock its venv installs."""

    name: str
    directory: Path
    target: str
    environment: dict[str, str]
    lock: Path
    without: tuple[str, ...] = ()


def valgrind_missing() -> str | None:
    """Why this benchmark cannot run here, or None."""
    missing = [tool for tool in ("valgrind", "callgrind_control") if not shutil.which(tool)]
    if not missing:
        return None
    return f"{' and '.join(missing)} not on PATH (Debian: apt-get install valgrind)"


def image_environment(project: Path) -> dict[str, str]:
    """The runtime stage's ENV, with the image's /app read as ``project``. PATH and
    what refers to build arguments are left out."""
    environment: dict[str, str] = {}
    in_runtime = False
    for instruction in dockerfile.parse_file(str(project / "Dockerfile")):
        if instruction.cmd == "FROM":
            in_runtime = instruction.value[-1] == "runtime"
        elif instruction.cmd == "ENV" and in_runtime:
            pairs = instruction.value
            for name, value in zip(pairs[::2], pairs[1::2], strict=True):
                if name != "PATH" and "$" not in value:
                    environment[name] = re.sub(r"^/app(?=/|$)", str(project), value.strip('"'))
    return environment


def instructions(venv: Path, variant: Variant, count: int) -> int:
    """What callgrind counts from the measured point of one driver run to its exit."""
    with tempfile.TemporaryDirectory() as metrics:
        environment = {**os.environ, **variant.environment, "PYTHONHASHSEED": "0"}
        if "PROMETHEUS_MULTIPROC_DIR" in environment:  # each run's own, empty, as at start
            environment["PROMETHEUS_MULTIPROC_DIR"] = metrics
        without = [f"--without={feature}" for feature in variant.without]
        valgrind = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            "--callgrind-out-file=/dev/null",
        ]
        driver = [DRIVER, variant.target, str(WARM_UP), str(count), "--measure", *without]
        command = [*valgrind, venv / "bin" / "python", *driver]
        result = subprocess.run(
            command, cwd=variant.directory, env=environment, capture_output=True, text=True
        )
    collected = re.search(r"Collected : (\d+)", result.stderr)
    if result.returncode != 0 or collected is None:
        raise RuntimeError(f"{variant.name}: the driver failed\n{result.stderr[-3000:]}")
    return int(collected[1])


def per_request(variant: Variant, pool: ThreadPoolExecutor) -> float:
    venv = venv_for(variant.lock)
    fewer, more = pool.map(lambda count: instructions(venv, variant, count), (FEWER, MORE))
    return (more - fewer) / (MORE - FEWER)


def bake(output: Path, **extra: str) -> Path:
    return Path(cookiecutter(str(ROOT), no_input=True, output_dir=str(output), extra_context=extra))


def variants(workdir: Path, collector_port: int) -> list[Variant]:
    """Bare FastAPI (untraced, and traced to an OTLP endpoint), the service with each
    tracing choice, with an OTLP endpoint, and the traced service without each of
    its features."""
    traced = bake(workdir / "opentelemetry")
    untraced = bake(workdir / "none", tracing="none")
    bare = workdir / "bare"
    bare.mkdir()
    (bare / "bare.py").write_text(BARE_APP)
    (bare / "bare_traced.py").write_text(BARE_TRACED_APP)
    app, lock = "app.main:app", traced / "requirements.txt"
    service = image_environment(traced)
    collector = {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{collector_port}"}
    endpoint = {**service, **collector}
    plain = image_environment(untraced)
    return [
        Variant("bare FastAPI", bare, "bare:app", {}, lock),
        Variant(
            "bare FastAPI, FastAPI's tracing, OTLP endpoint",
            bare,
            "bare_traced:app",
            collector,
            lock,
        ),
        Variant("tracing=none", untraced, app, plain, untraced / "requirements.txt"),
        Variant("tracing=opentelemetry", traced, app, service, lock),
        Variant("tracing=opentelemetry, OTLP endpoint", traced, app, endpoint, lock),
        *(
            Variant(f"{TRACED} without {feature}", traced, app, service, lock, (feature,))
            for feature in ("access-record", "metrics", "request-context")
        ),
    ]


def measure(workdir: Path, names: set[str] | None = None) -> dict[str, float]:
    """Instructions per request of each variant (or of those in ``names``)."""
    with otlp.running(free_port()) as collector:
        chosen = variants(workdir, collector.port)
        if names is not None:
            chosen = [variant for variant in chosen if variant.name in names]
        with ThreadPoolExecutor(max_workers=2) as pool:
            return {variant.name: per_request(variant, pool) for variant in chosen}


def report(figures: dict[str, float]) -> str:
    bare = figures["bare FastAPI"]
    lines = ["| variant | instructions per request | over bare FastAPI |", "|---|---|---|"]
    for name, value in figures.items():
        lines.append(f"| {name} | {value / 1000:,.0f}k | {value / bare:.2f}x |")
    return "\n".join(lines)


def main() -> int:
    if problem := valgrind_missing():
        print(f"benchmark needs valgrind: {problem}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as workdir:
        print(report(measure(Path(workdir))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
