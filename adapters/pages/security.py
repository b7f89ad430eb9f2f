"""The pages' defences: a session cookie, one-time CSRF tokens and strict response headers.

The session cookie is random, HttpOnly and SameSite=Strict and carries nothing else; what a
session knows (the case a query code opened) stays in server memory, never in a cookie or a
URL. Each rendered form carries a one-time token bound to the session: a forged or replayed
form is refused before anything is decided.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from uuid import UUID

from fastapi import Request, Response

from adapters.pages.bounded import BoundedMap

SESSION_COOKIE = "citizen_session"
LANG_COOKIE = "citizen_lang"
SESSION_TTL = 30 * 60
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


@dataclass
class Session:
    id: str
    case_id: UUID | None = None  # the case a query code opened in this session
    flash: list[str] = field(default_factory=list)


class Guard:
    """Sessions and CSRF tokens, both in bounded, expiring memory."""

    def __init__(self, capacity: int = 50_000):
        self.sessions: BoundedMap[Session] = BoundedMap(capacity, SESSION_TTL)
        self.tokens: BoundedMap[str] = BoundedMap(capacity * 2, SESSION_TTL)

    def session(self, request: Request) -> Session:
        sid = request.cookies.get(SESSION_COOKIE, "")
        session = self.sessions.get(sid) if sid else None
        if session is None:
            session = Session(secrets.token_urlsafe(24))
        self.sessions.put(session.id, session)  # refreshes its expiry
        request.state.session = session
        return session

    def csrf_token(self, session: Session) -> str:
        token = secrets.token_urlsafe(24)
        self.tokens.put(token, session.id)
        return token

    def spend(self, session: Session, token: str) -> bool:
        """True once for a token issued to this session; a replay or a forgery is False."""
        owner = self.tokens.pop(token) if token else None
        return owner is not None and secrets.compare_digest(owner, session.id)


def set_session_cookie(request: Request, response: Response, session: Session) -> None:
    response.set_cookie(SESSION_COOKIE, session.id, max_age=SESSION_TTL, path="/citizen",
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")


async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]
                  ) -> Response:
    """Strict headers on the citizen pages and their static files."""
    response = await call_next(request)
    if request.url.path.startswith("/citizen"):
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        if not request.url.path.startswith("/citizen/static"):
            response.headers["Cache-Control"] = "no-store"  # codes and answers stay off disks
    return response
