"""The only module that relies on the eventsourcing library's private recorder internals.

Group commit writes many saves in one transaction as the recorders do (so the rows,
notification ids and PostgreSQL's NOTIFY are exactly the library's); no public method takes a
caller's cursor or a batch of saves. A lone SQLite read runs on the
pool connection's own ``sqlite3`` connection (``sqlite_connection``), and SQLite connections are
made as the library's pool makes them but keep their prepared statements
(``statement_caching_pool``). On SQLite it calls the
recorder's private insert; on PostgreSQL a function in the events' schema repeats the
recorder's lock, NOTIFY and insert (its table, composite type and channel names), so a batch
is one statement. The library is
pinned exactly (pyproject.toml) and ``tests/integration/test_library_internals.py`` pins what
these rely on in that version (including that the function's statements are the recorder's),
so an upgrade that moves them fails there, by name, instead of inside a save.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from eventsourcing import sqlite as library_sqlite
from eventsourcing.persistence import InterfaceError, StoredEvent

PINNED_VERSION = "9.5.6"


def create_locked_insert(recorder: Any) -> Any:
    """PostgreSQL: creates (or replaces) a function that inserts as the recorder's own insert
    does — its lock timeout, its ``LOCK TABLE … IN EXCLUSIVE MODE`` (insert order is commit
    order), its channel's NOTIFY, its INSERT … RETURNING, in that order, on its table and
    composite type — in one statement; returns the call.

    One statement is one round trip: the table lock is held only while the server works, never
    while the client process waits for its interpreter lock between statements. Inside a
    function the lock needs no explicit transaction block (the statement's own transaction
    holds it until commit)."""
    from psycopg.sql import SQL, Identifier

    name = f"{recorder.events_table_name}_locked_insert"
    if len(name) > recorder.MAX_IDENTIFIER_LEN:
        raise ValueError(f"function name too long: {name}")
    schema, table = Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name)
    create = SQL(
        "CREATE OR REPLACE FUNCTION {schema}.{name}(events {schema}.{event}[]) "
        "RETURNS SETOF bigint LANGUAGE plpgsql AS $BODY$ BEGIN "
        "SET LOCAL lock_timeout = '{lock_timeout}s'; "
        "LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE; "
        "NOTIFY {channel}; "
        "RETURN QUERY INSERT INTO {schema}.{table} AS t "
        "(originator_id, originator_version, topic, state) "
        "SELECT originator_id, originator_version, topic, state FROM unnest(events) "
        "RETURNING notification_id; "
        "END; $BODY$").format(
        schema=schema, name=Identifier(name), table=table,
        event=Identifier(recorder.stored_event_type_name),
        lock_timeout=recorder.datastore.lock_timeout, channel=Identifier(recorder.channel_name))
    with recorder.datastore.transaction(commit=True) as curs:
        curs.execute(create)
    return SQL("SELECT * FROM {schema}.{name}(%s)").format(schema=schema, name=Identifier(name))


def insert_postgres_locked(recorder: Any, call: Any, events: Sequence[StoredEvent]
                           ) -> Sequence[int]:
    """PostgreSQL: inserts through the function ``create_locked_insert`` made (its own
    transaction); returns the new notification ids in insert order."""
    rows = [recorder.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic,
                                               e.state) for e in events]
    with recorder.datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(call, (rows,), prepare=True)
        return [next(iter(row.values())) for row in curs.fetchall()]


def insert_sqlite(recorder: Any, curs: Any, events: Sequence[StoredEvent]) -> Sequence[int]:
    """SQLite: inserts with the recorder's statement; returns the new notification ids."""
    return recorder._insert_events(curs, events)


def sqlite_connection(conn: Any) -> Any:
    """SQLite: the ``sqlite3.Connection`` inside the pool's connection, for a lone read that
    skips the library's cursor wrapper (the registration's concluded-matter range read,
    ``id_ranges.py``: every registration passes there)."""
    return conn._sqlite_conn


STATEMENT_CACHE = 128  # sqlite3's own default; the library's ``cached_statements=True`` means 1


class _StatementCachingPool(library_sqlite.SQLiteConnectionPool):
    def _create_connection(self) -> library_sqlite.SQLiteConnection:
        """The library's ``_create_connection`` (autocommit, WAL, its row factory and lock
        timeout) with a statement cache of ``STATEMENT_CACHE``: the library passes ``True``,
        which sqlite3 reads as a cache of one, so every statement after a different one was
        parsed and planned again (docs/performance.md, figure 1)."""
        try:
            conn = sqlite3.connect(
                database=self.db_name, uri=True, check_same_thread=False,
                isolation_level=None, cached_statements=STATEMENT_CACHE,
                timeout=self.lock_timeout or library_sqlite.SQLITE3_DEFAULT_LOCK_TIMEOUT)
        except (sqlite3.Error, TypeError) as error:
            raise InterfaceError(error) from error
        if not self.is_sqlite_memory_mode and not self.is_journal_mode_wal:
            mode = conn.execute("PRAGMA journal_mode;").fetchone()[0]
            if mode.lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL;")
                self.journal_mode_was_changed_to_wal = True
            self.is_journal_mode_wal = True
        conn.row_factory = sqlite3.Row
        return library_sqlite.SQLiteConnection(sqlite_conn=conn, max_age=self.max_age)


def statement_caching_pool(pool: Any) -> Any:
    """SQLite: a pool configured as ``pool`` (the library's, before it has made a connection)
    whose connections keep their prepared statements; closes ``pool``."""
    caching = _StatementCachingPool(
        db_name=pool.db_name, lock_timeout=pool.lock_timeout, pool_size=pool.pool_size,
        max_overflow=pool.max_overflow, pool_timeout=pool.pool_timeout,
        max_age=pool.max_age, pre_ping=pool.pre_ping)
    pool.close()
    return caching
