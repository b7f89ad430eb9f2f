"""The yearly holiday arrangements (放假安排) operators imported, kept in the event store.

The State Council publishes each year's 调休 swaps in November or December; until the
``chinese-calendar`` package ships them, operators import them with ``petition calendar
import``. Keeping them as events makes every process (API, followers, CLI) use the same days
after any restart, and lets auditors see which arrangement applied when. One aggregate with a
fixed id; an import replaces the days of the years it contains and keeps the other years.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

HOLIDAY_ARRANGEMENT_ID = uuid5(NAMESPACE_URL, "petition-engine/holiday-arrangement")
HOLIDAY, WORKDAY = "holiday", "workday"  # a day off; a working day (e.g. a 调休 Saturday)


def year_of(day: dict[str, Any]) -> int:
    return int(str(day["date"])[:4])


class HolidayArrangement(Aggregate):
    """``days``: rows {date (ISO), kind (holiday|workday), name}, one per date, in date order."""

    @staticmethod
    def create_id() -> UUID:
        return HOLIDAY_ARRANGEMENT_ID

    @event("Imported")
    def __init__(self, days: list[dict[str, Any]], source: str):
        self.days: list[dict[str, Any]] = []
        self._merge(days, source)

    @event("Reimported")
    def reimport(self, days: list[dict[str, Any]], source: str) -> None:
        self._merge(days, source)

    def _merge(self, days: list[dict[str, Any]], source: str) -> None:
        years = {year_of(d) for d in days}
        kept = [d for d in self.days if year_of(d) not in years]
        self.days = sorted([*kept, *days], key=lambda d: str(d["date"]))
        self.source = source

    @property
    def years(self) -> list[int]:
        return sorted({year_of(d) for d in self.days})
