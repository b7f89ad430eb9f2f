"""The only module that calls the eventsourcing library's private recorder methods.

Group commit writes many saves in one transaction with the recorders' own statements (so the
rows, notification ids and PostgreSQL's NOTIFY are exactly the library's); no public method
takes a caller's cursor. The library is pinned exactly (pyproject.toml) and
``tests/integration/test_library_internals.py`` pins what these calls do in that version, so an
upgrade that moves them fails there, by name, instead of inside a save.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import StoredEvent

PINNED_VERSION = "9.5.6"


def lock_events_table(recorder: Any, curs: Any) -> None:
    """PostgreSQL: the recorder's ``LOCK TABLE … IN EXCLUSIVE MODE`` (serialises writers)."""
    recorder._lock_table(curs)


def insert_postgres(recorder: Any, curs: Any, events: Sequence[StoredEvent]) -> Sequence[int]:
    """PostgreSQL: inserts with the recorder's statement (locks again, notifies), then returns
    the new notification ids in insert order."""
    recorder._insert_stored_events(curs, events)
    return recorder._fetch_ids_after_insert_events(curs, events)


def insert_sqlite(recorder: Any, curs: Any, events: Sequence[StoredEvent]) -> Sequence[int]:
    """SQLite: inserts with the recorder's statement; returns the new notification ids."""
    return recorder._insert_events(curs, events)
