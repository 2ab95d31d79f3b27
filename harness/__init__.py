"""What the tests and the benchmark both use to build and run images: the docker
CLI (docker.py) and BuildKit's log (buildlog.py)."""
