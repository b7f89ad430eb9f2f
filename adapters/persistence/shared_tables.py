"""Creating the small tables every process on a store shares (the throttle's counters, the
citizen pages' sessions and tokens, the online filing's drafts).

Whichever process starts first creates them, with ``IF NOT EXISTS``; on PostgreSQL processes
starting together would still race on the catalogue (a unique violation in ``pg_type``), so
the creation holds a transaction-scoped advisory lock keyed by the table's name.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def creating(datastore: Any, table: str, *, postgres: bool) -> Iterator[Any]:
    """A committing transaction's cursor, holding the table's creation lock on PostgreSQL."""
    with datastore.transaction(commit=True) as c:
        if postgres:
            c.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (f"petition {table}",))
        yield c


def trim(c: Any, table: str, order: str, capacity: int, *, postgres: bool) -> None:
    """Keeps the ``capacity`` rows of ``table`` latest by ``order`` and deletes the rest, so a
    shared table stays bounded however many keys are tried."""
    every = "" if postgres else "LIMIT -1 "  # SQLite takes OFFSET only after a LIMIT
    p = "%s" if postgres else "?"
    c.execute(f"DELETE FROM {table} WHERE key IN (SELECT key FROM {table} "
              f"ORDER BY {order} DESC {every}OFFSET {p})", (capacity,))
