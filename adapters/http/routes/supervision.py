"""Supervisors' dashboards: per-unit performance and the unsatisfied-rating queue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from adapters.http.auth import Eng, Staff
from adapters.http.routes.reads import Cursor, Limit, _page, _reach, _supervisor
from projections import queries
from projections.unit_stats import unit_stats
from workflows.case_summary import plain

router = APIRouter(tags=["supervision"])


@router.get("/supervision/units", summary="Per unit: open, overdue, on-time rate, measures")
def units(principal: Staff, eng: Eng,
          jurisdiction: str | None = Query(default=None, max_length=64)) -> dict[str, Any]:
    _supervisor(principal)
    root = _reach(eng, principal, jurisdiction)
    scope = eng.app.org.subtree(root) if root else None
    rows = unit_stats(eng.view("case_view"), eng.view("audit_trail"), eng.app.clock.now(), scope)
    return {"units": rows}


@router.get("/supervision/unsatisfied",
            summary="Cases rated unsatisfied awaiting a supervisor: reopen or confirm-answer")
def unsatisfied(principal: Staff, eng: Eng,
                jurisdiction: str | None = Query(default=None, max_length=64),
                cursor: str | None = Cursor, limit: int = Limit) -> dict[str, Any]:
    _supervisor(principal)
    root = _reach(eng, principal, jurisdiction)
    rows, next_cursor = _page(lambda: queries.unsatisfied(
        eng.app.org, eng.view("case_view"), jurisdiction=root, limit=limit, cursor=cursor))
    return {"items": [plain(r) for r in rows], "next_cursor": next_cursor}
