"""Supervisors' dashboards: per-unit performance and the unsatisfied-rating queue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from adapters.http.auth import Eng, Staff
from adapters.http.params import Cursor, Limit
from adapters.http.routes.reads import Jurisdiction, _supervisor, reach_of
from projections import queries
from projections.unit_stats import unit_stats

router = APIRouter(tags=["supervision"])


@router.get("/supervision/units", summary="Per unit: open, overdue, on-time rate, measures")
def units(principal: Staff, eng: Eng, jurisdiction: Jurisdiction = None) -> dict[str, Any]:
    """Figures per unit of the caller's subtree (or of ``jurisdiction``, within it)."""
    _supervisor(principal)
    scope = reach_of(eng, principal, jurisdiction)
    units_in = sorted(scope.units) if scope is not None else None
    rows = unit_stats(eng.view("case_view"), eng.view("audit_trail"), eng.app.clock.now(),
                      units_in)
    return {"units": rows}


@router.get("/supervision/unsatisfied",
            summary="Cases rated unsatisfied awaiting a supervisor: reopen or confirm-answer")
def unsatisfied(principal: Staff, eng: Eng, jurisdiction: Jurisdiction = None,
                cursor: str | None = Cursor, limit: int = Limit) -> dict[str, Any]:
    _supervisor(principal)
    rows, next_cursor = queries.unsatisfied(
        eng.app.org, eng.view("case_view"), reach=reach_of(eng, principal, jurisdiction),
        limit=limit, cursor=cursor)
    return {"items": queries.case_rows(rows, pii=principal.pii), "next_cursor": next_cursor}
