"""Pins what the library's private recorder methods do in the pinned version (9.5.6).

Group commit and the views' tracking write through them
(``adapters/persistence/library_internals.py``, the only module that calls them): an upgrade
that renames or changes them fails here, by name.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from importlib.metadata import version
from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent

from adapters.persistence import library_internals as internals
from adapters.persistence.sqlite_transaction import immediate_transaction
from adapters.wiring import build_application


def test_the_installed_library_is_the_pinned_one():
    assert version("eventsourcing") == internals.PINNED_VERSION


def _events(n: int) -> list[StoredEvent]:
    return [StoredEvent(originator_id=uuid4(), originator_version=1, topic="test:Event",
                        state=b"{}") for _ in range(n)]


def test_the_private_inserts_append_and_number_events_in_order(settings, clock):
    app = build_application(settings, clock=clock)
    try:
        recorder, events = app.recorder, _events(3)
        if settings.is_postgres:
            ids = internals.insert_postgres_locked(
                recorder, internals.create_locked_insert(recorder), events)
        else:
            with immediate_transaction(recorder.datastore) as curs:
                ids = internals.insert_sqlite(recorder, curs, events)
        logged = recorder.select_notifications(start=None, limit=100)
        assert [n.id for n in logged] == list(ids) == sorted(ids)
        assert [n.originator_id for n in logged] == [e.originator_id for e in events]
    finally:
        app.close()


def _postgres_app(settings, clock):
    if not settings.is_postgres:
        pytest.skip("the locked insert is PostgreSQL's")
    return build_application(settings, clock=clock)


def test_the_locked_insert_repeats_the_recorders_own_statements(settings, clock):
    """The function's lock, NOTIFY and insert are the recorder's, as this version writes them."""
    app = _postgres_app(settings, clock)
    try:
        recorder = app.recorder
        internals.create_locked_insert(recorder)
        with recorder.datastore.transaction(commit=False) as curs:
            body = curs.execute(
                "SELECT prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = %s AND p.proname = %s",
                (recorder.datastore.schema, f"{recorder.events_table_name}_locked_insert"),
            ).fetchone()["prosrc"]
            library = [s.as_string(curs) for s in recorder.lock_table_statements]
            library.append(f'NOTIFY "{recorder.channel_name}"')
            insert = recorder.insert_events_statement.as_string(curs)
        for statement in library:
            assert statement in body
        assert body.index(library[1]) < body.index(library[2]) < body.index("INSERT INTO")
        columns = "originator_id, originator_version, topic, state"
        assert columns in " ".join(insert.split()) and columns in body
        assert insert.rstrip().endswith("RETURNING notification_id") and "RETURNING notification_id" in body
    finally:
        app.close()


def test_the_locked_insert_takes_the_table_lock_before_its_ids(settings, clock):
    """The batch's statement asks for the table's EXCLUSIVE lock (not only the insert's ROW
    EXCLUSIVE one) and waits for a writer holding it, then numbers its events after that
    writer's: insert order is commit order."""
    app = _postgres_app(settings, clock)
    try:
        recorder = app.recorder
        call = internals.create_locked_insert(recorder)
        table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
        first, second = _events(1), _events(2)
        done: list[list[int]] = []
        with recorder.datastore.transaction(commit=True) as curs:
            recorder._lock_table(curs)  # another writer, mid-transaction
            waiter = threading.Thread(target=lambda: done.append(
                list(internals.insert_postgres_locked(recorder, call, second))))
            waiter.start()
            asked: list[str] = []
            for _ in range(100):
                with recorder.datastore.get_connection() as conn:
                    asked = [r["mode"] for r in conn.execute(
                        "SELECT mode FROM pg_locks WHERE relation = %s::regclass "
                        "AND NOT granted", (table,)).fetchall()]
                if asked:
                    break
                time.sleep(0.05)
            assert asked == ["ExclusiveLock"] and not done
            recorder._insert_stored_events(curs, first)
            held = recorder._fetch_ids_after_insert_events(curs, first)
        waiter.join(timeout=10)
        assert done and min(done[0]) > max(held)
    finally:
        app.close()


def test_a_sqlite_pool_connection_holds_its_sqlite3_connection(settings, clock):
    """The concluded-matter range read (``id_ranges.py``) runs its lone SELECT on it."""
    if settings.is_postgres:
        pytest.skip("a SQLite pool's connection")
    app = build_application(settings, clock=clock)
    try:
        pool = app.recorder.datastore.pool
        conn = pool.get_connection(is_writer=False)
        try:
            raw = internals.sqlite_connection(conn)
            assert isinstance(raw, sqlite3.Connection)
            table = app.recorder.events_table_name
            assert tuple(raw.execute(f"SELECT COUNT(*) FROM {table}").fetchone()) == (0,)
        finally:
            pool.put_connection(conn)
    finally:
        app.close()


def test_the_statement_caching_pool_repeats_the_librarys_connection_but_its_cache():
    """``statement_caching_pool`` copies the library's ``_create_connection``; if an upgrade
    changes how the library makes a connection, this fails by name instead of the copy
    silently diverging."""
    import inspect

    from eventsourcing import sqlite as library_sqlite

    source = inspect.getsource(library_sqlite.SQLiteConnectionPool._create_connection)
    for made_so in ("uri=True", "check_same_thread=False", "isolation_level=None",
                    "cached_statements=True",
                    "timeout=self.lock_timeout or SQLITE3_DEFAULT_LOCK_TIMEOUT",
                    'PRAGMA journal_mode=WAL;', "c.row_factory = sqlite3.Row",
                    "SQLiteConnection(sqlite_conn=c, max_age=self.max_age)"):
        assert made_so in source, made_so
    assert source.count("sqlite3.connect(") == 1
