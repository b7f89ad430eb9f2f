"""The analytics reads both the CLI and the HTTP API serve: indicators, the index, the ranking.

Figures come from the period's roll-up rows (``analysis_rollups.py``: counts per place ×
bucket), read once, and every unit's figures are computed from them in memory, so a ranking of
every street costs one read of O(places × buckets) rows, whatever the number of cases. The
case lists behind a figure (``with_cases``) come from the period's fact rows, which the same
definitions (``indicators.compute``) count; the tests check both give the same numbers. Who may ask (role,
reach) is the adapters' check; a unit given here must be on the chart (``UnknownUnit``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.business_time import shifted
from domain.units import OrgChart, UnitLevel
from projections import analysis_rollups as rollups
from projections.analysis_view import AnalysisView
from projections.indicators import REPEAT_WINDOW, Figure, Row, compute
from projections.periods import SHANGHAI, Period
from projections.service_index import IndexFormula, score


@dataclass(frozen=True)
class PeriodFacts:
    """The fact rows a period's figures need: its cases, and their petitioners' earlier ones."""

    period: Period
    rows: list[Row]
    history: list[Row]

    @classmethod
    def read(cls, view: AnalysisView, period: Period) -> PeriodFacts:
        rows = view.facts_between(period.start, period.end)
        keys = sorted({r["petitioner_key"] for r in rows
                       if r["petitioner_key"] and period.contains(r["registered_at"])})
        history = view.by_petitioners(keys, shifted(period.start, -REPEAT_WINDOW), period.end)
        return cls(period, rows, history)

    def figures(self, org: OrgChart, unit: str | None, as_of: datetime) -> list[Figure]:
        units = set(org.subtree(unit)) if unit else None
        return compute(self.rows, self.history, self.period, units, as_of)


@dataclass(frozen=True)
class PeriodRollups:
    """The roll-up rows that tile a period, and its undecided cases (for acceptance on time)."""

    period: Period
    rows: list[Row]
    days: list[Row]
    undecided: list[Row]

    @classmethod
    def read(cls, view: AnalysisView, period: Period) -> PeriodRollups | PeriodFacts:
        if period.zone != SHANGHAI:  # the buckets are Shanghai's local days
            return PeriodFacts.read(view, period)
        rows, days = view.rollups(period)
        return cls(period, rows, days, view.undecided(period.start, period.end))

    def figures(self, org: OrgChart, unit: str | None, as_of: datetime) -> list[Figure]:
        units = set(org.subtree(unit)) if unit else None
        return rollups.figures(self.rows, self.days,
                               rollups.late_undecided(self.undecided, units, as_of), units)


def indicators(org: OrgChart, view: AnalysisView, period: Period, unit: str | None,
               as_of: datetime, *, with_cases: bool = False) -> dict[str, Any]:
    """Every indicator of ``unit``'s subtree (everything: ``None``) for the period."""
    if unit:
        org.get(unit)
    read = PeriodFacts.read if with_cases else PeriodRollups.read
    figures = read(view, period).figures(org, unit, as_of)
    return {**_about(period, unit, as_of),
            "indicators": [f.plain(with_cases) for f in figures]}


def index(org: OrgChart, formula: IndexFormula, view: AnalysisView, period: Period,
          unit: str | None, as_of: datetime) -> dict[str, Any]:
    """The unit's index score, grade and breakdown, with the previous period's for the change."""
    if unit:
        org.get(unit)
    now = score(formula, PeriodRollups.read(view, period).figures(org, unit, as_of))
    before = score(formula, PeriodRollups.read(view, period.previous()).figures(org, unit, as_of))
    return {**_about(period, unit, as_of), **now, "previous_period": period.previous().label,
            "previous_score": before["score"], "change": _change(now, before)}


def ranking(org: OrgChart, formula: IndexFormula, view: AnalysisView, period: Period,
            level: UnitLevel, within: str | None, as_of: datetime) -> dict[str, Any]:
    """Every unit of ``level`` in ``within``'s subtree, best score first ("not rated" last),
    each with its rank, grade, the previous period's score and the change."""
    if within:
        org.get(within)
    scope = set(org.subtree(within)) if within else None
    units = [u.id for u in org if u.level is level and (scope is None or u.id in scope)]
    now_facts = PeriodRollups.read(view, period)
    before_facts = PeriodRollups.read(view, period.previous())
    rows = []
    for unit in units:
        now = score(formula, now_facts.figures(org, unit, as_of))
        before = score(formula, before_facts.figures(org, unit, as_of))
        rows.append({"unit": unit, "name": org.get(unit).name, "score": now["score"],
                     "grade": now["grade"], "received": now["received"],
                     "previous_score": before["score"], "change": _change(now, before)})
    rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0), r["unit"]))
    for rank, row in enumerate(rows, 1):
        row["rank"] = rank if row["score"] is not None else None
    return {**_about(period, within, as_of), "level": level.value,
            "previous_period": period.previous().label, "items": rows}


def _change(now: dict[str, Any], before: dict[str, Any]) -> float | None:
    if now["score"] is None or before["score"] is None:
        return None
    return round(now["score"] - before["score"], 2)


def _about(period: Period, unit: str | None, as_of: datetime) -> dict[str, Any]:
    return {"period": period.label, "from": period.start.isoformat(),
            "to": period.end.isoformat(), "unit": unit, "as_of": as_of.isoformat()}

