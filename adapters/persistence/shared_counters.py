"""Fixed-window counters in one table beside the events, shared by every process on the store.

The query-code throttle must hold across processes (``serve --workers N``, or several
``serve`` behind a load balancer): counted in each process's memory, N processes would grant
N times the attempts. One row per key — ``(key, window_start, hits)`` — is incremented by one
atomic upsert that also starts a new window when the old one has passed, so two processes
counting at once never lose an attempt. Cheap (one short statement per count, on the events'
own connection pool) and bounded: a row lives one window; each process deletes the expired
rows at most once a minute. Keys are keyed hashes, never an address or a code.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

TABLE = "query_code_throttle"
SWEEP_EVERY = 60.0  # seconds between one process's deletions of expired rows


class SharedCounters:
    def __init__(self, datastore: Any, *, postgres: bool,
                 clock: Callable[[], float] = time.time):
        self.datastore, self.postgres, self.clock = datastore, postgres, clock
        self.table = f'"{datastore.schema}".{TABLE}' if postgres else TABLE
        self.p = "%s" if postgres else "?"
        self._swept = clock()
        self._create()

    def _create(self) -> None:
        with self.datastore.transaction(commit=True) as c:
            if self.postgres:  # processes starting together would race on the catalogue
                c.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                          (f"petition {self.table}",))
            c.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (key TEXT PRIMARY KEY, "
                      "window_start DOUBLE PRECISION NOT NULL, hits INTEGER NOT NULL)")

    def count(self, window: float, add: str | None = None, peek: str | None = None
              ) -> tuple[tuple[int, float], tuple[int, float]]:
        """In one transaction: counts one more attempt for ``add`` and reads ``peek``; for each,
        (attempts in its current window, seconds until that window ends) — (0, 0) when none."""
        now = self.clock()
        horizon = now - window
        with self.datastore.transaction(commit=True) as c:
            added = self._add(c, add, now, horizon) if add is not None else None
            peeked = self._peek(c, peek, horizon) if peek is not None else None
            if now - self._swept >= SWEEP_EVERY:
                self._swept = now
                c.execute(f"DELETE FROM {self.table} WHERE window_start <= {self.p}", (horizon,))
        return _left(added, window, now), _left(peeked, window, now)

    def _add(self, c: Any, key: str, now: float, horizon: float) -> Any:
        p = self.p
        c.execute(
            f"INSERT INTO {self.table} AS t (key, window_start, hits) VALUES ({p}, {p}, 1) "
            f"ON CONFLICT (key) DO UPDATE SET "
            f"hits = CASE WHEN t.window_start <= {p} THEN 1 ELSE t.hits + 1 END, "
            f"window_start = CASE WHEN t.window_start <= {p} THEN excluded.window_start "
            f"ELSE t.window_start END RETURNING hits, window_start",
            (key, now, horizon, horizon))
        return c.fetchone()

    def _peek(self, c: Any, key: str, horizon: float) -> Any:
        c.execute(f"SELECT hits, window_start FROM {self.table} WHERE key = {self.p} "
                  f"AND window_start > {self.p}", (key, horizon))
        return c.fetchone()


def _left(row: Any, window: float, now: float) -> tuple[int, float]:
    if row is None:
        return 0, 0.0
    return int(row["hits"]), max(0.0, float(row["window_start"]) + window - now)
