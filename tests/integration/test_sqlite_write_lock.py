"""A view's write batch on SQLite waits for another writer instead of failing.

The datastore is the store's own (``adapters/persistence/sqlite.py``), as the projection runner
injects it into every view.

A deferred transaction that has read and then writes after another connection committed gets
"database is locked" at once, whatever the busy timeout; the CI run that failed on this was
the Kafka relay creating its view while the projection threads wrote theirs.
"""

from __future__ import annotations

import sqlite3
import threading

from adapters.persistence.sqlite import SQLiteDatastore
from adapters.persistence.sqlite_transaction import immediate_transaction
from adapters.persistence.views import backend_class
from projections.case_view import CaseView
from projections.view import SQLITE

SQLiteCaseView = backend_class(CaseView, SQLITE)


def _hold_write_lock(path: str, locked: threading.Event, seconds: float) -> None:
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO view_versions (name, version) VALUES ('other', 1)")
    locked.set()
    threading.Event().wait(seconds)
    other.execute("COMMIT")
    other.close()


def test_a_batch_that_reads_then_writes_waits_for_a_concurrent_writer(tmp_path):
    path = str(tmp_path / "views.db")
    view = SQLiteCaseView(SQLiteDatastore(path, lock_timeout=10))
    view.create_table()
    locked = threading.Event()
    writer = threading.Thread(target=_hold_write_lock, args=(path, locked, 0.3))
    writer.start()
    locked.wait(5)
    with view.batch() as c:
        view.execute(c, "SELECT COUNT(*) AS n FROM view_versions")
        before = dict(c.fetchone())["n"]
        view.execute(c, "INSERT INTO view_versions (name, version) VALUES ('mine', 1)")
    writer.join()
    names = {r["name"] for r in view.query("SELECT name FROM view_versions")}
    assert {"case_view", "other", "mine"} <= names
    assert before == 2  # our read began after the other writer committed: it saw its row


def test_a_rolled_back_batch_leaves_nothing(tmp_path):
    datastore = SQLiteDatastore(str(tmp_path / "views.db"))
    view = SQLiteCaseView(datastore)
    view.create_table()
    try:
        with immediate_transaction(datastore) as c:
            c.execute("INSERT INTO view_versions (name, version) VALUES ('doomed', 1)")
            raise RuntimeError("refused")
    except RuntimeError:
        pass
    assert view.query("SELECT name FROM view_versions WHERE name = 'doomed'") == []
