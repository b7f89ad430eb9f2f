"""A SQLite write transaction that takes the write lock before its first statement.

The library begins transactions with a plain (deferred) ``BEGIN``. A deferred transaction that
reads and then writes fails at once with "database is locked" when another connection has
committed since its read began (SQLite cannot wait without risking a deadlock). ``BEGIN
IMMEDIATE`` takes the lock up front, so a busy database is waited out for the lock timeout.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing import persistence as p
from eventsourcing.sqlite import SQLiteDatastore

# sqlite3's errors as the library's own, most specific first (as its transactions map them),
# so callers catch the same classes whichever kind of transaction raised them.
_LIBRARY_ERRORS: tuple[tuple[type[sqlite3.Error], type[Exception]], ...] = (
    (sqlite3.InterfaceError, p.InterfaceError),
    (sqlite3.DataError, p.DataError),
    (sqlite3.OperationalError, p.OperationalError),
    (sqlite3.IntegrityError, p.IntegrityError),
    (sqlite3.InternalError, p.InternalError),
    (sqlite3.ProgrammingError, p.ProgrammingError),
    (sqlite3.NotSupportedError, p.NotSupportedError),
    (sqlite3.DatabaseError, p.DatabaseError),
    (sqlite3.Error, p.PersistenceError),
)


@contextmanager
def immediate_transaction(datastore: SQLiteDatastore) -> Iterator[Any]:
    """Commits the block's writes, rolls back on error; sqlite3's errors are raised as the
    library's (a lock timeout as ``OperationalError``, which the projection runner retries;
    a broken constraint as ``IntegrityError``, which a catch-up treats as a lost race)."""
    # The pool's writer connection as ``datastore.get_connection(commit=True)`` hands it out,
    # without that context manager's layer: every save passes here (figure 1).
    pool = datastore.pool
    conn = pool.get_connection(is_writer=True)
    try:
        cursor = conn.cursor()
        try:
            with cursor:
                cursor.execute("BEGIN IMMEDIATE")
                try:
                    yield cursor
                except BaseException:
                    conn.rollback()
                    raise
                conn.commit()
        except sqlite3.Error as error:
            raise _as_library_error(error) from error
    finally:
        pool.put_connection(conn)


def _as_library_error(error: sqlite3.Error) -> Exception:
    for sqlite_class, library_class in _LIBRARY_ERRORS:
        if isinstance(error, sqlite_class):
            return library_class(error)
    return p.PersistenceError(error)
