"""Refuses request bodies over a size limit with 413 before they are read whole.

A declared ``Content-Length`` over the limit is refused before any byte of the body is read; a
body without one (chunked, streamed) is counted as it arrives and cut at the limit. Either way
the answer is 413 in the error shape, and the route never sees the body. A path matching a
pattern of ``larger`` (the citizens' filing form, the routes that carry one file) has that
pattern's limit instead.
"""

from __future__ import annotations

import re

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY_BYTES = 1 << 20


class BodyTooLarge(Exception):
    """Raised into the route's body read when the stream passes the limit."""


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 larger: dict[str, int] | None = None):
        self.app, self.max_bytes = app, max_bytes
        self.larger = [(re.compile(pattern), limit) for pattern, limit in (larger or {}).items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = next((n for pattern, n in self.larger if pattern.fullmatch(path)),
                     self.max_bytes)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await self._refuse(scope, receive, send, limit)
            return
        seen = {"bytes": 0, "over": False, "started": False}

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                seen["bytes"] += len(message.get("body", b""))
                if seen["bytes"] > limit:
                    seen["over"] = True
                    raise BodyTooLarge
            return message

        async def unless_cut(message: Message) -> None:
            if seen["over"] and not seen["started"]:
                return  # the route's answer to a body it never got whole: replaced below
            seen["started"] = seen["started"] or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, unless_cut)
        except Exception:
            if not seen["over"] or seen["started"]:
                raise
        if seen["over"] and not seen["started"]:
            await self._refuse(scope, receive, send, limit)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = JSONResponse(
            {"error": "body_too_large",
             "message": f"the request body is over the limit of {limit} bytes"},
            status_code=413, headers={"Connection": "close"})
        await response(scope, receive, send)
