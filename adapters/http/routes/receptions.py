"""Leaders' reception days (领导接访日) and video reception (视频接访) over HTTP.

Staff publish and list slots with their token; the petitioner lists the slots open to their
case, books and cancels with the query code in the body (never in the URL), throttled like
``/status``. A slot taken meanwhile is 422 (or 409 when two bookings race: one wins).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from pydantic import Field

from adapters.http.auth import Eng, Staff
from adapters.http.params import instant_query
from adapters.http.routes.petitioner import PETITIONER, CodeBody, _case_for
from adapters.http.routes.reads import Jurisdiction, reach_of
from domain.petition import Petition
from domain.reception_slot import ReceptionSlot
from workflows.case_summary import plain
from workflows.reception import slots as reception

router = APIRouter(tags=["receptions"])


class BookBody(CodeBody):
    slot_id: UUID


class CancelBody(CodeBody):
    reason: str = Field(default="", max_length=2000)


def slot_row(slot: ReceptionSlot, *, staff: bool) -> dict[str, Any]:
    row = {"slot_id": str(slot.id), "unit": slot.unit, "leader": slot.leader,
           "mode": slot.mode.value, "starts_at": plain(slot.starts_at),
           "ends_at": plain(slot.ends_at), "place": slot.place,
           "booked": slot.booked_by is not None}
    if staff:
        row["case_id"] = str(slot.booked_by) if slot.booked_by else None
    return row


@router.post("/receptions/slots", status_code=201,
             summary="Publish a reception slot (领导接访日 / 视频接访)")
def publish(body: reception.PublishSlot, principal: Staff, eng: Eng) -> dict[str, Any]:
    """The body's ``actor`` is ignored: the token's actor is recorded."""
    reception.authorize_publish(principal, body.unit, eng.app.org)
    slot = reception.publish(eng.app, body.model_copy(update={"actor": principal.actor}))
    return slot_row(slot, staff=True)


SlotsFrom = instant_query("Slots starting from then (default: now).")


@router.get("/receptions/slots", summary="Slots of the caller's reach, by start")
def list_slots(principal: Staff, eng: Eng, jurisdiction: Jurisdiction = None,
               start: SlotsFrom = None) -> dict[str, Any]:
    scope = reach_of(eng, principal, jurisdiction)
    units = set(scope.units) if scope is not None else None
    found = reception.slots(eng.app, units, start or eng.app.clock.now())
    return {"items": [slot_row(s, staff=True) for s in found]}


def petitioner_reception(eng: Eng, petition: Petition) -> dict[str, Any]:
    """The petitioner's booking and the slots open to their case; no one else's data."""
    booking = petition.reception_booking
    return {
        "booking": None if booking is None else {
            "slot_id": booking.slot_id, "unit": booking.unit, "leader": booking.leader,
            "mode": booking.mode.value, "starts_at": plain(booking.starts_at)},
        "receptions_held": petition.receptions_held,
        "open_slots": [slot_row(s, staff=False)
                       for s in reception.bookable(eng.app, petition, eng.app.clock.now())],
    }


@router.post("/status/reception", summary="My reception booking and the open slots")
def my_reception(body: CodeBody, request: Request, eng: Eng) -> dict[str, Any]:
    case_id = _case_for(eng, request, body.query_code)
    return petitioner_reception(eng, eng.app.get_petition(case_id))


@router.post("/status/reception/book", summary="Book a reception slot (预约接访)")
def book(body: BookBody, request: Request, eng: Eng) -> dict[str, Any]:
    case_id = _case_for(eng, request, body.query_code)
    reception.book(eng.app, reception.BookReception(case_id=case_id, actor=PETITIONER,
                                                    slot_id=body.slot_id))
    return petitioner_reception(eng, eng.app.get_petition(case_id))


@router.post("/status/reception/cancel", summary="Cancel my reception booking")
def cancel(body: CancelBody, request: Request, eng: Eng) -> dict[str, Any]:
    case_id = _case_for(eng, request, body.query_code)
    reception.cancel(eng.app, reception.CancelReception(case_id=case_id, actor=PETITIONER,
                                                        reason=body.reason))
    return petitioner_reception(eng, eng.app.get_petition(case_id))
