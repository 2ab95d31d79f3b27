"""What the tests and the benchmarks share: the docker CLI (docker.py), BuildKit's
log (buildlog.py), a stand-in OTLP collector (otlp.py) and the services' venvs
(venvs.py)."""
