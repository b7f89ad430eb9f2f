"""What the read models receive instead of the application: a source of events and a storage.

``EventSource`` is the write side as a follower sees it — the log to read, how a case stood at
a version, and the chart and policy its rows are computed with (``PetitionApplication`` is
one). ``ViewStorage`` opens a view by name and subscribes to the log; the composition root
builds it (``adapters/persistence/views.py``), so no driver code lives in ``projections/``.
"""

from __future__ import annotations

from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import ApplicationRecorder, Mapper

from domain.deadlines import DeadlinePolicy
from domain.petition import Petition
from domain.units import OrgChart


class EventSource(Protocol):
    name: str
    recorder: ApplicationRecorder
    mapper: Mapper[UUID]
    org: OrgChart
    policy: DeadlinePolicy

    def get_petition(self, case_id: UUID, version: int | None = None) -> Petition: ...


class ViewStorage(Protocol):
    def open(self, name: str) -> Any:
        """The named read model's view, its tables created (or rebuilt under a new schema)."""

    def subscribe(self, recorder: ApplicationRecorder, gt: int | None) -> Any:
        """A subscription to the log after position ``gt`` that hands out batches."""
