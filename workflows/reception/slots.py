"""Publishing slots, and booking and cancelling them for a case: the use cases of receptions.

A booking changes two aggregates — the slot (taken) and the case (``ReceptionBooked``) — and
saves both in one transaction, so a slot is never taken by two cases: the second of two racing
bookings collides on the slot's version (``ConcurrentModification``, HTTP 409) and appends
nothing. Publishing saves the slot with its calendar entry the same way.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.persistence import IntegrityError
from pydantic import AwareDatetime, StringConstraints

from domain.errors import InvalidCommand
from domain.petition import Petition
from domain.reception_calendar import ReceptionCalendar
from domain.reception_slot import ReceptionSlot, SlotUnavailable
from domain.units import OrgChart
from domain.values import ReceptionMode
from workflows.access import Principal
from workflows.application import CommandResult, PetitionApplication
from workflows.commands import CaseCommand, Command, Note, Text, UnitId
from workflows.errors import AccessDenied, ConcurrentModification
from workflows.roles import Role

HORIZON = timedelta(days=90)
"""How far ahead slots are listed and may be published."""
PUBLISH_ROLES = frozenset({Role.INTAKE, Role.SUPERVISOR, Role.ADMIN})
"""Who publishes slots: the reception office (intake), supervisors, admins."""


def authorize_publish(principal: Principal, unit: str, org: OrgChart) -> None:
    """Staff publish the slots of their own unit's subtree (admins anywhere); like
    ``access.authorize_register``, a unit outside is AccessDenied."""
    if principal.role not in PUBLISH_ROLES or principal.proxy:  # proxy agents file, not publish
        raise AccessDenied(f"role '{principal.role}' may not publish reception slots")
    org.get(unit)
    if principal.role is not Role.ADMIN and not (
            principal.unit in org and org.is_within(unit, principal.unit)):
        raise AccessDenied(f"unit '{unit}' is outside the reach of '{principal.unit}'")


class PublishSlot(Command):
    unit: UnitId
    leader: Text
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    mode: ReceptionMode = ReceptionMode.IN_PERSON
    place: Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)] = ""


class BookReception(CaseCommand):
    slot_id: UUID


class CancelReception(CaseCommand):
    reason: Note = ""


def publish(app: PetitionApplication, cmd: PublishSlot, attempts: int = 3) -> ReceptionSlot:
    """A new slot and its calendar entry, in one write; the same slot twice is refused."""
    now = app.clock.now()
    app.org.get(cmd.unit)
    if cmd.starts_at > now + HORIZON:
        raise InvalidCommand(f"slots are published at most {HORIZON.days} days ahead")
    for _ in range(attempts):
        slot = ReceptionSlot.publish(unit=cmd.unit, leader=cmd.leader, starts_at=cmd.starts_at,
                                     ends_at=cmd.ends_at, mode=cmd.mode, place=cmd.place,
                                     at=now, actor=cmd.actor)
        calendar = _calendar(app) or ReceptionCalendar()
        calendar.list_slot(slot_id=slot.id, unit=slot.unit, starts_at=slot.starts_at)
        try:
            app.save(slot, calendar)
            return slot
        except IntegrityError:
            if find(app, slot.id) is not None:
                raise InvalidCommand("this slot is already published") from None
    raise ConcurrentModification(ReceptionCalendar.create_id())  # publications kept racing


def find(app: PetitionApplication, slot_id: UUID) -> ReceptionSlot | None:
    try:
        slot: object = app.repository.get(slot_id)
    except AggregateNotFoundError:
        return None
    return slot if isinstance(slot, ReceptionSlot) else None


def slots(app: PetitionApplication, units: set[str] | None, start: datetime,
          end: datetime | None = None) -> list[ReceptionSlot]:
    """The slots of ``units`` (all: None) starting in [start, end), by start."""
    calendar = _calendar(app)
    if calendar is None:
        return []
    found = (find(app, e.slot_id) for e in calendar.between(start, end or start + HORIZON, units))
    return [s for s in found if s is not None]


def bookable(app: PetitionApplication, petition: Petition, now: datetime
             ) -> list[ReceptionSlot]:
    """Open slots of the units that receive this case's petitioner: those above or at the units
    that received, hold or handle it."""
    units = {a for u in _case_units(petition) if u in app.org
             for a in (u, *app.org.ancestors(u))}
    return [s for s in slots(app, units, now) if s.is_open(now)]


def book(app: PetitionApplication, cmd: BookReception) -> CommandResult:
    petition = app.get_petition(cmd.case_id)
    slot = find(app, cmd.slot_id)
    if slot is None:
        raise SlotUnavailable("no such slot")
    at = max(app.clock.now(), petition.last_at)
    petition.book_reception(at=at, actor=cmd.actor, slot_id=str(slot.id), unit=slot.unit,
                            leader=slot.leader, mode=slot.mode, starts_at=slot.starts_at,
                            org=app.org)
    slot.book(petition.id, at, cmd.actor)
    return app.save_case(petition, slot, cmd=cmd)


def cancel(app: PetitionApplication, cmd: CancelReception) -> CommandResult:
    petition = app.get_petition(cmd.case_id)
    at = max(app.clock.now(), petition.last_at)
    petition.cancel_reception(at=at, actor=cmd.actor, reason=cmd.reason)
    return app.save_case(petition, cmd=cmd)  # the slot is released in the same write


def _case_units(petition: Petition) -> tuple[str, ...]:
    return tuple(u for u in (petition.received_by, petition.holder, petition.responsible_unit)
                 if u)


def _calendar(app: PetitionApplication) -> ReceptionCalendar | None:
    try:
        calendar: object = app.repository.get(ReceptionCalendar.create_id())
    except AggregateNotFoundError:
        return None
    return calendar if isinstance(calendar, ReceptionCalendar) else None
