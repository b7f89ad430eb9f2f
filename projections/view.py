"""What every view shares: its own tracking table, batched atomic writes, reads, reset and lag.

The library's tracking recorders keep one row per application name in one shared table; three
views following the same application in one database would overwrite each other's position,
so each view here keeps its position in its own ``<view>_tracking`` table. Writes issued
inside ``batch()`` share one transaction (rows and tracking commit together); outside a batch
each write is its own transaction. SQL is written once with ``?`` placeholders and ``{t}``
table names; the backend classes translate both.
"""

from __future__ import annotations

import fcntl
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from eventsourcing.persistence import Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteTrackingRecorder
from psycopg.sql import SQL, Identifier

Row = dict[str, Any]
STALLS_TABLE = "view_stalls"


class ViewStalled(Exception):
    """A view cannot apply one stored event. It stops before it — never skips it, so no case's
    history (nor the audit chain) has a gap — and says where, for readiness and status."""

    def __init__(self, view: str, position: int, case_id: str | None, error: BaseException):
        self.view, self.position, self.case_id, self.error = view, position, case_id, error
        super().__init__(f"view {view} cannot apply event {position} (case {case_id}): "
                         f"{type(error).__name__}: {' '.join(str(error).split())[:300]}")


class View(TrackingRecorder, ABC):
    """A read model's storage: rows plus the position of the last event they include."""

    name: str = ""
    tables: tuple[str, ...] = ()  # the view's own tables, emptied by reset()
    schema_version: int = 1  # raise it when the tables change: the view is rebuilt from the log

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
            if found is None or dict(found)["version"] != self.schema_version:
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
        with self._cursor(commit=False) as c:
            yield c

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
                            f"VALUES ({marks}) {_replace_on_key(columns)}", rows)

    def delete_where_in(self, c: Any, table: str, column: str, values: Sequence[Any]) -> None:
        self.executemany(c, f"DELETE FROM {self.table(table)} WHERE {column} = ?",
                         [(v,) for v in values])

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._reading() as c:
            c.execute(self._sql(statement), tuple(params))
            return [dict(row) for row in c.fetchall()]

    def track(self, tracking: Tracking) -> None:
        """Records the position of an event this view has nothing to write for."""
        with self.batch() as c:
            self._insert_tracking(c, tracking)

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
                         (self.name, position, case_id, error, _iso(datetime.now(UTC))))

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


class _Tables:
    """Lets DDL strings say ``{t[case_view]}`` for the backend's table name."""

    def __init__(self, view: View):
        self._view = view

    def __getitem__(self, name: str) -> str:
        return self._view.table(name)


def _database_file(db_name: str) -> str:
    """The file behind a SQLite database name (a path or a ``file:`` URI)."""
    if db_name.startswith("file:"):
        return unquote(urlsplit(db_name).path)
    return db_name


_CREATE_LOCK = 0x7065746974696F6E  # "petition": the advisory lock key for creating views


def _replace_on_key(columns: Sequence[str]) -> str:
    """The upsert clause: a row whose key (the first column) exists replaces the others."""
    updates = ", ".join(f"{col} = excluded.{col}" for col in columns[1:])
    return f"ON CONFLICT ({columns[0]}) DO UPDATE SET {updates}"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class SQLiteView(View, SQLiteTrackingRecorder):
    """Views in the events' SQLite file; times are stored as UTC ISO text (sorts correctly)."""

    ddl: tuple[str, ...] = ()

    def __init__(self, datastore: SQLiteDatastore, *, events_table_name: str = "stored_events",
                 **kwargs: Any):
        self.events_table_name = events_table_name
        super().__init__(datastore)
        t = self.tracking_table
        self.insert_tracking_statement = (
            f"INSERT INTO {t} VALUES (:application_name, :notification_id) "
            "ON CONFLICT (application_name) DO UPDATE SET notification_id = :notification_id "
            f"WHERE {t}.notification_id < :notification_id RETURNING notification_id"
        )
        self.select_max_tracking_id_statement = (
            f"SELECT MAX(notification_id) FROM {t} WHERE application_name=?"
        )

    def construct_create_table_statements(self) -> list[str]:
        tracking = (
            f"CREATE TABLE IF NOT EXISTS {self.tracking_table} (application_name TEXT, "
            "notification_id INTEGER, PRIMARY KEY (application_name)) WITHOUT ROWID"
        )
        return [tracking, *(s.format(t=_Tables(self)) for s in self.ddl)]

    @contextmanager
    def _one_creator_at_a_time(self) -> Iterator[None]:
        """Creating a view takes several transactions (ours and the library's tracking table
        with its migration row); two processes interleaving them would drop or duplicate each
        other's work. An advisory file lock beside the database lets one creator in at a time."""
        pool = self.datastore.pool
        if pool.is_sqlite_memory_mode:  # an in-memory database belongs to one process
            yield
            return
        path = _database_file(pool.db_name)
        lock_file = os.open(f"{path}.views-lock", os.O_WRONLY | os.O_CREAT, 0o600)  # private
        with os.fdopen(lock_file, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _cursor(self, *, commit: bool) -> Any:
        """A batch reads, then writes: the datastore the runner injects (the store's own,
        ``adapters/persistence/sqlite.py``) takes SQLite's write lock up front for it."""
        return self.datastore.transaction(commit=commit)

    def table(self, name: str) -> str:
        return name

    def _has_table(self, name: str) -> bool:
        return bool(self.query("SELECT 1 AS present FROM sqlite_master WHERE type = 'table' "
                               "AND name = ?", (name,)))

    def _sql(self, statement: str) -> str:
        return statement

    def encode_time(self, moment: datetime | None) -> Any:
        return None if moment is None else _iso(moment)

    def decode_time(self, value: Any) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)

    def originator_param(self, case_id: Any) -> Any:
        return case_id.hex

    def events_table(self) -> str:
        return self.events_table_name


class PostgresView(View, PostgresTrackingRecorder):
    """Views in the events' PostgreSQL schema; times are ``timestamptz``."""

    ddl: tuple[str, ...] = ()

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events",
                 **kwargs: Any):
        self.events_table_name = events_table_name
        super().__init__(datastore, tracking_table_name=self.tracking_table)
        for statement in self.ddl:
            self.sql_create_statements.append(SQL(statement.format(t=_Tables(self))))  # type: ignore[arg-type]

    def _cursor(self, *, commit: bool) -> Any:
        return self.datastore.transaction(commit=commit)

    @contextmanager
    def _one_creator_at_a_time(self) -> Iterator[None]:
        """PostgreSQL's ``CREATE … IF NOT EXISTS`` is not safe against another session doing
        the same (it fails on the catalog's unique index), as when a service and a rebuild
        start together: a session-level advisory lock lets one creator in at a time."""
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (_CREATE_LOCK,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (_CREATE_LOCK,))

    def insert_rows(self, c: Any, table: str, columns: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        """``COPY``: one stream per batch instead of one statement per row."""
        if rows:
            self._copy(c, self.table(table), columns, rows)

    def upsert_rows(self, c: Any, table: str, columns: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        """``COPY`` into a transaction-scoped staging table, then one set-based upsert: the
        per-row statement overhead of an ``executemany`` upsert dominated catch-up."""
        if not rows:
            return
        staging = Identifier(f"incoming_{table}").as_string()
        cols = ", ".join(columns)
        c.execute(f"CREATE TEMP TABLE {staging} (LIKE {self.table(table)}) ON COMMIT DROP")
        self._copy(c, staging, columns, rows)
        c.execute(f"INSERT INTO {self.table(table)} ({cols}) SELECT {cols} FROM {staging} "
                  f"{_replace_on_key(columns)}")
        c.execute(f"DROP TABLE {staging}")  # a second upsert in the same batch starts afresh

    @staticmethod
    def _copy(c: Any, target: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        with c.copy(f"COPY {target} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def delete_where_in(self, c: Any, table: str, column: str, values: Sequence[Any]) -> None:
        if values:
            c.execute(f"DELETE FROM {self.table(table)} WHERE {column} = ANY(%s)", (list(values),))

    def table(self, name: str) -> str:
        return SQL("{}.{}").format(Identifier(self.datastore.schema), Identifier(name)).as_string()

    def _sql(self, statement: str) -> str:
        return statement.replace("%", "%%").replace("?", "%s")

    def _has_table(self, name: str) -> bool:
        return bool(self.query("SELECT to_regclass(?) IS NOT NULL AS present",
                               (self.table(name),))[0]["present"])

    def encode_time(self, moment: datetime | None) -> Any:
        return moment

    def decode_time(self, value: Any) -> datetime | None:
        return value

    def originator_param(self, case_id: Any) -> Any:
        return case_id

    def events_table(self) -> str:
        return self.table(self.events_table_name)


def encode_date(day: date | None) -> str | None:
    return None if day is None else day.isoformat()
