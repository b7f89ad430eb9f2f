"""The library's SQLite persistence, except that write transactions take the lock up front and
each connection keeps its prepared statements.

Named by ``PERSISTENCE_MODULE`` (``adapters/store.py``), so the application's recorders and
every view opened on the same factory's datastore (``projections/runner.py``) write through
``immediate_transaction``: a view's batch that reads and then writes waits for a concurrent
writer instead of failing with "database is locked". Views get this by injection; they never
import it.

The library opens its connections with ``cached_statements=True``, which sqlite3 reads as a
statement cache of **one**: every statement that follows a different one is parsed and planned
again (a registration's concluded-matter read after the previous command's insert: ~80 µs
instead of ~4, docs/performance.md, figure 1). Here each connection keeps sqlite3's default of
128 prepared statements; the statements and their results are the same.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from eventsourcing import sqlite as library

from adapters.persistence.library_internals import statement_caching_pool
from adapters.persistence.sqlite_transaction import immediate_transaction


class SQLiteDatastore(library.SQLiteDatastore):
    def __init__(self, db_name: str, *, lock_timeout: int | None = None, **kwargs: Any):
        super().__init__(db_name, lock_timeout=lock_timeout, **kwargs)
        pool = self.pool  # the library's, still without a connection: replaced by ours
        self.pool = statement_caching_pool(pool)

    def transaction(self, *, commit: bool) -> AbstractContextManager[Any]:  # type: ignore[override]
        """The library's for reads; ``immediate_transaction`` itself for writes (no context
        manager around it: every save enters this one)."""
        if not commit:
            return super().transaction(commit=False)
        return immediate_transaction(self)


class SQLiteFactory(library.SQLiteFactory):
    def __init__(self, env: Any):
        super().__init__(env)
        plain, pool = self.datastore, self.datastore.pool
        self.datastore = SQLiteDatastore(
            pool.db_name, lock_timeout=pool.lock_timeout,
            single_row_tracking=plain.single_row_tracking,
            originator_id_type=plain.originator_id_type)
        plain.close()
