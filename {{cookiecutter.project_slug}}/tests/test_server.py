"""The bounded protocols (app/server.py), served by a real uvicorn on 127.0.0.1."""

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
import uvicorn
from fastapi import FastAPI, Request

from app.main import create_app
from app.server import PROTOCOLS, BoundedH11Protocol, BoundedHttpToolsProtocol

HEAD_TIMEOUT = 0.5
MAX_HEAD = 4096


def app_that_reads_bodies() -> FastAPI:
    app = create_app()

    @app.post("/size")
    async def size(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    return app


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(
    params=[BoundedHttpToolsProtocol, BoundedH11Protocol], ids=["httptools", "h11"]
)
def serve(
    request: pytest.FixtureRequest, environment: Callable[..., None]
) -> Iterator[Callable[..., int]]:
    """Start a server with the protocol and uvicorn options given; its port."""
    environment(
        APP_REQUEST_HEAD_TIMEOUT=str(HEAD_TIMEOUT), APP_MAX_REQUEST_HEAD=str(MAX_HEAD)
    )
    servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def start(**options: object) -> int:
        port = free_port()
        config = uvicorn.Config(
            app_that_reads_bodies(),
            host="127.0.0.1",
            port=port,
            http=request.param,
            log_config=None,
            timeout_keep_alive=2,
            **options,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.01)
        servers.append((server, thread))
        return port

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def answer(connection: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (a reset, when
    it closes with our bytes unread, ends it too)."""
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def test_every_uvicorn_http_value_has_a_bounded_protocol() -> None:
    assert set(PROTOCOLS) == {"auto", "httptools", "h11"}
    assert PROTOCOLS["auto"] == "app.server:BoundedAutoProtocol"


def test_an_ordinary_request_is_served(serve: Callable[..., int]) -> None:
    with connect(serve()) as connection:
        connection.sendall(
            b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        received = answer(connection)

    assert received.startswith(b"HTTP/1.1 200 OK")


def test_a_large_body_under_a_small_head_is_not_refused(
    serve: Callable[..., int],
) -> None:
    body = b"x" * (MAX_HEAD * 50)
    head = f"POST /size HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
    with connect(serve()) as connection:
        connection.sendall(head.encode() + b"Connection: close\r\n\r\n" + body)
        received = answer(connection)

    assert received.startswith(b"HTTP/1.1 200 OK")
    assert received.endswith(b'{"bytes":%d}' % len(body))


@pytest.mark.parametrize("size", [MAX_HEAD + 1, 2_000_000], ids=["just-over", "2MB"])
def test_a_head_over_the_bound_is_answered_431_and_closed(
    serve: Callable[..., int], size: int
) -> None:
    port = serve()
    with connect(port) as connection:
        head = (
            b"GET /health HTTP/1.1\r\nHost: x\r\nX-Filler: " + b"a" * size + b"\r\n\r\n"
        )
        with contextlib.suppress(OSError):  # closed while we still sent: refused too
            connection.sendall(head)
        received = answer(connection)

    # Refused as the head arrives: answered 431, or closed while we were still sending.
    assert received.startswith(b"HTTP/1.1 431 ") or (
        size > MAX_HEAD + 1 and received == b""
    )
    with connect(port) as connection:  # the server is still there
        connection.sendall(
            b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        )
        assert answer(connection).startswith(b"HTTP/1.1 200 OK")


def test_a_head_that_arrives_slowly_is_closed(serve: Callable[..., int]) -> None:
    with connect(serve()) as connection:
        connection.sendall(b"GET /health HTTP/1.1\r\n")
        started = time.monotonic()
        closed_after = None
        for _ in range(20):  # a header line every 0.2 s, never the end of the head
            try:
                connection.sendall(b"X-Slow: 1\r\n")
            except OSError:
                closed_after = time.monotonic() - started
                break
            if connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b"":
                closed_after = time.monotonic() - started
                break
            time.sleep(0.2)

    assert closed_after is not None, "the connection stayed open"
    assert closed_after < HEAD_TIMEOUT + 1


def test_past_the_concurrency_limit_a_request_is_answered_503(
    serve: Callable[..., int],
) -> None:
    port = serve(limit_concurrency=2)
    held = [connect(port), connect(port)]
    try:
        time.sleep(0.1)
        with connect(port) as third:
            third.sendall(
                b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            received = answer(third)
    finally:
        for connection in held:
            connection.close()

    assert received.startswith(b"HTTP/1.1 503")
