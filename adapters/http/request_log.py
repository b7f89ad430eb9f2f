"""One structured log line per request: method, route template, status, duration.

Never the body, the query string or headers: bodies carry personal data and query codes,
headers carry tokens. The route template (``/petitions/{case_id}/accept``) names the
operation without repeating ids.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import structlog
from fastapi import FastAPI, Request, Response

log = structlog.get_logger("petition.http")


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def _log(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                   ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        log.info("request", method=request.method,
                 route=getattr(route, "path", "<unmatched>"), status=response.status_code,
                 ms=round((time.perf_counter() - started) * 1000, 1))
        return response
