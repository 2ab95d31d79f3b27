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


class _BoundedHead:
    """What both protocols share: the head's byte count, its timer, the 431."""

    transport: asyncio.Transport
    loop: asyncio.AbstractEventLoop
    client: tuple[str, int] | None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = get_settings()
        self.max_head = settings.max_request_head
        self.head_timeout = settings.request_head_timeout
        self.head_bytes = 0
        self.head_timer: asyncio.TimerHandle | None = None
        self.head_refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # type: ignore[misc]
        # A connection that never sends a byte goes the way of an idle one.
        self.timeout_keep_alive_task = self.loop.call_later(
            self.timeout_keep_alive,  # type: ignore[attr-defined]
            self.timeout_keep_alive_handler,  # type: ignore[attr-defined]
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self.head_ended()
        super().connection_lost(exc)  # type: ignore[misc]

    def head_started(self) -> None:
        if self.head_timer is None:
            self.head_timer = self.loop.call_later(
                self.head_timeout, self.head_too_slow
            )

    def head_ended(self) -> None:
        self.head_bytes = 0
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def head_too_slow(self) -> None:
        self.head_timer = None
        logger.warning(
            "request head not complete after %s s: connection closed", self.head_timeout
        )
        self.transport.close()

    def refuse_head(self) -> None:
        """Answer 431 and close, once: nothing of the request reaches the app."""
        if self.head_refused:
            return
        self.head_refused = True
        self.head_ended()
        logger.warning("request head larger than %d bytes: answered 431", self.max_head)
        if not self.transport.is_closing():
            self.transport.write(TOO_LARGE)
            self.transport.close()


class BoundedH11Protocol(_BoundedHead, H11Protocol):
    """h11, whose own buffer limit is set to the head's bound."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn = h11.Connection(h11.SERVER, self.max_head)

    def data_received(self, data: bytes) -> None:
        waiting = self.conn.their_state is h11.IDLE
        if waiting:
            self.head_started()
            received = self.conn.trailing_data[0] + data
            end = received.find(b"\r\n\r\n")
            if (end == -1 and len(received) > self.max_head) or end + 4 > self.max_head:
                self.refuse_head()
                return
        super().data_received(data)
        if waiting and self.conn.their_state is not h11.IDLE:
            self.head_ended()


if importlib.util.find_spec("httptools") is not None:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class BoundedHttpToolsProtocol(_BoundedHead, HttpToolsProtocol):
        """httptools, counting the bytes of each head as they arrive."""

        in_head = False

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.in_head and not self.head_refused:
                self.head_bytes += len(data)
                if self.head_bytes > self.max_head:
                    self.refuse_head()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.in_head = True
            self.head_started()

        def on_headers_complete(self) -> None:
            self.in_head = False
            size = len(self.url) + sum(
                len(name) + len(value) + 4 for name, value in self.headers
            )
            if size > self.max_head:
                self.refuse_head()
                raise HeadTooLarge  # stops the parser; uvicorn then calls send_400_response
            self.head_ended()
            super().on_headers_complete()

        def send_400_response(self, msg: str) -> None:
            if not self.head_refused:
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
