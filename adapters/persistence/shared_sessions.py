"""The citizen pages' sessions and one-time form tokens, in two tables beside the events, shared
by every process on the store.

A citizen's next request may reach another process (``serve --workers N``) or another machine
behind the load balancer: kept in one process's memory, the case a query code opened and the
form tokens that process rendered were lost there. Rows are keyed by keyed hashes of the
cookie's session id and of each token (never the secrets themselves); a session's content is
sealed by the caller. Every operation is one short statement on the events' own connection
pool, so two processes never disagree: a token is spent by one atomic ``DELETE ... RETURNING``,
so it is accepted once across all of them. Expiry is enforced in the statements (idle,
absolute, and each token's own); each process deletes expired rows at most once a minute and
trims each table to its capacity, oldest first, so the tables stay bounded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from adapters.persistence.shared_tables import creating, trim

SESSIONS, TOKENS = "citizen_sessions", "citizen_form_tokens"
SWEEP_EVERY = 60.0  # seconds between one process's deletions of expired rows


@dataclass(frozen=True)
class SessionLimits:
    idle: float  # seconds without a request before a session ends
    absolute: float  # seconds after its start when a session ends however busy
    token: float  # seconds a rendered form's token stays valid
    capacity: int  # sessions kept at most (tokens: twice as many)


class SharedSessions:
    def __init__(self, datastore: Any, *, postgres: bool, limits: SessionLimits,
                 clock: Callable[[], float] = time.time):
        self.datastore, self.postgres, self.limits, self.clock = datastore, postgres, limits, clock
        prefix = f'"{datastore.schema}".' if postgres else ""
        self.sessions, self.tokens = prefix + SESSIONS, prefix + TOKENS
        self.p = "%s" if postgres else "?"
        self._swept = clock()
        self._create()

    def _create(self) -> None:
        with creating(self.datastore, self.sessions, postgres=self.postgres) as c:
            c.execute(f"CREATE TABLE IF NOT EXISTS {self.sessions} (key TEXT PRIMARY KEY, "
                      "started DOUBLE PRECISION NOT NULL, touched DOUBLE PRECISION NOT NULL, "
                      "body TEXT NOT NULL)")
            c.execute(f"CREATE INDEX IF NOT EXISTS {SESSIONS}_touched "
                      f"ON {self.sessions} (touched)")
            c.execute(f"CREATE TABLE IF NOT EXISTS {self.tokens} (key TEXT PRIMARY KEY, "
                      "session TEXT NOT NULL, expires DOUBLE PRECISION NOT NULL)")
            c.execute(f"CREATE INDEX IF NOT EXISTS {TOKENS}_expires ON {self.tokens} (expires)")

    def create(self, key: str, body: str) -> None:
        now = self.clock()
        with self._writing(now) as c:
            c.execute(f"INSERT INTO {self.sessions} (key, started, touched, body) "
                      f"VALUES ({self.p}, {self.p}, {self.p}, {self.p})", (key, now, now, body))

    def load(self, key: str) -> str | None:
        """The live session's body; None when absent or expired. A read: the session's idle
        time restarts with the writes every request makes (a page's token, a form's spending,
        a change), so a request costs one write transaction, not two."""
        now, p = self.clock(), self.p
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT body FROM {self.sessions} WHERE key = {p} AND touched > {p} "
                      f"AND started > {p}",
                      (key, now - self.limits.idle, now - self.limits.absolute))
            row = c.fetchone()
        return None if row is None else str(row["body"])

    def save(self, key: str, body: str) -> None:
        now = self.clock()
        with self._writing(now) as c:
            c.execute(f"UPDATE {self.sessions} SET body = {self.p}, touched = {self.p} "
                      f"WHERE key = {self.p}", (body, now, key))

    def issue(self, token: str, session: str) -> None:
        """Records a rendered form's token, and that the session was used now."""
        now = self.clock()
        with self._writing(now) as c:
            c.execute(f"INSERT INTO {self.tokens} (key, session, expires) "
                      f"VALUES ({self.p}, {self.p}, {self.p})",
                      (token, session, now + self.limits.token))
            self._touch(c, session, now)

    def spend(self, token: str) -> str | None:
        """The session the token was issued to, once: the token is gone for every process."""
        now = self.clock()
        with self._writing(now) as c:
            c.execute(f"DELETE FROM {self.tokens} WHERE key = {self.p} RETURNING session, "
                      "expires", (token,))
            row = c.fetchone()
            if row is None or row["expires"] <= now:
                return None
            self._touch(c, str(row["session"]), now)
        return str(row["session"])

    def _touch(self, c: Any, session: str, now: float) -> None:
        """Restarts a live session's idle time (an expired one stays expired)."""
        p = self.p
        c.execute(f"UPDATE {self.sessions} SET touched = {p} WHERE key = {p} AND touched > {p}",
                  (now, session, now - self.limits.idle))

    @contextmanager
    def _writing(self, now: float) -> Iterator[Any]:
        """A transaction that also sweeps, at most once a minute in this process."""
        with self.datastore.transaction(commit=True) as c:
            yield c
            if now - self._swept >= SWEEP_EVERY:
                self._swept = now
                self._sweep(c, now)

    def _sweep(self, c: Any, now: float) -> None:
        p, limits = self.p, self.limits
        c.execute(f"DELETE FROM {self.sessions} WHERE touched <= {p} OR started <= {p}",
                  (now - limits.idle, now - limits.absolute))
        c.execute(f"DELETE FROM {self.tokens} WHERE expires <= {p}", (now,))
        trim(c, self.sessions, "touched", limits.capacity, postgres=self.postgres)
        trim(c, self.tokens, "expires", 2 * limits.capacity, postgres=self.postgres)

    def count(self) -> tuple[int, int]:
        """Rows kept: (sessions, tokens), expired ones not yet swept included."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT COUNT(*) AS n FROM {self.sessions}")
            sessions = int(c.fetchone()["n"])
            c.execute(f"SELECT COUNT(*) AS n FROM {self.tokens}")
            return sessions, int(c.fetchone()["n"])
