"""Fixed-window counters in one table beside the events, shared by every process on the store.

The query-code throttle must hold across processes (``serve --workers N``, or several
``serve`` behind a load balancer): counted in each process's memory, N processes would grant
N times the attempts. One row per key — ``(key, window_start, hits)`` — is incremented by one
atomic upsert that also starts a new window when the old one has passed, so two processes
counting at once never lose an attempt. Cheap (one short statement per count, on the events'
own connection pool) and bounded: a row lives one window; each process deletes the expired
rows at most once a minute. Keys are keyed hashes, never an address or a code.

On PostgreSQL a count is one statement on an autocommit connection (no BEGIN/COMMIT round
trips), and the table is ``UNLOGGED``: no WAL, so no flush to wait for and no WAL bytes per
attempt — a follow (``POST /status``, nearly half of the citizens' traffic) paid a synchronous
commit for a counter. The trade: after a PostgreSQL crash (not a clean restart) or on a
promoted standby the table starts empty, which only restarts the current throttle windows.
The counters are a brake on guessing within a window, not a record anyone reads back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from adapters.persistence.shared_tables import creating

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
        unlogged = "UNLOGGED " if self.postgres else ""
        with creating(self.datastore, self.table, postgres=self.postgres) as c:
            c.execute(f"CREATE {unlogged}TABLE IF NOT EXISTS {self.table} (key TEXT PRIMARY "
                      "KEY, window_start DOUBLE PRECISION NOT NULL, hits INTEGER NOT NULL)")
            if self.postgres:  # a table made before it was unlogged: make it so (small)
                c.execute("SELECT relpersistence FROM pg_class WHERE oid = to_regclass(%s)",
                          (self.table,))
                if c.fetchone()["relpersistence"] == "p":
                    c.execute(f"ALTER TABLE {self.table} SET UNLOGGED")

    def count(self, window: float, add: str | None = None, peek: str | None = None
              ) -> tuple[tuple[int, float], tuple[int, float]]:
        """In one transaction: counts one more attempt for ``add`` and reads ``peek``; for each,
        (attempts in its current window, seconds until that window ends) — (0, 0) when none."""
        now = self.clock()
        horizon = now - window
        if self.postgres:
            added, peeked = self._count_at_once(add, peek, now, horizon)
            if now - self._swept >= SWEEP_EVERY:
                self._swept = now
                with self.datastore.cursor() as c:
                    c.execute(f"DELETE FROM {self.table} WHERE window_start <= %s", (horizon,))
            return _left(added, window, now), _left(peeked, window, now)
        with self.datastore.transaction(commit=True) as c:
            added = self._add(c, add, now, horizon) if add is not None else None
            peeked = self._peek(c, peek, horizon) if peek is not None else None
            if now - self._swept >= SWEEP_EVERY:
                self._swept = now
                c.execute(f"DELETE FROM {self.table} WHERE window_start <= {self.p}", (horizon,))
        return _left(added, window, now), _left(peeked, window, now)

    def _count_at_once(self, add: str | None, peek: str | None, now: float, horizon: float
                       ) -> tuple[Any, Any]:
        """PostgreSQL: the upsert and the read in one autocommit statement (atomic as one
        transaction; the read sees the table as the statement began, and it reads another key
        than the one it adds to)."""
        prefix, parts, params = "", [], []
        if add is not None:
            prefix = f"WITH added AS ({self._upsert_sql()}) "
            parts.append("SELECT 'add' AS which, hits, window_start FROM added")
            params += [add, now, horizon, horizon]
        if peek is not None:
            parts.append(f"SELECT 'peek' AS which, hits, window_start FROM {self.table} "
                         "WHERE key = %s AND window_start > %s")
            params += [peek, horizon]
        if not parts:
            return None, None
        with self.datastore.cursor() as c:
            c.execute(prefix + " UNION ALL ".join(parts), params)
            rows = {row["which"]: row for row in c.fetchall()}
        return rows.get("add"), rows.get("peek")

    def _upsert_sql(self) -> str:
        p = self.p
        return (f"INSERT INTO {self.table} AS t (key, window_start, hits) VALUES ({p}, {p}, 1) "
                f"ON CONFLICT (key) DO UPDATE SET "
                f"hits = CASE WHEN t.window_start <= {p} THEN 1 ELSE t.hits + 1 END, "
                f"window_start = CASE WHEN t.window_start <= {p} THEN excluded.window_start "
                f"ELSE t.window_start END RETURNING hits, window_start")

    def _add(self, c: Any, key: str, now: float, horizon: float) -> Any:
        c.execute(self._upsert_sql(), (key, now, horizon, horizon))
        return c.fetchone()

    def _peek(self, c: Any, key: str, horizon: float) -> Any:
        c.execute(f"SELECT hits, window_start FROM {self.table} WHERE key = {self.p} "
                  f"AND window_start > {self.p}", (key, horizon))
        return c.fetchone()


def _left(row: Any, window: float, now: float) -> tuple[int, float]:
    if row is None:
        return 0, 0.0
    return int(row["hits"]), max(0.0, float(row["window_start"]) + window - now)
