"""Where the citizen pages keep a session (the case a query code opened, the next page's
messages) and the one-time tokens of the forms they rendered.

``StoredSessions``, what ``petition serve`` uses, keeps both in the store
(``adapters/persistence/shared_sessions.py``) so every process and machine serving /citizen sees
the same session: the store sees keyed hashes of the session id and of each token, and a
session's content sealed with the store's cipher. ``MemorySessions`` keeps them in this
process's bounded memory, for an in-memory store (one process). Both end a session after
``IDLE`` seconds without a request and ``ABSOLUTE`` seconds after it began, and a token
``TOKEN_TTL`` seconds after its form was rendered.
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from adapters.pages.bounded import BoundedMap
from adapters.persistence.shared_sessions import SessionLimits

IDLE = 30 * 60
ABSOLUTE = 12 * 3600
TOKEN_TTL = 30 * 60
CAPACITY = 50_000
MAX_FLASH = 10  # messages waiting for the next page (each a short key)
LIMITS = SessionLimits(idle=IDLE, absolute=ABSOLUTE, token=TOKEN_TTL, capacity=CAPACITY)


@dataclass
class Session:
    id: str
    case_id: UUID | None = None  # the case a query code opened in this session
    flash: list[str] = field(default_factory=list)


class Sessions(Protocol):
    def open(self, sid: str) -> Session | None: ...
    def new(self) -> Session: ...
    def save(self, session: Session) -> None: ...
    def issue(self, session: Session, token: str) -> None: ...
    def spend(self, session: Session, token: str) -> bool: ...


def new_id() -> str:
    return secrets.token_urlsafe(24)  # 192 random bits


class MemorySessions:
    """One process's sessions in bounded, expiring memory."""

    def __init__(self, limits: SessionLimits = LIMITS,
                 clock: Callable[[], float] = time.monotonic):
        self.limits, self.clock = limits, clock
        self._sessions: BoundedMap[tuple[float, Session]] = BoundedMap(
            limits.capacity, limits.idle, clock)
        self._tokens: BoundedMap[str] = BoundedMap(2 * limits.capacity, limits.token, clock)

    def open(self, sid: str) -> Session | None:
        kept = self._sessions.get(sid)
        if kept is None or kept[0] <= self.clock() - self.limits.absolute:
            return None
        self._sessions.put(sid, kept)  # restarts its idle time
        return Session(sid, kept[1].case_id, list(kept[1].flash))

    def new(self) -> Session:
        session = Session(new_id())
        self._sessions.put(session.id, (self.clock(), session))
        return session

    def save(self, session: Session) -> None:
        kept = self._sessions.get(session.id)
        if kept is not None:
            copy = Session(session.id, session.case_id, session.flash[-MAX_FLASH:])
            self._sessions.put(session.id, (kept[0], copy))

    def issue(self, session: Session, token: str) -> None:
        self._tokens.put(token, session.id)

    def spend(self, session: Session, token: str) -> bool:
        owner = self._tokens.pop(token)
        return owner is not None and secrets.compare_digest(owner, session.id)


class StoredSessions:
    """Sessions in the store, for every process on it; see the module."""

    def __init__(self, shared: Any, hide: Callable[[str, str], str],
                 seal: Callable[[bytes], bytes], unseal: Callable[[bytes], bytes]):
        self.shared, self.hide, self.seal, self.unseal = shared, hide, seal, unseal

    def open(self, sid: str) -> Session | None:
        body = self.shared.load(self.hide("session", sid))
        if body is None:
            return None
        content = json.loads(self.unseal(base64.b64decode(body)))
        case_id = content.get("case")
        return Session(sid, UUID(case_id) if case_id else None, list(content.get("flash", [])))

    def new(self) -> Session:
        session = Session(new_id())
        self.shared.create(self.hide("session", session.id), self._body(session))
        return session

    def save(self, session: Session) -> None:
        self.shared.save(self.hide("session", session.id), self._body(session))

    def issue(self, session: Session, token: str) -> None:
        self.shared.issue(self.hide("token", token), self.hide("session", session.id))

    def spend(self, session: Session, token: str) -> bool:
        owner = self.shared.spend(self.hide("token", token))
        return owner is not None and secrets.compare_digest(owner,
                                                            self.hide("session", session.id))

    def _body(self, session: Session) -> str:
        content = {"case": str(session.case_id) if session.case_id else None,
                   "flash": session.flash[-MAX_FLASH:]}
        return base64.b64encode(self.seal(json.dumps(content).encode())).decode()
