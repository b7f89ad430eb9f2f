"""The store's SQLite connections keep their prepared statements (adapters/persistence/sqlite.py).

The library opens them with ``cached_statements=True``, a cache of one statement, so a read
between two inserts (a registration's concluded-matter read) was compiled again every time.
SQLite calls the authorizer when it compiles a statement, not when it runs one, so counting
its calls counts compilations.
"""

from __future__ import annotations

import sqlite3
import uuid

import pytest

from adapters.persistence import library_internals as internals
from adapters.persistence.library_internals import STATEMENT_CACHE
from adapters.persistence.sqlite import SQLiteDatastore
from tests.integration.helpers import register_sample


def _compilations(conn: sqlite3.Connection, statements: list[tuple[str, list[object]]]
                  ) -> list[int]:
    """How many table reads or inserts each statement's run made SQLite authorize."""
    counts = [0]

    def authorizer(action: int, *_: object) -> int:
        if action in (sqlite3.SQLITE_READ, sqlite3.SQLITE_INSERT):
            counts[0] += 1
        return sqlite3.SQLITE_OK

    conn.set_authorizer(authorizer)  # expires the prepared statements: each compiles first
    out = []
    try:
        for statement, args in statements:
            counts[0] = 0
            conn.execute(statement, args).fetchall()
            out.append(counts[0])
    finally:
        conn.set_authorizer(None)
    return out


def test_a_read_between_two_inserts_is_compiled_once(tmp_path):
    datastore = SQLiteDatastore(str(tmp_path / "store.db"))
    conn = datastore.pool.get_connection(is_writer=True)
    try:
        raw = internals.sqlite_connection(conn)
        raw.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)")
        read = ("SELECT k, v FROM t WHERE k BETWEEN ? AND ?", ["a", "b"])
        def insert() -> tuple[str, list[object]]:
            return "INSERT INTO t VALUES (?, ?)", [uuid.uuid4().hex, 1]

        first, _, again, _, third = _compilations(raw, [read, insert(), read, insert(), read])
        assert first > 0
        assert again == third == 0  # not compiled again after the insert
    finally:
        datastore.pool.put_connection(conn)
        datastore.close()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_applications_connections_keep_their_statements(app, monkeypatch):
    made: list[object] = []
    connect = sqlite3.connect

    def spy(*args, **kwargs):
        made.append(kwargs.get("cached_statements"))
        return connect(*args, **kwargs)

    monkeypatch.setattr(sqlite3, "connect", spy)
    pool = app.recorder.datastore.pool
    held = [pool.get_connection(is_writer=False) for _ in range(len(pool._pool) + 1)]
    for conn in held:
        pool.put_connection(conn)
    assert made == [STATEMENT_CACHE]  # the one new connection the pool had to make
    register_sample(app)  # the store works through them as before
