"""The read models' storage: the SQLite and PostgreSQL view classes, and the store of views.

The read models (``projections/``) write their SQL once, for both dialects; the driver code —
connections, transactions, the lock that lets one process create views at a time, COPY on
PostgreSQL — lives here. ``ViewStore`` is what the projections receive from the composition
root: it opens a view by name on the views' own connection pool (so a long catch-up never
holds the connection the application's commands are waiting for) and subscribes to the log.
"""

from __future__ import annotations

import fcntl
import os
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from typing import Any
from urllib.parse import unquote, urlsplit

from eventsourcing.persistence import ApplicationRecorder
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.sqlite import SQLiteDatastore, SQLiteFactory, SQLiteTrackingRecorder
from psycopg.sql import SQL, Identifier

from adapters.persistence.subscriptions import subscribe
from projections.runner import READ_MODELS
from projections.view import (
    POSTGRES,
    SQLITE,
    Tables,
    View,
    iso_utc,
    replace_on_key,
)


def _database_file(db_name: str) -> str:
    """The file behind a SQLite database name (a path or a ``file:`` URI)."""
    if db_name.startswith("file:"):
        return unquote(urlsplit(db_name).path)
    return db_name


def views_lock_key(schema: str) -> int:
    """The advisory lock key for creating a schema's views. Advisory locks belong to the
    database, not to a schema: a constant key made two deployments in two schemas of one
    database (or two test runs) wait for each other's view creation."""
    return zlib.crc32(f"petition views creation {schema}".encode())


class SQLiteView(View, SQLiteTrackingRecorder):
    """Views in the events' SQLite file; times are stored as UTC ISO text (sorts correctly)."""

    dialect = SQLITE

    def __init__(self, datastore: SQLiteDatastore, *, events_table_name: str = "stored_events",
                 **kwargs: Any):
        self.events_table_name = events_table_name
        super().__init__(datastore)
        t = self.tracking_table
        # the library's statements name its shared ``tracking`` table; it records its own
        # migration marker (``__migration__``) with the insert when it creates the table
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
        return [tracking, *(s.format(t=Tables(self)) for s in self.ddl)]

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
        return None if moment is None else iso_utc(moment)

    def decode_time(self, value: Any) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value)

    def originator_param(self, case_id: Any) -> Any:
        return case_id.hex

    def events_table(self) -> str:
        return self.events_table_name

    def log_end_sql(self) -> str:
        return f"SELECT MAX(rowid) FROM {self.events_table()}"  # the library's, on SQLite


SMALL_BATCH = 50  # rows up to which an upsert is one INSERT … VALUES, not COPY via staging


class PostgresView(View, PostgresTrackingRecorder):
    """Views in the events' PostgreSQL schema; times are ``timestamptz``."""

    dialect = POSTGRES

    def __init__(self, datastore: PostgresDatastore, *, events_table_name: str = "stored_events",
                 **kwargs: Any):
        self.events_table_name = events_table_name
        super().__init__(datastore, tracking_table_name=self.tracking_table)
        for statement in self.ddl:
            self.sql_create_statements.append(SQL(statement.format(t=Tables(self))))  # type: ignore[arg-type]

    def _cursor(self, *, commit: bool) -> Any:
        return self.datastore.transaction(commit=commit)

    def _read_cursor(self) -> Any:
        """A read outside a batch runs on the pool's autocommit connection, no transaction:
        each statement sees one consistent state anyway (PostgreSQL's statement snapshot), and
        a rolled-back transaction cost two more round trips (BEGIN, ROLLBACK) and made psycopg
        drop every statement it had prepared on the connection (DEALLOCATE ALL), so the next
        reads were parsed and planned again."""
        return self.datastore.cursor()

    @contextmanager
    def _one_creator_at_a_time(self) -> Iterator[None]:
        """PostgreSQL's ``CREATE … IF NOT EXISTS`` is not safe against another session doing
        the same (it fails on the catalog's unique index), as when a service and a rebuild
        start together: a session-level advisory lock, one per schema, lets one creator in at a
        time."""
        key = views_lock_key(self.datastore.schema)
        with self.datastore.get_connection() as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (key,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def insert_rows(self, c: Any, table: str, columns: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        """``COPY``: one stream per batch instead of one statement per row."""
        if rows:
            self._copy(c, self.table(table), columns, rows)

    def upsert_rows(self, c: Any, table: str, columns: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        """``COPY`` into a transaction-scoped staging table, then one set-based upsert: the
        per-row statement overhead of an ``executemany`` upsert dominated catch-up; three round
        trips, as the committing thread of a catch-up waits for the GIL after each. A small
        batch (live following) is one multi-row ``INSERT … VALUES`` instead (``_values``)."""
        if not rows:
            return
        cols = ", ".join(columns)
        if len(rows) <= SMALL_BATCH:
            self._values(c, f"INSERT INTO {self.table(table)} ({cols})", rows,
                         replace_on_key(columns))
            return
        staging = Identifier(f"incoming_{table}").as_string()
        c.execute(f"CREATE TEMP TABLE {staging} ON COMMIT DROP AS SELECT {cols} FROM "
                  f"{self.table(table)} WITH NO DATA")  # only the columns written
        self._copy(c, staging, columns, rows)
        # one round trip: a second upsert in the same batch starts afresh
        c.execute(f"INSERT INTO {self.table(table)} ({cols}) SELECT {cols} FROM {staging} "
                  f"{replace_on_key(columns)}; DROP TABLE {staging}", prepare=False)

    def add_rows(self, c: Any, table: str, key: Sequence[str], counters: Sequence[str],
                 rows: Sequence[Sequence[Any]]) -> None:
        """``COPY`` into a staging table, then one set-based additive upsert (as above)."""
        if not rows:
            return
        columns = (*key, *counters)
        cols = ", ".join(columns)
        sets = ", ".join(f"{n} = r.{n} + excluded.{n}" for n in counters)
        if len(rows) <= SMALL_BATCH:
            self._values(c, f"INSERT INTO {self.table(table)} AS r ({cols})", rows,
                         f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}")
            return
        staging = Identifier(f"adding_{table}").as_string()
        c.execute(f"CREATE TEMP TABLE {staging} AS SELECT {cols} FROM {self.table(table)} "
                  "WITH NO DATA")
        self._copy(c, staging, columns, rows)
        c.execute(f"INSERT INTO {self.table(table)} AS r ({cols}) SELECT {cols} FROM {staging} "
                  f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET {sets}; DROP TABLE {staging}",
                  prepare=False)

    @staticmethod
    def _values(c: Any, insert: str, rows: Sequence[Sequence[Any]], conflict: str) -> None:
        """One ``INSERT … VALUES (…), (…) ON CONFLICT …``: PostgreSQL coerces each value to
        its column's type as COPY would. Creating and dropping a staging table costs catalog
        writes (pg_class, pg_type, pg_attribute, pg_depend) in every batch, which for the live
        runner's batches of one or a few events cost more than the rows themselves."""
        row = f"({', '.join('%s' for _ in rows[0])})"
        c.execute(f"{insert} VALUES {', '.join(row for _ in rows)} {conflict}",
                  [value for r in rows for value in r])

    @staticmethod
    def _copy(c: Any, target: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        with c.copy(f"COPY {target} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)

    def delete_where_in(self, c: Any, table: str, column: str, values: Sequence[Any]) -> None:
        if values:
            c.execute(f"DELETE FROM {self.table(table)} WHERE {column} = ANY(%s)", (list(values),))

    def table(self, name: str) -> str:
        """Composed once per name: every batch names its tables (it showed in the live
        runner's profile, docs/performance.md)."""
        names: dict[str, str] = self.__dict__.setdefault("_table_names", {})
        found = names.get(name)
        if found is None:
            found = names[name] = SQL("{}.{}").format(Identifier(self.datastore.schema),
                                                      Identifier(name)).as_string()
        return found

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

    def log_end_sql(self) -> str:
        return f"SELECT MAX(notification_id) FROM {self.events_table()}"  # the library's


@cache
def backend_class(model: type[View], dialect: str) -> type[View]:
    """The read model's view class on the dialect's driver (one class per pair)."""
    base: type[View] = SQLiteView if dialect == SQLITE else PostgresView
    prefix = "SQLite" if dialect == SQLITE else "Postgres"
    return type(prefix + model.__name__, (model, base),
                {"ddl": model.ddl_for(dialect), "__module__": __name__})


class ViewStore:
    """The views beside one application's events: opened by name, on a pool of their own
    (connected on the first view opened, closed with the application)."""

    def __init__(self, connect: Callable[[], Any], *, dialect: str, events_table_name: str):
        self._connect, self._datastore = connect, None
        self.dialect, self.events_table_name = dialect, events_table_name

    @classmethod
    def beside(cls, app: Any) -> ViewStore:
        """The views in the application's own database, closed when the application closes."""
        sqlite = isinstance(app.factory, SQLiteFactory)
        store = cls(lambda: type(app.factory)(app.env).datastore,
                    dialect=SQLITE if sqlite else POSTGRES,
                    events_table_name=getattr(app.recorder, "events_table_name", ""))
        app.on_close(store.close)
        return store

    @property
    def datastore(self) -> Any:
        if self._datastore is None:
            self._datastore = self._connect()
        return self._datastore

    def open(self, name: str) -> Any:
        """The named read model's view (tables created, or rebuilt under a new schema)."""
        cls = backend_class(READ_MODELS[name].view, self.dialect)
        view = cls(self.datastore, events_table_name=self.events_table_name)  # type: ignore[call-arg]
        view.create_table()
        return view

    def subscribe(self, recorder: ApplicationRecorder, gt: int | None) -> Any:
        """A subscription to the log after position ``gt``, handing out batches."""
        return subscribe(recorder, gt)

    def close(self) -> None:
        if self._datastore is not None:
            self._datastore.close()
