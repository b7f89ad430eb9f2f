"""Reading the events of many aggregates, each after a known version, in one statement.

A page of the supervision queue names up to a page of cases, and the ladder of each needs the
case itself. Read one by one through the library's repository that was a statement per case
(a fast-forward of the cached case, or a snapshot and an event read when not cached): most of
what an overdue page cost PostgreSQL. Here the page's cases are one statement on the event
table's primary key (originator_id, originator_version): for each id only the events after the
version the caller already holds (0: all of them), in version order per id. The application
decodes them with its own mapper (workflows/case_batch.py). For another recorder (the
in-memory one) there is none, and the application reads case by case.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

from adapters.persistence.event_rows import chunked, from_postgres, from_sqlite

After = Sequence[tuple[UUID, int]]
EventsAfter = Callable[[After], Sequence[StoredEvent]]  # workflows.case_batch's


def events_after(recorder: ApplicationRecorder) -> EventsAfter | None:
    """The batch reader for ``recorder``'s store (None: none for this store)."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        return lambda after: chunked(after, lambda part: _sqlite(recorder, part))
    if isinstance(recorder, PostgresApplicationRecorder):
        return lambda after: _postgres(recorder, after) if after else []
    return None


def _sqlite(recorder: SQLiteApplicationRecorder, after: After) -> Sequence[StoredEvent]:
    terms = " OR ".join(["(originator_id = ? AND originator_version > ?)"] * len(after))
    statement = (f"SELECT originator_id, originator_version, topic, state "
                 f"FROM {recorder.events_table_name} WHERE {terms} "
                 f"ORDER BY originator_id, originator_version")
    with recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(statement, [value for aggregate_id, version in after
                                   for value in (aggregate_id.hex, version)])
        return from_sqlite(recorder, cursor.fetchall())


def _postgres(recorder: PostgresApplicationRecorder, after: After) -> Sequence[StoredEvent]:
    # One index probe per id (a nested loop over the unnested pairs); ids and versions travel
    # as two arrays, so the statement's text does not vary with the page's size.
    statement = SQL(
        "SELECT e.originator_id, e.originator_version, e.topic, e.state "
        "FROM unnest(%s::uuid[], %s::bigint[]) AS k(id, after) "
        "JOIN {schema}.{table} e ON e.originator_id = k.id AND e.originator_version > k.after "
        "ORDER BY e.originator_id, e.originator_version"
    ).format(schema=Identifier(recorder.datastore.schema),
             table=Identifier(recorder.events_table_name))
    with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
        cursor.execute(statement, ([aggregate_id for aggregate_id, _ in after],
                                   [version for _, version in after]))
        return from_postgres(cursor.fetchall())
