"""Group commit: concurrent saves coalesced into one transaction, each keeping its own outcome.

The library serialises writers with a table lock per save (PostgreSQL) or one writer at a
time (SQLite), so N threads saving N commands pay N transactions one after another. Here the
event store's recorder is replaced, on the write path only, by a ``GroupCommitRecorder``
(``adapters/wiring.py`` hands ``PetitionApplication`` this wrapper when ``Settings`` say so):

* the first thread to arrive with a save becomes the *leader*; threads arriving while it
  writes queue up behind it (optionally it waits ``window`` seconds for more to join);
* the leader drops each save whose first new version of an aggregate is not above an earlier
  save's of the same batch, and writes the rest in one transaction that takes the recorder's
  table lock (notification ids in insert order, which is commit order), inserts one row per
  event and notifies the channel, as the recorder does;
* each waiter gets back its own notification ids, or its own ``IntegrityError`` — which
  ``PetitionApplication._store`` turns into ``ConcurrentModification`` as for a plain save.

On PostgreSQL the batch is **one statement** (a function in the events' schema, see
``library_internals.create_locked_insert``): the table lock is held only while the server
inserts and commits, not across the round trips of several statements, each of which waited
for the client's interpreter lock while the other threads of its process ran (measured in
docs/performance.md, figure 2). Another writer's versions are checked by the table's unique
constraint. On SQLite the batch's transaction holds the write lock from its start, so the
leader reads the current versions in it first and refuses stale saves one by one.

A refused save appends nothing and fails no other save. If the batch's insert fails on a
constraint (on PostgreSQL: another writer got to an aggregate first; on SQLite: another
process wrote between the check and the insert), every save of the batch is retried on its
own with the plain recorder, so only the conflicting one fails. Saves with tracking positions
(process recorders) bypass the group.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, IntegrityError, StoredEvent

from adapters.persistence import library_internals as internals
from adapters.persistence.sqlite_transaction import immediate_transaction


class _Pending:
    def __init__(self, events: list[StoredEvent]):
        self.events = events
        self.done = False
        self.ids: Sequence[int] | None = None
        self.error: BaseException | None = None

    def finish(self, ids: Sequence[int] | None = None, error: BaseException | None = None) -> None:
        self.ids, self.error, self.done = ids, error, True

    def outcome(self) -> Sequence[int] | None:
        if self.error is not None:
            raise self.error
        return self.ids


def _key(originator_id: UUID | str) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else str(originator_id)


class GroupCommitRecorder:
    """The application recorder, except that ``insert_events`` joins a group commit."""

    def __init__(self, recorder: ApplicationRecorder, *, window: float = 0.0,
                 max_batch: int = 512):
        self.recorder, self.window, self.max_batch = recorder, window, max_batch
        self._backend = _backend_for(recorder)
        self._cond = threading.Condition()
        self._queue: list[_Pending] = []
        self._leading = False
        self.batches = 0  # statistics, for the benchmark
        self.saves = 0

    def __getattr__(self, name: str) -> Any:  # reads and everything else: the recorder's
        return getattr(self.recorder, name)

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any
                      ) -> Sequence[int] | None:
        if any(v is not None for v in kwargs.values()) or not stored_events:
            return self.recorder.insert_events(stored_events, **kwargs)  # e.g. tracking
        pending = _Pending(list(stored_events))
        with self._cond:
            self._queue.append(pending)
            while self._leading and not pending.done:
                self._cond.wait()
            lead = not pending.done
            self._leading = self._leading or lead
        if lead:
            try:
                self._lead(pending)
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()
        return pending.outcome()

    def _lead(self, own: _Pending) -> None:
        if self.window:
            time.sleep(self.window)  # lets the other clients' saves join this transaction
        while not own.done:
            with self._cond:
                batch = self._queue[:self.max_batch]
                del self._queue[:self.max_batch]
            self._commit(batch)
            with self._cond:
                self._cond.notify_all()  # the finished ones leave while the next batch runs

    def _commit(self, batch: list[_Pending]) -> None:
        try:
            outcomes = self._write(batch)
        except IntegrityError:
            for pending in batch:  # one by one: only the conflicting save fails
                try:
                    pending.finish(ids=self.recorder.insert_events(pending.events))
                except Exception as error:  # noqa: BLE001 - handed to its own caller
                    pending.finish(error=error)
            return
        except BaseException as error:
            for pending in batch:
                pending.finish(error=error)
            raise
        self.batches, self.saves = self.batches + 1, self.saves + len(batch)
        for pending, (ids, error) in zip(batch, outcomes, strict=True):
            pending.finish(ids=ids, error=error)

    def _write(self, batch: list[_Pending]) -> list[tuple[Sequence[int] | None, Exception | None]]:
        return self._backend.write(batch)  # type: ignore[no-any-return]


Outcome = tuple[Sequence[int] | None, Exception | None]


def _refused(batch: list[_Pending], current: dict[str, int]) -> set[int]:
    """The saves of ``batch`` (by index) whose first new version of an aggregate is not above
    ``current`` (the store's versions, as far as known) or an earlier save of the batch."""
    refused = set()
    for index, pending in enumerate(batch):
        firsts: dict[str, int] = {}
        for e in pending.events:
            k = _key(e.originator_id)
            firsts[k] = min(firsts.get(k, e.originator_version), e.originator_version)
        if any(v <= current.get(k, 0) for k, v in firsts.items()):
            refused.add(index)
            continue
        for e in pending.events:
            k = _key(e.originator_id)
            current[k] = max(current.get(k, 0), e.originator_version)
    return refused


def _outcomes(batch: list[_Pending], refused: set[int], ids: Sequence[int]) -> list[Outcome]:
    outcomes: list[Outcome] = []
    start = 0
    for index, pending in enumerate(batch):
        if index in refused:
            outcomes.append((None, IntegrityError(
                "an aggregate of this save was changed by another writer first")))
        else:
            outcomes.append((ids[start:start + len(pending.events)], None))
            start += len(pending.events)
    return outcomes


def _survivors(batch: list[_Pending], refused: set[int]) -> list[StoredEvent]:
    return [e for i, p in enumerate(batch) if i not in refused for e in p.events]


class _Postgres:
    """One statement per batch (see ``library_internals.create_locked_insert``): the table
    lock is held only while the server inserts and commits."""

    def __init__(self, recorder: Any):
        self.recorder = recorder
        self.call = internals.create_locked_insert(recorder)

    def write(self, batch: list[_Pending]) -> list[Outcome]:
        refused = _refused(batch, {})  # the store's versions: its unique constraint
        events = _survivors(batch, refused)
        ids = internals.insert_postgres_locked(self.recorder, self.call, events) if events else []
        return _outcomes(batch, refused, ids)


class _SQLite:
    def __init__(self, recorder: Any):
        self.recorder = recorder

    def write(self, batch: list[_Pending]) -> list[Outcome]:
        """Reads versions, then inserts, under the write lock taken first (see the helper)."""
        with immediate_transaction(self.recorder.datastore) as curs:
            refused = _refused(batch, self._versions(curs, {
                _key(e.originator_id): e.originator_id for p in batch for e in p.events}))
            events = _survivors(batch, refused)
            ids = list(internals.insert_sqlite(self.recorder, curs, events)) if events else []
        return _outcomes(batch, refused, ids)

    def _versions(self, curs: Any, ids: dict[str, Any]) -> dict[str, int]:
        keys = list(ids)
        out: dict[str, int] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            curs.execute(
                f"SELECT originator_id, MAX(originator_version) FROM "
                f"{self.recorder.events_table_name} WHERE originator_id IN "
                f"({', '.join('?' for _ in chunk)}) GROUP BY originator_id", chunk)
            out.update({row[0]: row[1] for row in curs.fetchall()})
        return out


def _backend_for(recorder: ApplicationRecorder) -> Any:
    from eventsourcing.postgres import PostgresApplicationRecorder
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    if isinstance(recorder, PostgresApplicationRecorder):
        return _Postgres(recorder)
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _SQLite(recorder)
    raise TypeError(f"group commit does not support {type(recorder).__name__}")
