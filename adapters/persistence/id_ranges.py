"""Reading keyed ranges of aggregate ids from the event table (the concluded-matter index).

A petitioner's ``PetitionerCase`` records share an eight-byte id prefix (domain/
concluded_matters.py), so "all records of this petitioner" is one range on the event table's
primary key (originator_id, originator_version): an index range scan, however large the log.
The library has no such query, so it is written here once per store, on the recorders' own
tables and connections (SQLite stores a UUID as its 32 hex digits, PostgreSQL as ``uuid``,
ordered bytewise; either way the prefix's ids are contiguous). Several ranges are read in one
statement (``BETWEEN … OR BETWEEN …``, each an index range): a batch of registrations asks for
all its petitioners at once. For another recorder (the in-memory one) there is none, and the
application scans the log's index records instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from operator import itemgetter
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

from adapters.persistence import library_internals as internals
from adapters.persistence.event_rows import chunked, from_postgres, from_sqlite

Ranges = Sequence[tuple[UUID, UUID]]
EventsInRanges = Callable[[Ranges], Sequence[StoredEvent]]  # workflows.concluded_matters'


def records_in_range(recorder: ApplicationRecorder) -> EventsInRanges | None:
    """The keyed ranges reader for ``recorder``'s store (None: none for this store)."""
    if isinstance(recorder, SQLiteApplicationRecorder):
        return lambda ranges: chunked(ranges, lambda part: _sqlite(recorder, part))
    if isinstance(recorder, PostgresApplicationRecorder):
        return lambda ranges: chunked(ranges, lambda part: _postgres(recorder, part))
    return None


@lru_cache(maxsize=64)
def _sqlite_statement(table: str, ranges: int) -> str:
    """The statement for ``ranges`` ranges, composed once (sqlite3 reuses its prepared form
    for the same text). No ORDER BY: sorting even no rows costs SQLite a temporary B-tree
    (~12 µs of a registration's CPU right after a commit); the rows come with their rowid
    and are put in the order written here (a registration's read finds a few at most)."""
    between = " OR ".join(["originator_id BETWEEN ? AND ?"] * ranges)
    return (f"SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {table} WHERE {between}")


def _sqlite(recorder: SQLiteApplicationRecorder, ranges: Ranges) -> Sequence[StoredEvent]:
    statement = _sqlite_statement(recorder.events_table_name, len(ranges))
    # One statement, so no BEGIN … ROLLBACK around it: in autocommit mode a lone SELECT
    # reads one consistent snapshot by itself. The pool's connection is taken and given back
    # directly, without the datastore's context manager and cursor wrapper: every
    # registration passes here, and on a petitioner's first case the range is empty.
    pool = recorder.datastore.pool
    conn = pool.get_connection(is_writer=False)  # as ``get_connection(commit=False)`` does
    try:
        rows = internals.sqlite_connection(conn).execute(
            statement, [bound.hex for pair in ranges for bound in pair]).fetchall()
    finally:
        pool.put_connection(conn)
    if not rows:
        return []
    rows.sort(key=itemgetter(0))  # in the order written (rowid is the notification id)
    return from_sqlite(recorder, rows)


@lru_cache(maxsize=64)
def _postgres_statement(schema: str, table: str, ranges: int) -> str:
    """The statement for ``ranges`` ranges, composed once (a registration reads two: its
    petitioner's records and the former index), so psycopg also prepares it after a few."""
    between = SQL(" OR ").join([SQL("originator_id BETWEEN %s AND %s")] * ranges)
    return SQL(
        "SELECT originator_id, originator_version, topic, state FROM {schema}.{table} "
        "WHERE {between} ORDER BY notification_id"
    ).format(schema=Identifier(schema), table=Identifier(table), between=between).as_string()


def _postgres(recorder: PostgresApplicationRecorder, ranges: Ranges) -> Sequence[StoredEvent]:
    statement = _postgres_statement(recorder.datastore.schema, recorder.events_table_name,
                                    len(ranges))
    with recorder.datastore.get_connection() as conn, conn.cursor() as cursor:
        cursor.execute(statement, [bound for pair in ranges for bound in pair])
        return from_postgres(cursor.fetchall())
