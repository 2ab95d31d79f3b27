"""Ports on loopback, the only address tests and benchmarks aim at."""

import socket


def free_port() -> int:
    """A port nothing on 127.0.0.1 listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
