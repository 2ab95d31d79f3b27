import json
import logging
import sys

import pytest

from app.log import JsonFormatter, TextFormatter, formatter, request_id


def record(message: str = "hello", **extra: object) -> logging.LogRecord:
    made = logging.makeLogRecord(
        {"name": "app.test", "levelname": "INFO", "msg": message}
    )
    made.__dict__.update(extra)
    return made


def test_a_json_record_is_one_line_with_the_standard_fields() -> None:
    line = JsonFormatter().format(record("hello %s", args=("world",)))

    entry = json.loads(line)
    assert "\n" not in line
    assert entry["message"] == "hello world"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "app.test"
    assert entry["timestamp"].endswith("Z")


def test_extra_fields_and_the_request_id_become_fields() -> None:
    token = request_id.set("abc-123")
    try:
        entry = json.loads(
            JsonFormatter().format(record(status=200, route="/items/{id}"))
        )
    finally:
        request_id.reset(token)

    assert entry["request_id"] == "abc-123"
    assert entry["status"] == 200
    assert entry["route"] == "/items/{id}"


def test_an_exception_is_its_type_and_one_traceback_field() -> None:
    try:
        raise ValueError("bad")
    except ValueError:
        failed = record("failed", exc_info=sys.exc_info())

    line = JsonFormatter().format(failed)

    entry = json.loads(line)
    assert "\n" not in line
    assert entry["exception"] == "ValueError"
    assert entry["traceback"].startswith("Traceback (most recent call last):")
    assert "ValueError: bad" in entry["traceback"]


def test_text_lines_carry_the_fields_as_key_value() -> None:
    line = TextFormatter().format(record(status=404))

    assert line.endswith("INFO app.test: hello [status=404]")


@pytest.mark.parametrize(
    ("setting", "kind"), [("json", JsonFormatter), ("text", TextFormatter)]
)
def test_the_setting_picks_the_format(environment, setting: str, kind: type) -> None:
    environment(APP_LOG_FORMAT=setting)

    assert isinstance(formatter(), kind)


# What a client can put into a path (%0a, %e2%80%a8) or a header, to forge records.
FORGERIES = [
    "\n2026-01-01 ERROR app: forged",
    "\r",
    "\u2028",
    "\u2029",
    "\x85",
    "\x1b[2J",
]


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_json_record_stays_one_line_whatever_a_client_sent(forgery: str) -> None:
    line = JsonFormatter().format(record(f"GET /a{forgery}", path=f"/a{forgery}"))

    assert line.splitlines() == [line]
    assert not any(char in line for char in "\u2028\u2029\x85\x1b")
    assert json.loads(line)["path"] == f"/a{forgery}"


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_text_record_stays_one_line_whatever_a_client_sent(forgery: str) -> None:
    line = TextFormatter().format(record(f"GET /a{forgery}", path=f"/a{forgery}"))

    assert line.splitlines() == [line]
    assert not any(char in line for char in "\n\r\u2028\u2029\x85\x1b")
    assert "/a" + forgery.encode("unicode_escape").decode() in line


def test_a_text_traceback_follows_on_indented_lines() -> None:
    try:
        raise ValueError("bad\nforged line")
    except ValueError:
        failed = record("failed", exc_info=sys.exc_info())

    first, *rest = TextFormatter().format(failed).split("\n")

    assert first.endswith("INFO app.test: failed")
    assert rest[-2:] == ["    ValueError: bad", "    forged line"]
    assert all(line.startswith("    ") for line in rest)
