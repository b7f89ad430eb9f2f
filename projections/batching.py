"""Projections that take a whole batch of events and write it in one transaction.

Per event the library's interface is ``process_event(event, tracking)``; writing a row and a
tracking position per event costs several round trips each. A ``BatchProjection`` instead
folds a batch in memory (a case's view row is written once per batch, at its latest state) and
writes rows with ``executemany`` plus ONE tracking position — the batch's last — in the same
transaction, so a crash still leaves the view exactly at a batch boundary.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.projection import Projection

from domain import events as ev
from projections.view import View


@dataclass(frozen=True)
class Item:
    """An event with its position and its stored form (topic and bytes, for the audit hash)."""

    event: Any
    position: int
    topic: str | None = None
    state: bytes | None = None

    @property
    def is_case_event(self) -> bool:
        return isinstance(self.event, ev.PetitionEvent)


class BatchProjection(Projection[Any]):
    @abstractmethod
    def prepare(self, items: Sequence[Item]) -> Any:
        """Everything to write for ``items``, computed before the transaction opens (reads of
        the event store and of the view happen here, so the write lock is held briefly)."""

    @abstractmethod
    def write(self, prepared: Any) -> None:
        """Writes what ``prepare`` computed (inside the caller's transaction)."""

    def process_batch(self, application_name: str, items: Sequence[Item], after: int) -> None:
        """Applies events read after the view's position ``after``."""
        self.commit(application_name, self.prepare(items), items[-1].position, after)

    def commit(self, application_name: str, prepared: Any, position: int, after: int) -> None:
        """Writes a prepared batch and its last position in one transaction, if the view is
        still at ``after`` (``View.record_position``; else ``PositionMoved``, nothing written)."""
        view: View = self.view
        with view.batch() as c:
            view.record_position(c, Tracking(application_name, position), after)
            self.write(prepared)

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:
        """The library's per-event entry point: a batch of one, after the view's position."""
        view: View = self.view
        self.process_batch(tracking.application_name,
                           [Item(domain_event, tracking.notification_id)],
                           view.max_tracking_id(tracking.application_name) or 0)
