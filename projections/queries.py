"""The list reads that both the CLI and the HTTP API serve, each defined once: the cases,
and the supervision queues (overdue with the ladder, due soon, unsatisfied).

Each returns plain rows (and the next page's cursor); the adapters only choose columns and
format. Who may ask (roles) is the adapters' check; ``reach`` (workflows.access.Reach) keeps
only the cases a caller may read, by the rule of reading one case. A ``jurisdiction`` given
here must be a unit of the chart (``UnknownUnit`` otherwise) and means the obligated unit lies
in that unit's subtree (the operator's view, on the command line).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.units import OrgChart
from projections.case_view import CaseFilter, CaseView
from projections.supervision_queue import SupervisionQueue, unit_path
from workflows.access import Reach
from workflows.case_summary import plain
from workflows.ladder_status import LadderSource, ladder_of
from workflows.privacy import disclose, staff_audience

Page = tuple[list[dict[str, Any]], str | None]

CASE_ROW_FIELDS = (
    "case_id", "version", "status", "received_by", "holder", "responsible_unit", "unit_level",
    "district", "street", "channel", "category", "handling_track", "speed_track",
    "co_petitioners", "registered_at", "accepted_at", "answered_at", "closed_at",
    "deadline_kind", "deadline_due_on", "deadline_expires_at", "deadline_provisional",
    "supervision_level",
    "supervision_count", "rating_attitude", "rating_efficiency", "rating_quality",
    "proxy_agent", "unsatisfied_pending", "answered_on_time", "concluded_flag",
)
"""What a listed case shows: no more than reading the case shows its reader (never the
query-code hash)."""


def cases(view: CaseView, where: CaseFilter, *, pii: bool = False, limit: int = 50,
          cursor: str | None = None) -> Page:
    """A page of cases by registration time, each as a listed case shows it to staff (with or
    without the pii scope)."""
    rows, next_cursor = view.list_cases(where, limit=limit, cursor=cursor)
    return case_rows(rows, pii=pii), next_cursor


def case_rows(rows: list[dict[str, Any]], *, pii: bool = False) -> list[dict[str, Any]]:
    """Case-view rows cut to ``CASE_ROW_FIELDS``, JSON-ready, through the privacy table (the
    view holds no personal data; the rule holds all the same)."""
    audience = staff_audience(pii)
    return [disclose(audience, {f: plain(row.get(f)) for f in CASE_ROW_FIELDS}) for row in rows]


def overdue_with_ladder(app: LadderSource, queue: SupervisionQueue, as_of: datetime, *,
                        unit: str | None = None, jurisdiction: str | None = None,
                        limit: int = 100, cursor: str | None = None,
                        reach: Reach | None = None) -> Page:
    """Obligations past their deadline at ``as_of``, most late first, each with its
    ``ladder``: the rung reached, and the next rung with its date (the page's cases are read
    together: one statement, not one per case)."""
    rows, next_cursor = queue.overdue(as_of, unit=unit, path=_path(app.org, jurisdiction),
                                      limit=limit, cursor=cursor, reach=reach)
    cases = app.get_petitions([UUID(str(row["case_id"])) for row in rows])  # one read
    return [{**row, "ladder": ladder_of(app, cases[UUID(str(row["case_id"]))], row["kind"])}
            for row in rows], next_cursor


def due_soon(org: OrgChart, queue: SupervisionQueue, now: datetime, days: int, *,
             unit: str | None = None, jurisdiction: str | None = None, limit: int = 100,
             cursor: str | None = None, reach: Reach | None = None) -> Page:
    """Obligations not yet overdue at ``now`` whose deadline falls within ``days`` days."""
    return queue.due_within(now, days, unit=unit, path=_path(org, jurisdiction), limit=limit,
                            cursor=cursor, reach=reach)


def unsatisfied(org: OrgChart, cases: CaseView, *, jurisdiction: str | None = None,
                limit: int = 100, cursor: str | None = None,
                reach: Reach | None = None) -> Page:
    """Cases rated unsatisfied that await a supervisor's reopen or confirm-answer."""
    scope = org.subtree(jurisdiction) if jurisdiction else None
    return cases.list_cases(CaseFilter(unsatisfied_pending=True, jurisdiction=scope,
                                       reach=reach), limit=limit, cursor=cursor)


def open_cases(org: OrgChart, cases: CaseView, *, unit: str | None = None) -> list[UUID]:
    """The open cases, those owed by a unit within ``unit``'s jurisdiction when given
    (``petition deadlines revise``): from the case view — caught up by the caller — so that
    closed cases are never loaded."""
    return [UUID(case_id) for case_id in cases.open_case_ids(
        org.subtree(_unit(org, unit)) if unit is not None else None)]


def _path(org: OrgChart, jurisdiction: str | None) -> str | None:
    return unit_path(org, _unit(org, jurisdiction)) if jurisdiction else None


def _unit(org: OrgChart, unit: str) -> str:
    org.get(unit)  # UnknownUnit for a unit not on the chart
    return unit
