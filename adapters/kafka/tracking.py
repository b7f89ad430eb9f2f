"""The relay's position in the event log, kept in the events' own database.

A follower like the read models, with the same per-follower tracking table
(``kafka_relay_tracking``, in the SQLite file or the PostgreSQL schema) and no rows of its own:
it cannot overwrite, or be overwritten by, a projection's position.
"""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import TrackingRecorder
from eventsourcing.postgres import PostgresDatastore

from projections.view import PostgresView, SQLiteView


class SQLiteRelayTracking(SQLiteView):
    name = "kafka_relay"


class PostgresRelayTracking(PostgresView):
    name = "kafka_relay"


def relay_tracking(datastore: Any) -> TrackingRecorder:
    """The relay's tracking recorder on the given datastore (table created)."""
    recorder: TrackingRecorder
    if isinstance(datastore, PostgresDatastore):
        recorder = PostgresRelayTracking(datastore)
    else:
        recorder = SQLiteRelayTracking(datastore)
    recorder.create_table()
    return recorder
