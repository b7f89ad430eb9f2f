"""The pages' defences: a session cookie, one-time CSRF tokens and strict response headers.

The session cookie is random, HttpOnly and SameSite=Strict and carries nothing else; what a
session knows (the case a query code opened) stays on the server (in the store, shared by every
process: adapters/pages/sessions.py), never in a cookie or a URL. Each rendered form carries
a one-time token bound to the session: a forged or replayed form is refused before anything is
decided.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from uuid import UUID

from fastapi import Request, Response

from adapters.pages.sessions import IDLE, MemorySessions, Session, Sessions

SESSION_COOKIE = "citizen_session"
LANG_COOKIE = "citizen_lang"
SESSION_TTL = IDLE
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{32,64}")


class Guard:
    """Sessions and CSRF tokens, kept by ``sessions`` (adapters/pages/sessions.py). Each
    change to a session is written through at once, so the next request may reach any
    process."""

    def __init__(self, sessions: Sessions | None = None):
        self.sessions: Sessions = sessions if sessions is not None else MemorySessions()

    def session(self, request: Request) -> Session:
        sid = request.cookies.get(SESSION_COOKIE, "")
        session = self.sessions.open(sid) if _SESSION_ID.fullmatch(sid) else None
        if session is None:
            session = self.sessions.new()
        request.state.session = session
        return session

    def csrf_token(self, session: Session) -> str:
        token = secrets.token_urlsafe(24)
        self.sessions.issue(session, token)
        return token

    def spend(self, session: Session, token: str) -> bool:
        """True once for a token issued to this session; a replay or a forgery is False."""
        return bool(token) and len(token) <= 64 and self.sessions.spend(session, token)

    def open_case(self, session: Session, case_id: UUID) -> None:
        session.case_id = case_id
        self.sessions.save(session)

    def leave(self, session: Session) -> None:
        session.case_id = None
        self.sessions.save(session)

    def flash(self, session: Session, message: str) -> None:
        session.flash.append(message)
        self.sessions.save(session)

    def take_flash(self, session: Session) -> list[str]:
        flash, session.flash = session.flash, []
        if flash:
            self.sessions.save(session)
        return flash


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
