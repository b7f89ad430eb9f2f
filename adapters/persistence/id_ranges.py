"""Reading a keyed range of aggregate ids from the event table (the concluded-matter index).

A petitioner's ``PetitionerCase`` records share an eight-byte id prefix (domain/
concluded_matters.py), so "all records of this petitioner" is one range on the event table's
primary key (originator_id, originator_version): an index range scan, however large the log.
The library has no such query, so it is written here once per store, on the recorders' own
tables and connections (SQLite stores a UUID as its 32 hex digits, PostgreSQL as ``uuid``,
ordered bytewise; either way the prefix's ids are contiguous). For another recorder (the
in-memory one) there is none, and the application scans the log's index records instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

EventsInRange = Callable[[UUID, UUID], Sequence[StoredEvent]]  # workflows.concluded_matters'


def records_in_range(recorder: ApplicationRecorder) -> EventsInRange | None:
    """The keyed range reader for ``recorder``'s store (None: none for this store)."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        return lambda low, high: _sqlite(recorder, low, high)
    if isinstance(recorder, PostgresApplicationRecorder):
        return lambda low, high: _postgres(recorder, low, high)
    return None


def _sqlite(recorder: SQLiteApplicationRecorder, low: UUID, high: UUID) -> Sequence[StoredEvent]:
    statement = (f"SELECT originator_id, originator_version, topic, state "
                 f"FROM {recorder.events_table_name} WHERE originator_id BETWEEN ? AND ? "
                 "ORDER BY rowid")
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(statement, (low.hex, high.hex))
        return [StoredEvent(originator_id=recorder.convert_originator_id(row["originator_id"]),
                            originator_version=row["originator_version"], topic=row["topic"],
                            state=row["state"]) for row in cursor.fetchall()]


def _postgres(recorder: PostgresApplicationRecorder, low: UUID, high: UUID
              ) -> Sequence[StoredEvent]:
    statement = SQL(
        "SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
        "WHERE originator_id BETWEEN %s AND %s ORDER BY notification_id"
    ).format(schema=Identifier(recorder.datastore.schema),
             table=Identifier(recorder.events_table_name))
    with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
        cursor.execute(statement, (low, high))
        return [StoredEvent(originator_id=row["originator_id"],
                            originator_version=row["originator_version"], topic=row["topic"],
                            state=bytes(row["state"])) for row in cursor.fetchall()]
