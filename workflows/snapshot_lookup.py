"""A repository that looks for a snapshot only where one can exist.

The library's repository reads the snapshot table before the events of every aggregate it
reconstructs. Only cases are snapshotted (``PetitionApplication.snapshotting_intervals``), and
a case's id is a random ``uuid4``; the natural-key aggregates read on every registration and
answer (the query-code index, a petitioner's concluded-matter index, idempotency records,
tokens) have ``uuid5`` ids and are never snapshotted — ``PetitionApplication.take_snapshot``
refuses one. For them the snapshot read was a wasted round trip (two per registered and
answered case, usually a miss on both tables); here their events are read directly.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import Repository

NEVER_SNAPSHOTTED = 5
"""The UUID version of the natural-key aggregates' ids (``uuid5``): none has a snapshot."""


def may_have_snapshot(aggregate_id: object) -> bool:
    return not (isinstance(aggregate_id, UUID) and aggregate_id.version == NEVER_SNAPSHOTTED)


class SnapshotAwareRepository(Repository[UUID]):
    _events_only: Repository[UUID]

    @classmethod
    def around(cls, plain: Repository[UUID]) -> SnapshotAwareRepository:
        """``plain`` (as the library configured it: stores, cache, fast-forward) with the
        quicker lookup."""
        repository = cls.__new__(cls)
        repository.__dict__.update(vars(plain))
        # The same event store without snapshots (and without a cache of its own).
        repository._events_only = Repository(event_store=plain.event_store)
        return repository

    def _reconstruct_aggregate(self, aggregate_id: Any, version: Any, projector_func: Any
                               ) -> Any:
        if may_have_snapshot(aggregate_id):
            return super()._reconstruct_aggregate(aggregate_id, version, projector_func)
        return self._events_only._reconstruct_aggregate(aggregate_id, version, projector_func)
