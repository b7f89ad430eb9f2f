"""The reception calendar: which slots exist, so they can be listed and reminded without a scan.

One aggregate with a fixed id; each publication appends one entry in the same transaction as
the new slot (so the calendar never names a slot that was not stored). Publications are rare
(a unit's leaders publish their reception days for weeks ahead); bookings never touch it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

CALENDAR_ID = uuid5(NAMESPACE_URL, "petition-engine/reception-calendar")


@dataclass(frozen=True)
class Entry:
    slot_id: UUID
    unit: str
    starts_at: datetime


class ReceptionCalendar(Aggregate):
    @staticmethod
    def create_id() -> UUID:
        return CALENDAR_ID

    @event("Opened")
    def __init__(self) -> None:
        self.entries: list[Entry] = []

    @event("Listed")
    def list_slot(self, slot_id: UUID, unit: str, starts_at: datetime) -> None:
        self.entries.append(Entry(slot_id, unit, starts_at))

    def between(self, start: datetime, end: datetime, units: set[str] | None = None
                ) -> list[Entry]:
        """Slots starting in [start, end), of ``units`` if given, by start."""
        return sorted((e for e in self.entries if start <= e.starts_at < end
                       and (units is None or e.unit in units)), key=lambda e: e.starts_at)
