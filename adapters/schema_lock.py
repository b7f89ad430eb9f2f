"""One creator at a time for a PostgreSQL schema's tables, types and functions.

The library creates its tables with ``CREATE TYPE``/``CREATE TABLE IF NOT EXISTS`` and
``CREATE OR REPLACE FUNCTION``; processes starting together on a fresh schema race on the
catalogue ("tuple concurrently updated", duplicate type names). A session-level advisory lock
held around the whole creation lets them in one after the other, as the views already do.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager

LOCK_WAIT_SECONDS = 60  # then LockNotAvailable: a retryable failure (CLI exit code 6)


def lock_key(schema: str | None) -> int:
    """The advisory lock's key: one per schema, distinct from the views' lock."""
    return zlib.crc32(f"petition schema creation {schema or 'public'}".encode())


@contextmanager
def schema_creation_lock(url: str, schema: str | None,
                         wait_seconds: float | None = None) -> Iterator[None]:
    import psycopg

    wait_seconds = LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
        conn.execute(f"SET lock_timeout = '{int(wait_seconds * 1000)}ms'")
        conn.execute("SELECT pg_advisory_lock(%s)", (lock_key(schema),))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (lock_key(schema),))
