"""What every view shares: its own tracking table, batched atomic writes, reads, reset and lag.

The library's tracking recorders keep one row per application name in one shared table; three
views following the same application in one database would overwrite each other's position,
so each view here keeps its position in its own ``<view>_tracking`` table. Writes issued
inside ``batch()`` share one transaction (rows and tracking commit together); outside a batch
each write is its own transaction. SQL is written once with ``?`` placeholders and ``{t}``
table names; the backend classes (``adapters/persistence/views.py``, which hold the driver
code) translate both, and ``ddl_for`` gives each its column types.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

from eventsourcing.persistence import IntegrityError, Tracking, TrackingRecorder

Row = dict[str, Any]
STALLS_TABLE = "view_stalls"
SQLITE, POSTGRES = "sqlite", "postgres"  # the dialects a view's SQL is written for
TIMESTAMP = {SQLITE: "TEXT", POSTGRES: "TIMESTAMPTZ"}  # UTC ISO text sorts correctly


class ViewStalled(Exception):
    """A view cannot apply one stored event. It stops before it — never skips it, so no case's
    history (nor the audit chain) has a gap — and says where, for readiness and status."""

    def __init__(self, view: str, position: int, case_id: str | None, error: BaseException):
        self.view, self.position, self.case_id, self.error = view, position, case_id, error
        super().__init__(f"view {view} cannot apply event {position} (case {case_id}): "
                         f"{type(error).__name__}: {' '.join(str(error).split())[:300]}")


class PositionMoved(IntegrityError):
    """The view's position is not where a batch started: another writer of the view (a
    rebuild beside a runner, a leader that lost its lock mid-batch) committed first. The batch
    is not written; the writer reads the position again and goes on from there."""


class View(TrackingRecorder, ABC):
    """A read model's storage: rows plus the position of the last event they include."""

    name: str = ""
    tables: tuple[str, ...] = ()  # the view's own tables, emptied by reset()
    schema_version: int = 1  # raise it when the tables change: the view is rebuilt from the log
    # earlier versions whose tables differ from this one's only by indexes it adds (every DDL
    # statement is IF NOT EXISTS): they gain the indexes in place, with no rebuild
    adds_indexes_to: frozenset[int] = frozenset()
    DDL: tuple[str, ...] = ()  # CREATE statements with {t[table]} names and {ts} time columns
    dialect: str = ""  # set by the backend class
    ddl: tuple[str, ...] = ()

    @classmethod
    def ddl_for(cls, dialect: str) -> tuple[str, ...]:
        """The view's CREATE statements with the dialect's column types."""
        return tuple(s.replace("{ts}", TIMESTAMP[dialect]) for s in cls.DDL)

    def create_table(self) -> None:
        """Creates the tables; a view built under another schema version is dropped first,
        with its position, so the runner rebuilds it from the event log."""
        if self._schema_is_current():
            return
        with self._one_creator_at_a_time():
            self._create_or_migrate()

    def _create_or_migrate(self) -> None:
        """The version is recorded last, so a view whose version is current has its tables."""
        versions = self.table("view_versions")
        with self.batch() as c:
            self.execute(c, f"CREATE TABLE IF NOT EXISTS {versions} "
                            "(name TEXT PRIMARY KEY, version INTEGER NOT NULL)")
            self.execute(c, f"SELECT version FROM {versions} WHERE name = ?", (self.name,))
            found = c.fetchone()
            version = None if found is None else dict(found)["version"]
            if version != self.schema_version and version not in self.adds_indexes_to:
                for table in (*self.tables, self.tracking_table):
                    self.execute(c, f"DROP TABLE IF EXISTS {self.table(table)}")
        super().create_table()  # type: ignore[misc]
        with self.batch() as c:
            self.execute(c, f"INSERT INTO {versions} (name, version) VALUES (?, ?) "
                            "ON CONFLICT (name) DO UPDATE SET version = excluded.version",
                         (self.name, self.schema_version))

    @abstractmethod
    def _cursor(self, *, commit: bool) -> Any: ...

    @contextmanager
    def _one_creator_at_a_time(self) -> Iterator[None]:
        """Serialises creating views across processes where the store needs it."""
        yield

    def _schema_is_current(self) -> bool:
        """A read-only check, so opening an up-to-date view takes no write lock."""
        try:
            rows = self.query(f"SELECT version FROM {self.table('view_versions')} WHERE name = ?",
                              (self.name,))
        except Exception:  # noqa: BLE001 - no versions table yet: not current
            return False
        return bool(rows) and rows[0]["version"] == self.schema_version

    @abstractmethod
    def table(self, name: str) -> str:
        """The table's name as SQL (schema-qualified on PostgreSQL)."""

    @abstractmethod
    def encode_time(self, moment: datetime | None) -> Any: ...

    @abstractmethod
    def decode_time(self, value: Any) -> datetime | None: ...

    @abstractmethod
    def _sql(self, statement: str) -> str: ...

    @property
    def _local(self) -> threading.local:
        local = self.__dict__.get("_thread_local")
        if local is None:
            local = self.__dict__.setdefault("_thread_local", threading.local())
        return local

    @contextmanager
    def batch(self) -> Iterator[Any]:
        """One transaction for every write (and tracking) inside the block."""
        current = getattr(self._local, "cursor", None)
        if current is not None:
            yield current
            return
        with self._cursor(commit=True) as c:
            self._local.cursor = c
            try:
                yield c
            finally:
                self._local.cursor = None

    @contextmanager
    def _reading(self) -> Iterator[Any]:
        current = getattr(self._local, "cursor", None)
        if current is not None:
            yield current
            return
        with self._read_cursor() as c:
            yield c

    def _read_cursor(self) -> Any:
        """Where a read outside a batch runs: a transaction that is rolled back (the backend
        class may read without one where a lone statement sees a consistent state anyway)."""
        return self._cursor(commit=False)

    def execute(self, c: Any, statement: str, params: Sequence[Any] = ()) -> None:
        c.execute(self._sql(statement), tuple(params))

    def executemany(self, c: Any, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            c.executemany(self._sql(statement), [tuple(r) for r in rows])

    def insert_rows(self, c: Any, table: str, columns: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        """Appends rows to one of the view's tables (inside the caller's batch)."""
        marks = ", ".join("?" for _ in columns)
        self.executemany(c, f"INSERT INTO {self.table(table)} ({', '.join(columns)}) "
                            f"VALUES ({marks})", rows)

    def upsert_rows(self, c: Any, table: str, columns: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        """Inserts rows or replaces those with the same key, the first column."""
        marks = ", ".join("?" for _ in columns)
        self.executemany(c, f"INSERT INTO {self.table(table)} ({', '.join(columns)}) "
                            f"VALUES ({marks}) {replace_on_key(columns)}", rows)

    def add_rows(self, c: Any, table: str, key: Sequence[str], counters: Sequence[str],
                 rows: Sequence[Sequence[Any]]) -> None:
        """Adds counters to the rows with the same key (inserting those that are new); the
        rows' keys must be distinct."""
        columns = (*key, *counters)
        sets = ", ".join(f"{n} = r.{n} + excluded.{n}" for n in counters)
        self.executemany(c, f"INSERT INTO {self.table(table)} AS r ({', '.join(columns)}) "
                            f"VALUES ({', '.join('?' for _ in columns)}) "
                            f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}", rows)

    def delete_where_in(self, c: Any, table: str, column: str, values: Sequence[Any]) -> None:
        self.executemany(c, f"DELETE FROM {self.table(table)} WHERE {column} = ?",
                         [(v,) for v in values])

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._reading() as c:
            c.execute(self._sql(statement), tuple(params))
            return [dict(row) for row in c.fetchall()]

    def end_and_position(self, application_name: str) -> tuple[int, int]:
        """The log's end and this view's position of ``application_name``, in one statement
        (a read that waits for the view reads both on arrival: one round trip, not two)."""
        row = self.query(f"SELECT ({self.log_end_sql()}) AS log_end, (SELECT "
                         f"MAX(notification_id) FROM {self.table(self.tracking_table)} "
                         "WHERE application_name = ?) AS position", (application_name,))[0]
        return row["log_end"] or 0, row["position"] or 0

    @abstractmethod
    def log_end_sql(self) -> str:
        """A query of the log's end, as the application's recorder reads it."""

    def track(self, tracking: Tracking, after: int) -> None:
        """Records the position of an event this view has nothing to write for."""
        with self.batch() as c:
            self.record_position(c, tracking, after)

    def record_position(self, c: Any, tracking: Tracking, after: int) -> None:
        """Moves the position from ``after`` (0: none yet) to ``tracking``'s inside the
        caller's batch, so rows and position commit together; ``PositionMoved`` when it is
        elsewhere. A writer records it before its rows: a second writer of the same batch then
        waits on this one row, holding no other, and fails on it — where, after its rows, two
        writers touching shared rows (the additive roll-ups) in different orders deadlocked,
        and a batch cut differently from the other writer's (ending past it) was applied a
        second time, since only a position not beyond the recorded one was refused."""
        name, end = tracking.application_name, tracking.notification_id
        if end <= after:
            raise ValueError(f"a batch ending at {end} cannot follow position {after}")
        table = self.table(self.tracking_table)
        if after:
            self.execute(c, f"UPDATE {table} SET notification_id = ? WHERE application_name = ? "
                            "AND notification_id = ? RETURNING notification_id",
                         (end, name, after))
        else:
            self.execute(c, f"INSERT INTO {table} AS t (application_name, notification_id) "
                            "VALUES (?, ?) ON CONFLICT (application_name) DO UPDATE SET "
                            "notification_id = excluded.notification_id "
                            "WHERE t.notification_id = 0 RETURNING notification_id", (name, end))
        if c.fetchone() is None:
            raise PositionMoved(f"view {self.name}: position of {name} is no longer {after} "
                                f"(a batch up to {end} not written)")

    def reset(self) -> None:
        """Empties the view and forgets its position, in one transaction (for a rebuild)."""
        with self.batch() as c:
            for name in self.tables:
                self.execute(c, f"DELETE FROM {self.table(name)}")
            self.execute(
                c,
                f"DELETE FROM {self.table(self.tracking_table)} WHERE application_name <> ?",
                ("__migration__",),
            )

    @property
    def tracking_table(self) -> str:
        return f"{self.name}_tracking"

    def dump(self) -> dict[str, list[Row]]:
        """Every row of every table of the view, in a stable order (for comparisons)."""
        return {t: self.query(f"SELECT * FROM {self.table(t)} ORDER BY 1, 2") for t in self.tables}

    def record_stall(self, position: int, case_id: str | None, error: str) -> None:
        """Remembers, in the store, the event this view stopped at, so that every process's
        ``projections status`` shows it (one row per view, replaced by a later stall)."""
        stalls = self.table(STALLS_TABLE)
        with self.batch() as c:
            self.execute(c, f"CREATE TABLE IF NOT EXISTS {stalls} (name TEXT PRIMARY KEY, "
                            "position BIGINT NOT NULL, case_id TEXT, error TEXT NOT NULL, "
                            "since TEXT NOT NULL)")
            self.execute(c, f"INSERT INTO {stalls} (name, position, case_id, error, since) "
                            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
                            "position = excluded.position, case_id = excluded.case_id, "
                            "error = excluded.error, since = excluded.since",
                         (self.name, position, case_id, error, iso_utc(datetime.now(UTC))))

    def stall(self) -> Row | None:
        """The recorded stall, if any (the caller compares it with the view's position)."""
        if not self._has_table(STALLS_TABLE):  # never stalled (asking would log an error)
            return None
        rows = self.query(f"SELECT position, case_id, error, since FROM "
                          f"{self.table(STALLS_TABLE)} WHERE name = ?", (self.name,))
        return rows[0] if rows else None

    @abstractmethod
    def _has_table(self, name: str) -> bool: ...

    def clear_stall(self) -> None:
        if self.stall() is None:
            return
        with self.batch() as c:
            self.execute(c, f"DELETE FROM {self.table(STALLS_TABLE)} WHERE name = ?",
                         (self.name,))

    def wait_for(self, application_name: str, position: int | None, timeout: float = 5.0) -> None:
        """Read-your-writes: blocks until the view includes ``position`` (TimeoutError if not)."""
        self.wait(application_name, position, timeout=timeout)

    @abstractmethod
    def originator_param(self, case_id: Any) -> Any:
        """A case id as the events table's ``originator_id`` parameter."""

    @abstractmethod
    def events_table(self) -> str:
        """The events table's name as SQL."""


class Tables:
    """Lets DDL strings say ``{t[case_view]}`` for the backend's table name."""

    def __init__(self, view: View):
        self._view = view

    def __getitem__(self, name: str) -> str:
        return self._view.table(name)


def replace_on_key(columns: Sequence[str]) -> str:
    """The upsert clause: a row whose key (the first column) exists replaces the others."""
    updates = ", ".join(f"{col} = excluded.{col}" for col in columns[1:])
    return f"ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}"


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")



def encode_date(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
