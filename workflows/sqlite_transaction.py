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

from eventsourcing.persistence import OperationalError
from eventsourcing.sqlite import SQLiteDatastore


@contextmanager
def immediate_transaction(datastore: SQLiteDatastore) -> Iterator[Any]:
    """Commits the block's writes, rolls back on error; lock failures become the library's
    ``OperationalError`` so callers that retry on it (the projection runner) keep working."""
    with datastore.get_connection(commit=True) as conn:
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
        except sqlite3.OperationalError as error:
            raise OperationalError(error) from error
