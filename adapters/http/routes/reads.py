"""Lists from the read models: cases, the supervision queues, and the event feed.

Every list applies the access rule of reading one case (workflows.access.reach): a listed case
is readable, a readable case is listed. ``jurisdiction`` narrows that reach to a unit within
it. Rows carry only the fields the reads name (``projections/queries.py``), never the
query-code hash. Cursors are opaque; a damaged one is a 422, not a 500.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from adapters.http.auth import Eng, Staff
from adapters.http.params import Cursor, Limit, instant_query, unit_query
from domain.values import Status
from projections import queries
from projections.case_view import CaseFilter
from workflows.access import Principal, Reach, Role, reach
from workflows.case_summary import plain
from workflows.errors import AccessDenied
from workflows.event_envelope import envelope

router = APIRouter(tags=["read"])

OBLIGATION_FIELDS = ("case_id", "kind", "unit", "starts_at", "due_on", "expires_at",
                     "provisional", "status", "overdue_by")

Jurisdiction = unit_query("Narrow the list to the reach of this unit (within yours).")
UnitFilter = unit_query("Only rows whose responsible (obligated) unit is this one.")
RegisteredFrom = instant_query("Registered at or after.")
RegisteredTo = instant_query("Registered before.")
OverdueAsOf = instant_query("Overdue as of this instant (default now).")


def rows_of(rows: list[dict[str, Any]], fields: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{f: plain(row.get(f)) for f in fields} for row in rows]


def reach_of(eng: Eng, principal: Principal, jurisdiction: str | None) -> Reach | None:
    return reach(principal, eng.app.org, narrowed_to=jurisdiction)


def _sees_everything(principal: Principal) -> bool:
    return principal.role in (Role.AUDITOR, Role.ADMIN)


@router.get("/petitions", summary="Cases in the caller's reach, filtered and paginated")
def list_cases(
    principal: Staff, eng: Eng,
    status: Annotated[Status | None, Query()] = None,
    unit: UnitFilter = None,
    jurisdiction: Jurisdiction = None,
    registered_from: RegisteredFrom = None,
    registered_to: RegisteredTo = None,
    concluded_flag: Annotated[bool | None, Query(description=(
        "true: only cases flagged at registration as a concluded matter (不再受理) that wait "
        "for intake's concluded-matter decision; false: only the others."))] = None,
    cursor: str | None = Cursor, limit: int = Limit,
) -> dict[str, Any]:
    where = CaseFilter(status=status.value if status else None, unit=unit,
                       reach=reach_of(eng, principal, jurisdiction),
                       registered_from=registered_from, registered_to=registered_to,
                       concluded_flag=concluded_flag)
    items, next_cursor = queries.cases(eng.view("case_view"), where, pii=principal.pii,
                                       limit=limit, cursor=cursor)
    return {"items": items, "next_cursor": next_cursor}


def _supervisor(principal: Principal) -> None:
    if principal.role not in (Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN):
        raise AccessDenied(f"role '{principal.role}' does not read supervision queues")


@router.get("/supervision/overdue", summary="Open obligations past their deadline, most late first")
def overdue(
    principal: Staff, eng: Eng,
    unit: UnitFilter = None,
    jurisdiction: Jurisdiction = None,
    as_of: OverdueAsOf = None,
    cursor: str | None = Cursor, limit: int = Limit,
) -> dict[str, Any]:
    _supervisor(principal)
    scope = reach_of(eng, principal, jurisdiction)
    moment: datetime = as_of or eng.app.clock.now()
    rows, next_cursor = queries.overdue_with_ladder(
        eng.app, eng.view("supervision_queue"), moment, unit=unit, reach=scope, limit=limit,
        cursor=cursor)
    items = [{**row, "ladder": plain(raw["ladder"])}
             for row, raw in zip(rows_of(rows, OBLIGATION_FIELDS), rows, strict=True)]
    return {"as_of": moment.isoformat(), "items": items, "next_cursor": next_cursor}


@router.get("/supervision/due-soon", summary="Open obligations due within N days")
def due_soon(
    principal: Staff, eng: Eng,
    within_days: int = Query(default=3, ge=0, le=365),
    unit: UnitFilter = None,
    jurisdiction: Jurisdiction = None,
    cursor: str | None = Cursor, limit: int = Limit,
) -> dict[str, Any]:
    _supervisor(principal)
    scope = reach_of(eng, principal, jurisdiction)
    now = eng.app.clock.now()
    rows, next_cursor = queries.due_soon(
        eng.app.org, eng.view("supervision_queue"), now, within_days, unit=unit, reach=scope,
        limit=limit, cursor=cursor)
    return {"now": now.isoformat(), "items": rows_of(rows, OBLIGATION_FIELDS),
            "next_cursor": next_cursor}


@router.get("/events", summary="The global ordered feed of case events, without personal data")
def events(
    principal: Staff, eng: Eng,
    after: int = Query(default=0, ge=0, le=2**63 - 1, description="Last position already seen."),
    limit: int = Query(default=100, ge=1, le=1000),
) -> dict[str, Any]:
    if not _sees_everything(principal):
        raise AccessDenied("the event feed is for auditors and downstream systems (admin)")
    notifications = eng.app.recorder.select_notifications(
        start=after, limit=limit, inclusive_of_start=False, topics=CASE_TOPICS)
    items = [envelope(eng.app.mapper.to_domain_event(n), n.id) for n in notifications]
    last = notifications[-1].id if notifications else after
    return {"items": items, "next_after": last}


def _case_topics() -> list[str]:
    from eventsourcing.utils import get_topic

    from domain.events import ALL_EVENTS

    return [get_topic(cls) for cls in ALL_EVENTS]


CASE_TOPICS = _case_topics()
