"""Logging: every line one JSON object (or readable text), from the app and uvicorn alike.

uvicorn loads ``app/logging.json`` before anything else, in its supervisor and in
every worker (``UVICORN_LOG_CONFIG`` in the image, ``--log-config`` in ``make
run``); it names ``formatter`` below, so each process formats the same way: the
standard library's logging, and orjson to encode each line (a seventh of what the
standard library's encoder spends on an access record).
"""

import json
import logging
import time
import unicodedata
from collections import deque
from contextvars import ContextVar
from functools import lru_cache
from itertools import islice
from typing import TextIO

import orjson
{%- if cookiecutter.tracing == "opentelemetry" %}
from opentelemetry import trace
{%- endif %}

from app import batch
from app.settings import get_settings

# The logger of the access records: one per request, from app.middleware.
ACCESS_LOGGER = "app.access"

# The id of the request being handled; set by app.middleware, read by every record.
request_id: ContextVar[str | None] = ContextVar("request_id", default=None)

# What the formatters below never show, so no record gathers it: the caller's file,
# line and function (a walk up the stack for every record), and the thread's,
# process'{% if cookiecutter.python_version != "3.11" %} and asyncio task's{% endif %} names (logging's HOWTO, "Optimization"). The pid stays.
logging._srcfile = None
logging.logThreads = False
logging.logMultiprocessing = False
{%- if cookiecutter.python_version != "3.11" %}
logging.logAsyncioTasks = False  # type: ignore[attr-defined]  # not in typeshed yet
{%- endif %}

# What every LogRecord has; anything else came with ``extra=`` and becomes a field.
_OWN = vars(logging.makeLogRecord({}))
_OWN_ATTRIBUTES = len(_OWN)
_STANDARD = {*_OWN, "message", "asctime", "color_message"}

# Characters that end a line for some reader of the logs: JSON keeps U+2028, U+2029
# and U+0085 raw, and JavaScript and some log viewers split lines there.
_SEPARATORS = "\u2028\u2029\u0085"
_LINE_BREAKS = str.maketrans({char: f"\\u{ord(char):04x}" for char in _SEPARATORS})


def _escaped(text: str) -> str:
    """``text`` with control, format and line-separator characters escaped, so what a
    client sends (a path with ``%0a`` in it) cannot start a line of its own."""
    return "".join(
        char.encode("unicode_escape").decode("ascii")
        if unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")
        else char
        for char in text
    )


def _fields(record: logging.LogRecord) -> dict[str, object]:
    # A record's own attributes come first, always as many; ``extra=`` adds after.
    added = islice(vars(record).items(), _OWN_ATTRIBUTES, None)
    fields = {key: value for key, value in added if key not in _STANDARD}
    if (current := request_id.get()) is not None:
        fields.setdefault("request_id", current)
{%- if cookiecutter.tracing == "opentelemetry" %}
    span = trace.get_current_span().get_span_context()
    if span.is_valid:  # inside a traced request: the ids that find its trace
        fields.setdefault("trace_id", format(span.trace_id, "032x"))
        fields.setdefault("span_id", format(span.span_id, "016x"))
{%- endif %}
    return fields


def _json(entry: dict[str, object]) -> str:
    """``entry`` as one line of JSON, anything JSON has no type for as its str()."""
    try:
        line = orjson.dumps(entry, default=str).decode()
    except orjson.JSONEncodeError:  # what orjson refuses: an integer over 64 bits
        line = json.dumps(entry, default=str, ensure_ascii=False)
    return line if line.isascii() else line.translate(_LINE_BREAKS)


@lru_cache(maxsize=2)
def _second(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def _timestamp(record: logging.LogRecord) -> str:
    """The record's time in ISO 8601, UTC, to the millisecond: 2026-01-31T12:00:00.123Z."""
    return f"{_second(int(record.created))}.{int(record.msecs):03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: timestamp (ISO 8601, UTC), level, logger, message,
    the process id (which worker), the request's fields, and an exception's type and
    traceback as single fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "timestamp": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
            **_fields(record),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exception"] = record.exc_info[0].__name__
            entry["traceback"] = self.formatException(record.exc_info)
        return _json(entry)


class TextFormatter(logging.Formatter):
    """For people at a terminal: the message, then the request's fields as key=value.

    One line per record: the message and the fields escaped; a traceback follows
    on lines of its own, each indented, so none can pass for a record.
    """

    def format(self, record: logging.LogRecord) -> str:
        line = (
            f"{self.formatTime(record)} {record.levelname} {record.name}:"
            f" {_escaped(record.getMessage())}"
        )
        fields = " ".join(
            f"{key}={_escaped(str(value))}" for key, value in _fields(record).items()
        )
        if fields:
            line += f" [{fields}]"
        if record.exc_info and record.exc_info[0] is not None:
            lines = self.formatException(record.exc_info).splitlines()
            line += "".join(f"\n    {_escaped(part)}" for part in lines)
        return line


class BatchedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A StreamHandler that writes access records in batches (app/batch.py), at most
    100 ms after their requests ended; every other record is written at once, after
    the access records before it, so the stream keeps the order of events."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream)
        self.waiting: deque[str] = deque()
        batch.register(self.flush)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self.waiting.append(line)
        if record.name == ACCESS_LOGGER and record.levelno < logging.WARNING:
            batch.soon()
        else:
            self.flush()

    def flush(self) -> None:
        with self.lock:  # type: ignore[union-attr]  # created in Handler.__init__
            if lines := "".join(batch.drained(self.waiting)):
                self.stream.write(lines)
            super().flush()


def formatter() -> logging.Formatter:
    """The formatter ``APP_LOG_FORMAT`` names: ``json`` (the default) or ``text``."""
    return TextFormatter() if get_settings().log_format == "text" else JsonFormatter()
