"""One structured log line per request, a request id on every answer, and no bare 500.

The line carries method, route template, status, duration and the request id — never the body,
the query string or headers: bodies carry personal data and query codes, headers carry tokens.
The route template (``/petitions/{case_id}/accept``) names the operation without repeating ids.

An exception no handler turned into an answer becomes a 500 in the error shape whose body and
``X-Request-ID`` header name the request id; its log line (level error) names the exception's
type and where it was raised, not its message, which may quote personal data.
"""

from __future__ import annotations

import re
import time
import traceback
import uuid
from typing import Any

import structlog
from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = structlog.get_logger("petition.http")
HEADER = "X-Request-ID"
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def request_id(scope: Scope) -> str:
    """The id of the request being served (set by RequestContext)."""
    return str(scope.get("state", {}).get("request_id", ""))


def _incoming_id(scope: Scope) -> str | None:
    """A caller's own id is kept when it is short and plain (it goes into logs verbatim)."""
    given = Headers(scope=scope).get(HEADER)
    return given if given and _SAFE_ID.fullmatch(given) else None


def _where(error: BaseException) -> str:
    """``file:line in function`` of the innermost frame: enough to find it, no values."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return "?"
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno} in {last.name}"


class RequestContext:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = _incoming_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        answer: dict[str, Any] = {"status": None}

        async def tagged(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                MutableHeaders(scope=message)[HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        except Exception as error:
            answer.update(error=type(error).__name__, where=_where(error))
            if answer["status"] is not None:
                raise  # the answer had begun: the server can only drop the connection
            answer["status"] = 500
            await JSONResponse(
                {"error": "internal_error", "request_id": rid,
                 "message": f"an internal error; quote request id {rid} to the operators"},
                status_code=500, headers={HEADER: rid})(scope, receive, send)
        finally:
            self._log(scope, rid, answer, started)

    @staticmethod
    def _log(scope: Scope, rid: str, answer: dict[str, Any], started: float) -> None:
        route = scope.get("route")
        fields = {"method": scope.get("method"), "route": getattr(route, "path", "<unmatched>"),
                  "ms": round((time.perf_counter() - started) * 1000, 1), "request_id": rid,
                  **answer}
        if (answer["status"] or 500) >= 500:
            log.error("request", **fields)
        else:
            log.info("request", **fields)


def install(app: FastAPI) -> None:
    app.add_middleware(RequestContext)
