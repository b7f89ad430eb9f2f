"""On PostgreSQL, every save is one statement: the recorder's lock, NOTIFY and insert in a
function (``library_internals.create_locked_insert``, the one group commit uses).

The library's own insert is a pipeline of four statements in a transaction (lock timeout,
``LOCK TABLE … IN EXCLUSIVE MODE``, NOTIFY, INSERT … RETURNING) plus its commit; the function
runs the same statements, in the same order, on the same table, type and channel, as one
prepared call: the same rows, notification ids in commit order and notifications, for a
fraction of the client's and the server's CPU per save (docs/performance.md, figure 1). A
taken version fails as before (the unique constraint: ``IntegrityError``), and failures to
reach the store are retried as the library retries its insert. Saves with tracking
positions (process recorders) keep the library's path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    OperationalError,
    StoredEvent,
)
from eventsourcing.utils import retry

from adapters.persistence import library_internals as internals


class LockedInsertRecorder:
    """The PostgreSQL application recorder, except that ``insert_events`` is one statement."""

    def __init__(self, recorder: ApplicationRecorder):
        self.recorder = recorder
        self.call = internals.create_locked_insert(recorder)

    def __getattr__(self, name: str) -> Any:  # reads and everything else: the recorder's
        return getattr(self.recorder, name)

    @retry((InterfaceError, OperationalError), max_attempts=10, wait=0.2)
    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any
                      ) -> Sequence[int] | None:
        if any(v is not None for v in kwargs.values()) or not stored_events:
            return self.recorder.insert_events(stored_events, **kwargs)  # e.g. tracking
        return internals.insert_postgres_locked(self.recorder, self.call, stored_events)
