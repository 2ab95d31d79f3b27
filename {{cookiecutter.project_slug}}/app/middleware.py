"""Every request gets an id, one access record, its metrics, and a problem+json
answer if it fails.

A plain ASGI middleware: Starlette's BaseHTTPMiddleware would cost throughput on
every request.
"""

import logging
import os
import re
import time
from http import HTTPStatus
{%- if cookiecutter.database == "postgresql" %}

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
{%- else %}

from starlette.responses import JSONResponse
{%- endif %}
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import metrics
from app.log import ACCESS_LOGGER, request_id

logger = logging.getLogger(ACCESS_LOGGER)

HEADER = b"x-request-id"
# An incoming id is kept if it is short and plain, so it cannot forge log lines or
# grow them without bound; anything else is replaced by a new one.
ACCEPTED_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


def incoming_id(scope: Scope) -> bytes | None:
    """The request's X-Request-ID if it is acceptable (ASGI servers give header
    names in lowercase), else None."""
    for name, value in scope["headers"]:
        if name == HEADER:
            return value if ACCEPTED_ID.fullmatch(value) else None
    return None


class ProblemResponse(JSONResponse):
    media_type = "application/problem+json"


def problem(
    request_id: str,
    status: int = 500,
    detail: str = "The request failed. Quote the request id when you report it.",
) -> dict[str, object]:
    """RFC 9457's problem details, with the id to quote and nothing of the traceback."""
    return {
        "type": "about:blank",
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
        "request_id": request_id,
    }
{%- if cookiecutter.database == "postgresql" %}


class Problem(Exception):
    """An answer other than 2xx, as problem+json: ``raise Problem(404, "No note 7.")``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(status, detail)


async def problem_response(request: Request, error: Exception) -> Response:
    """The answer to a ``Problem`` a handler raised (app.main adds this handler)."""
    status, detail = error.args
    return ProblemResponse(problem(request_id.get() or "", status, detail), status)
{%- endif %}


def route_template(scope: Scope) -> str | None:
    """The template of the route that matched (``/items/{id}``), or None.

    FastAPI's routes put themselves in the scope; the routes Starlette serves
    for FastAPI (the docs pages) only their endpoint, and have no parameters.
    """
    if (route := scope.get("route")) is not None:
        return str(route.path)
    if "endpoint" in scope and not scope.get("path_params"):
        return str(scope["path"])
    return None


class RequestContext:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A new id is 128 random bits in hex, as uuid4().hex but without the object.
        raw = incoming_id(scope) or os.urandom(16).hex().encode()
        current = raw.decode()
        token = request_id.set(current)
        status = 500
        started = time.perf_counter()
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (HEADER, raw)]
            await send(message)

        metrics.started()
        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Logged here, once, and not raised on: the server would log it again.
            logger.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if not response_started:
                await ProblemResponse(problem(current), status_code=500)(
                    scope, receive, send_with_id
                )
        finally:
            route = route_template(scope)
            seconds = time.perf_counter() - started
            metrics.finished(scope["method"], route, status, seconds)
            logger.info(
                "%s %s %d",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                    "client": scope["client"][0] if scope.get("client") else None,
                },
            )
            request_id.reset(token)
