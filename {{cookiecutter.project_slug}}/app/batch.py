"""Work a request leaves for later, done in batches by one background thread per
process, at most ``DELAY`` seconds after it was left.

Writing each request's access record and metrics as it ends would cost more than
everything else the service adds to a request; gathered for up to 100 ms, they
are a few writes per batch instead of several per request. A module that leaves
work registers the function that does it (``register``) and calls ``soon()``
after each piece. ``flush()`` does all of it now, in the caller's thread: before
/metrics answers, and when a worker stops (app.main's lifespan), so a stop loses
nothing.
"""

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

# The longest any piece of work waits, in seconds.
DELAY = 0.1

_flushes: list[Callable[[], None]] = []
_wake = threading.Event()
_writer_pid: int | None = None  # the process whose writer runs: a fork starts its own


def register(flush: Callable[[], None]) -> None:
    """Have ``flush`` called with every batch."""
    _flushes.append(flush)


def soon() -> None:
    """Have the writer flush within ``DELAY`` seconds."""
    if not _wake.is_set():
        _start_writer()
        _wake.set()


def flush() -> None:
    """Do all the work waiting, now."""
    for each in _flushes:
        each()


def drained(queue: deque[Any]) -> Iterator[Any]:
    """What ``queue`` holds, taken off it one by one until it is empty; safe while
    other threads add to it and take from it."""
    while True:
        try:
            yield queue.popleft()
        except IndexError:
            return


def _start_writer() -> None:
    global _writer_pid
    if _writer_pid != os.getpid():
        _writer_pid = os.getpid()
        threading.Thread(target=_write, name="batch-writer", daemon=True).start()


def _write() -> None:
    while True:
        _wake.wait()
        time.sleep(DELAY)  # what comes in meanwhile joins this batch
        _wake.clear()
        try:
            flush()
        except Exception:  # written at once (app.log), so it cannot come back here
            logging.getLogger(__name__).exception("a batch could not be written")


def _forked() -> None:
    global _wake
    # The parent's may be set, with no writer here to clear it.
    _wake = threading.Event()


if hasattr(os, "register_at_fork"):  # not on Windows, which does not fork
    os.register_at_fork(after_in_child=_forked)
