"""Rows of the library's event tables read by our own statements (the concluded-matter index's
id ranges, a page of cases' histories), made into the library's ``StoredEvent``s, and long
lists of keys read in chunks that stay below SQLite's parameter limit."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder

CHUNK = 200  # keys per statement (two parameters each: far below SQLite's limit)
K = TypeVar("K")


def chunked(keys: Sequence[K], read: Callable[[Sequence[K]], Sequence[StoredEvent]]
            ) -> list[StoredEvent]:
    """``read`` of every ``CHUNK`` keys in turn, in the order each chunk gives: a key's events
    are all in its own chunk."""
    return [event for start in range(0, len(keys), CHUNK)
            for event in read(keys[start:start + CHUNK])]


def from_sqlite(recorder: SQLiteApplicationRecorder, rows: Iterable[Any]) -> list[StoredEvent]:
    """SQLite stores an id as its 32 hex digits: the recorder converts it back."""
    return [StoredEvent(originator_id=recorder.convert_originator_id(row["originator_id"]),
                        originator_version=row["originator_version"], topic=row["topic"],
                        state=row["state"]) for row in rows]


def from_postgres(rows: Iterable[Any]) -> list[StoredEvent]:
    """psycopg gives ``uuid`` ids as UUIDs and ``bytea`` as memoryviews (copied to bytes)."""
    return [StoredEvent(originator_id=row["originator_id"],
                        originator_version=row["originator_version"], topic=row["topic"],
                        state=bytes(row["state"])) for row in rows]
