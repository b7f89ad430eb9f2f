"""The organisation chart in force, kept in the event store: every load is an event.

Auditors can see which chart applied when; operators change it with ``petition units load``.
A single aggregate with a fixed id.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.units import OrgChart, Unit, UnitLevel

ORG_CHART_ID = uuid5(NAMESPACE_URL, "petition-engine/org-chart")


def rows_of(chart: OrgChart) -> list[dict[str, Any]]:
    return [{"id": u.id, "name": u.name, "level": u.level.value, "parent": u.parent}
            for u in chart]


def chart_of(rows: list[dict[str, Any]]) -> OrgChart:
    return OrgChart(Unit(r["id"], r["name"], UnitLevel(r["level"]), r["parent"]) for r in rows)


class OrgChartRecord(Aggregate):
    @staticmethod
    def create_id() -> UUID:
        return ORG_CHART_ID

    @event("Loaded")
    def __init__(self, units: list[dict[str, Any]], source: str):
        self.units, self.source = units, source

    @event("Reloaded")
    def reload(self, units: list[dict[str, Any]], source: str) -> None:
        self.units, self.source = units, source

    @property
    def chart(self) -> OrgChart:
        return chart_of(self.units)
