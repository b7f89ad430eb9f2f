"""Lists from the read models: cases, the supervision queues, and the event feed.

Every list is cut to the caller's jurisdiction (its unit's subtree); auditors and admins see
all. Cursors are opaque; a damaged one is a 422, not a 500.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from adapters.http.auth import Eng, Staff
from domain.errors import InvalidCommand
from projections import queries
from projections.case_view import CaseFilter
from workflows.access import Principal, Role
from workflows.case_summary import plain
from workflows.errors import AccessDenied
from workflows.event_envelope import envelope

router = APIRouter(tags=["read"])
Cursor = Query(default=None, max_length=500, description="From the previous page's next_cursor.")
Limit = Query(default=50, ge=1, le=500)


def _sees_everything(principal: Principal) -> bool:
    return principal.role in (Role.AUDITOR, Role.ADMIN)


def _reach(eng: Eng, principal: Principal, requested: str | None) -> str | None:
    """The jurisdiction to filter by: the requested one, which must lie in the caller's reach."""
    org = eng.app.org
    if requested is not None:
        org.get(requested)
        if not _sees_everything(principal) and not org.is_within(requested, principal.unit):
            raise AccessDenied(f"'{requested}' is outside the reach of '{principal.unit}'")
        return requested
    return None if _sees_everything(principal) else principal.unit


def _page(fetch: Any) -> tuple[list[dict[str, Any]], str | None]:
    try:
        return fetch()
    except (ValueError, TypeError, KeyError) as error:
        raise InvalidCommand(f"bad cursor or filter: {type(error).__name__}") from None


@router.get("/petitions", summary="Cases, filtered and paginated")
def list_cases(
    principal: Staff, eng: Eng,
    status: str | None = Query(default=None, max_length=40),
    unit: str | None = Query(default=None, max_length=64),
    jurisdiction: str | None = Query(default=None, max_length=64),
    registered_from: AwareDatetime | None = None,
    registered_to: AwareDatetime | None = None,
    cursor: str | None = Cursor, limit: int = Limit,
) -> dict[str, Any]:
    root = _reach(eng, principal, jurisdiction)
    where = CaseFilter(status=status, unit=unit,
                       jurisdiction=eng.app.org.subtree(root) if root else None,
                       registered_from=registered_from, registered_to=registered_to)
    rows, next_cursor = _page(lambda: eng.view("case_view").list_cases(
        where, limit=limit, cursor=cursor))
    return {"items": [plain(r) for r in rows], "next_cursor": next_cursor}


def _supervisor(principal: Principal) -> None:
    if principal.role not in (Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN):
        raise AccessDenied(f"role '{principal.role}' does not read supervision queues")


@router.get("/supervision/overdue", summary="Open obligations past their deadline, most late first")
def overdue(
    principal: Staff, eng: Eng,
    unit: str | None = Query(default=None, max_length=64),
    jurisdiction: str | None = Query(default=None, max_length=64),
    as_of: AwareDatetime | None = None,
    cursor: str | None = Cursor, limit: int = Limit,
) -> dict[str, Any]:
    _supervisor(principal)
    root = _reach(eng, principal, jurisdiction)
    moment: datetime = as_of or eng.app.clock.now()
    rows, next_cursor = _page(lambda: queries.overdue_with_ladder(
        eng.app, eng.view("supervision_queue"), moment, unit=unit, jurisdiction=root,
        limit=limit, cursor=cursor))
    return {"as_of": moment.isoformat(), "items": [plain(r) for r in rows],
            "next_cursor": next_cursor}


@router.get("/supervision/due-soon", summary="Open obligations due within N days")
def due_soon(
    principal: Staff, eng: Eng,
    within_days: int = Query(default=3, ge=0, le=365),
    unit: str | None = Query(default=None, max_length=64),
    jurisdiction: str | None = Query(default=None, max_length=64),
    cursor: str | None = Cursor, limit: int = Limit,
) -> dict[str, Any]:
    _supervisor(principal)
    root = _reach(eng, principal, jurisdiction)
    now = eng.app.clock.now()
    rows, next_cursor = _page(lambda: queries.due_soon(
        eng.app.org, eng.view("supervision_queue"), now, within_days, unit=unit,
        jurisdiction=root, limit=limit, cursor=cursor))
    return {"now": now.isoformat(), "items": [plain(r) for r in rows],
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
