"""uvicorn's HTTP protocols, bounded so that no client can exhaust a worker.

uvicorn's httptools protocol (its default) buffers a request head of any size,
and neither protocol closes a connection whose head arrives slowly. These
subclasses answer a head larger than ``APP_MAX_REQUEST_HEAD`` bytes with 431 and
close the connection once that many bytes have arrived, and close a connection
whose head is not complete ``APP_REQUEST_HEAD_TIMEOUT`` seconds after its first
byte; a connection that sends nothing is closed after uvicorn's keep-alive
timeout, as an idle one is. ``python -m app`` serves with them, for
``UVICORN_HTTP`` auto, httptools and h11 alike.
"""

import asyncio
import importlib.util
import logging
from collections.abc import Callable
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from app.settings import get_settings

logger = logging.getLogger("uvicorn.error")

TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: 31\r\n"
    b"connection: close\r\n\r\n"
    b"Request header fields too large"
)


class HeadTooLarge(Exception):
    """Raised from a parser callback to stop parsing a head that is too large."""


class HeadGuard:
    """One connection's request head: its size so far, its timer, its refusal."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        settings = get_settings()
        self.loop = loop
        self.limit = settings.max_request_head
        self.timeout = settings.request_head_timeout
        self.size = 0
        self.timer: asyncio.TimerHandle | None = None
        self.refused = False
        self.transport: asyncio.Transport | None = None

    def connected(
        self, transport: asyncio.Transport, idle: float, close: Callable[[], None]
    ) -> asyncio.TimerHandle:
        """Watch ``transport``; a connection that never sends a byte goes the way of
        an idle one: the timer returned calls ``close`` after ``idle`` seconds."""
        self.transport = transport
        return self.loop.call_later(idle, close)

    def started(self) -> None:
        if self.timer is None:
            self.timer = self.loop.call_later(self.timeout, self.too_slow)

    def ended(self) -> None:
        self.size = 0
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def grew(self, size: int) -> None:
        self.size += size
        if self.size > self.limit:
            self.refuse()

    def too_slow(self) -> None:
        self.timer = None
        logger.warning(
            "request head not complete after %s s: connection closed", self.timeout
        )
        if self.transport is not None:
            self.transport.close()

    def refuse(self) -> None:
        """Answer 431 and close, once: nothing of the request reaches the app."""
        if self.refused:
            return
        self.refused = True
        self.ended()
        logger.warning("request head larger than %d bytes: answered 431", self.limit)
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(TOO_LARGE)
            self.transport.close()


class BoundedH11Protocol(H11Protocol):
    """h11, whose own buffer limit is set to the head's bound."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.head = HeadGuard(self.loop)
        self.conn = h11.Connection(h11.SERVER, self.head.limit)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.timeout_keep_alive_task = self.head.connected(
            transport, self.timeout_keep_alive, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.head.ended()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        waiting = self.conn.their_state is h11.IDLE
        if waiting:
            self.head.started()
            received = self.conn.trailing_data[0] + data
            end = received.find(b"\r\n\r\n")
            if (
                end == -1 and len(received) > self.head.limit
            ) or end + 4 > self.head.limit:
                self.head.refuse()
                return
        super().data_received(data)
        if waiting and self.conn.their_state is not h11.IDLE:
            self.head.ended()


if importlib.util.find_spec("httptools") is not None:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class BoundedHttpToolsProtocol(HttpToolsProtocol):
        """httptools, counting the bytes of each head as they arrive."""

        in_head = False

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.head = HeadGuard(self.loop)

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self.timeout_keep_alive_task = self.head.connected(
                transport, self.timeout_keep_alive, self.timeout_keep_alive_handler
            )

        def connection_lost(self, exc: Exception | None) -> None:
            self.head.ended()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.in_head and not self.head.refused:
                self.head.grew(len(data))

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.in_head = True
            self.head.started()

        def on_headers_complete(self) -> None:
            self.in_head = False
            size = len(self.url) + sum(
                len(name) + len(value) + 4 for name, value in self.headers
            )
            if size > self.head.limit:
                self.head.refuse()
                raise HeadTooLarge  # stops the parser; uvicorn then calls send_400_response
            self.head.ended()
            super().on_headers_complete()

        def send_400_response(self, msg: str) -> None:
            if not self.head.refused:
                super().send_400_response(msg)

    BoundedAutoProtocol: type[asyncio.Protocol] = BoundedHttpToolsProtocol
else:  # uvicorn's "auto" takes h11 where httptools is not installed
    BoundedAutoProtocol = BoundedH11Protocol

# UVICORN_HTTP's values, and the protocol that ``python -m app`` serves each with.
PROTOCOLS = {
    "auto": "app.server:BoundedAutoProtocol",
    "httptools": "app.server:BoundedHttpToolsProtocol",
    "h11": "app.server:BoundedH11Protocol",
}
