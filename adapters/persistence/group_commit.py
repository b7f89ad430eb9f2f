"""Group commit: concurrent saves coalesced into one transaction, each keeping its own outcome.

The library serialises writers with a table lock per save (PostgreSQL) or one writer at a
time (SQLite), so N threads saving N commands pay N transactions one after another. Here the
event store's recorder is replaced, on the write path only, by a ``GroupCommitRecorder``
(``adapters/wiring.py`` hands ``PetitionApplication`` this wrapper when ``Settings`` say so):

* the first thread to arrive with a save becomes the *leader*; threads arriving while it
  writes queue up behind it (optionally it waits ``window`` seconds for more to join);
* the leader opens one transaction, takes the recorder's own table lock, reads the current
  version of every aggregate in the batch, and drops each save whose first new version is
  not above it (another writer, or an earlier save of the same batch, got there first);
* it inserts every surviving event with the recorder's own insert statement (one row per
  event, notification ids in insert order, the channel notified) and commits;
* each waiter gets back its own notification ids, or its own ``IntegrityError`` — which
  ``PetitionApplication._store`` turns into ``ConcurrentModification`` as for a plain save.

A refused save appends nothing and fails no other save. If the batch transaction fails on a
constraint anyway (another process writing SQLite between the check and the insert), every
save of the batch is retried on its own with the plain recorder, so again only the
conflicting one fails. Saves with tracking positions (process recorders) bypass the group.
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
        backend = self._backend
        with backend.transaction() as curs:
            backend.lock(curs)
            current = backend.versions(curs, {_key(e.originator_id): e.originator_id
                                              for p in batch for e in p.events})
            survivors, refused = [], set()
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
                survivors.append(pending)
            events = [e for p in survivors for e in p.events]
            ids = list(backend.insert(curs, events)) if events else []
        outcomes: list[tuple[Sequence[int] | None, Exception | None]] = []
        start = 0
        for index, pending in enumerate(batch):
            if index in refused:
                outcomes.append((None, IntegrityError(
                    "an aggregate of this save was changed by another writer first")))
            else:
                outcomes.append((ids[start:start + len(pending.events)], None))
                start += len(pending.events)
        return outcomes


class _Postgres:
    def __init__(self, recorder: Any):
        from psycopg.sql import SQL, Identifier

        self.recorder = recorder
        self.select_versions = SQL(
            "SELECT originator_id, MAX(originator_version) AS v FROM {}.{} "
            "WHERE originator_id = ANY(%s) GROUP BY originator_id").format(
            Identifier(recorder.datastore.schema), Identifier(recorder.events_table_name))

    def transaction(self) -> Any:
        return self.recorder.datastore.transaction(commit=True)

    def lock(self, curs: Any) -> None:
        internals.lock_events_table(self.recorder, curs)

    def versions(self, curs: Any, ids: dict[str, Any]) -> dict[str, int]:
        curs.execute(self.select_versions, (list(ids.values()),), prepare=True)
        return {_key(row["originator_id"]): row["v"] for row in curs.fetchall()}

    def insert(self, curs: Any, events: list[StoredEvent]) -> Sequence[int]:
        return internals.insert_postgres(self.recorder, curs, events)


class _SQLite:
    def __init__(self, recorder: Any):
        self.recorder = recorder

    def transaction(self) -> Any:
        """Reads versions, then inserts: the write lock is taken first (see the helper)."""
        return immediate_transaction(self.recorder.datastore)

    def lock(self, curs: Any) -> None:
        """The datastore's writer lock is held for the whole transaction already."""

    def versions(self, curs: Any, ids: dict[str, Any]) -> dict[str, int]:
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

    def insert(self, curs: Any, events: list[StoredEvent]) -> Sequence[int]:
        return internals.insert_sqlite(self.recorder, curs, events)


def _backend_for(recorder: ApplicationRecorder) -> Any:
    from eventsourcing.postgres import PostgresApplicationRecorder
    from eventsourcing.sqlite import SQLiteApplicationRecorder

    if isinstance(recorder, PostgresApplicationRecorder):
        return _Postgres(recorder)
    if isinstance(recorder, SQLiteApplicationRecorder):
        return _SQLite(recorder)
    raise TypeError(f"group commit does not support {type(recorder).__name__}")
