"""The relay's position in the event log, kept in the events' own database.

A follower like the read models, with the same per-follower tracking table
(``kafka_relay_tracking``, in the SQLite file or the PostgreSQL schema) and no rows of its own:
it cannot overwrite, or be overwritten by, a projection's position.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import TrackingRecorder
from eventsourcing.postgres import PostgresDatastore

from adapters.persistence.views import PostgresView, SQLiteView


class SQLiteRelayTracking(SQLiteView):
    name = "kafka_relay"


class PostgresRelayTracking(PostgresView):
    name = "kafka_relay"


class SQLiteReplyTracking(SQLiteView):
    name = "inbound_replies"


class PostgresReplyTracking(PostgresView):
    name = "inbound_replies"


def relay_tracking(datastore: Any, *, replies: bool = False) -> TrackingRecorder:
    """The relay's tracking recorder on the given datastore (table created); ``replies``: the
    inbound reply relay's, a table of its own (``inbound_replies_tracking``)."""
    recorder: TrackingRecorder
    if isinstance(datastore, PostgresDatastore):
        recorder = (PostgresReplyTracking if replies else PostgresRelayTracking)(datastore)
    else:
        recorder = (SQLiteReplyTracking if replies else SQLiteRelayTracking)(datastore)
    recorder.create_table()
    return recorder
