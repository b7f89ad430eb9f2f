"""The online filing's drafts (a form waiting for its phone code) in a table beside the events,
shared by every process on the store.

A citizen's code may be entered on another process than the one that sent it (``serve
--workers N``, several machines): kept in one process's memory, the draft was not found there
and the citizen was asked to file again. Rows are keyed by a keyed hash of the draft's id; the
draft itself (the form, personal data) is sealed by the caller. Wrong codes are counted by one
atomic ``UPDATE ... RETURNING`` and a draft is taken for registration by one ``DELETE ...
RETURNING``, so across processes a draft allows its five tries once and registers once. Rows
expire ``ttl`` seconds after the form was sent; each process deletes expired rows at most once
a minute and trims the table to ``capacity``, oldest first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from adapters.persistence.shared_tables import creating, trim

TABLE = "citizen_drafts"
SWEEP_EVERY = 60.0  # seconds between one process's deletions of expired rows


class SharedDrafts:
    def __init__(self, datastore: Any, *, postgres: bool, ttl: float, capacity: int,
                 clock: Callable[[], float] = time.time):
        self.datastore, self.postgres, self.clock = datastore, postgres, clock
        self.ttl, self.capacity = ttl, capacity
        self.table = f'"{datastore.schema}".{TABLE}' if postgres else TABLE
        self.p = "%s" if postgres else "?"
        self._swept = clock()
        with creating(self.datastore, self.table, postgres=postgres) as c:
            c.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (key TEXT PRIMARY KEY, "
                      "expires DOUBLE PRECISION NOT NULL, tries INTEGER NOT NULL, "
                      "body TEXT NOT NULL)")
            c.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_expires ON {self.table} (expires)")

    def put(self, key: str, body: str) -> None:
        now = self.clock()
        with self._writing(now) as c:
            c.execute(f"INSERT INTO {self.table} (key, expires, tries, body) "
                      f"VALUES ({self.p}, {self.p}, 0, {self.p})", (key, now + self.ttl, body))

    def get(self, key: str) -> tuple[int, str] | None:
        """(wrong codes so far, body) of a live draft."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT tries, body FROM {self.table} WHERE key = {self.p} "
                      f"AND expires > {self.p}", (key, self.clock()))
            row = c.fetchone()
        return None if row is None else (int(row["tries"]), str(row["body"]))

    def fail(self, key: str) -> int | None:
        """Counts one more wrong code; the count, or None when the draft is gone."""
        now = self.clock()
        with self._writing(now) as c:
            c.execute(f"UPDATE {self.table} SET tries = tries + 1 WHERE key = {self.p} "
                      f"AND expires > {self.p} RETURNING tries", (key, now))
            row = c.fetchone()
        return None if row is None else int(row["tries"])

    def take(self, key: str) -> str | None:
        """The live draft's body, removed for every process: one taker only."""
        now = self.clock()
        with self._writing(now) as c:
            c.execute(f"DELETE FROM {self.table} WHERE key = {self.p} RETURNING expires, body",
                      (key,))
            row = c.fetchone()
        return str(row["body"]) if row is not None and row["expires"] > now else None

    def count(self) -> int:
        with self.datastore.transaction(commit=False) as c:
            c.execute(f"SELECT COUNT(*) AS n FROM {self.table}")
            return int(c.fetchone()["n"])

    @contextmanager
    def _writing(self, now: float) -> Iterator[Any]:
        """A transaction that also sweeps, at most once a minute in this process."""
        with self.datastore.transaction(commit=True) as c:
            yield c
            if now - self._swept >= SWEEP_EVERY:
                self._swept = now
                c.execute(f"DELETE FROM {self.table} WHERE expires <= {self.p}", (now,))
                trim(c, self.table, "expires", self.capacity, postgres=self.postgres)
