"""What a petitioner may see of their case: the public steps, deadline, answer and windows.

Built from the case's events through the PETITIONER audience's allow-list
(``workflows/privacy.py``): internal notes, actors, supervision letters, proxy contacts and
every person's data stay out. Each step names its date and unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any
from uuid import UUID

from domain.deadlines import Deadline
from domain.petition import Petition
from domain.reception_slot import ReceptionSlot
from workflows.application import PetitionApplication
from workflows.case_summary import plain
from workflows.privacy import Audience, disclose
from workflows.public_steps import public_steps
from workflows.reception import slots as reception

CHINA = timezone(timedelta(hours=8))

UNIT_FIELDS = frozenset({"received_by", "unit", "to_unit"})


@dataclass(frozen=True)
class Step:
    kind: str
    on: date
    fields: dict[str, Any]


@dataclass(frozen=True)
class SlotView:
    """A reception slot as the petitioner sees it: the published schedule (领导接访日 names
    the receiving leader publicly), never who else booked."""

    slot_id: str
    starts_at: str  # day and time where it is held (China)
    ends_at: str  # time only
    unit: str
    leader: str
    mode: str
    place: str


@dataclass(frozen=True)
class CaseView:
    status: str
    subject: str
    registered_on: date
    unit: str
    deadline: Deadline | None
    answer: str | None
    steps: list[Step]
    can_rate: bool
    review_kind: str | None  # "review" or "re-review" while its window is open
    review_days_left: int | None
    can_withdraw: bool
    attachments: list[tuple[str, str, int]]  # the petitioner's own files: name, type, size
    booking: SlotView | None = None  # the reception booked and not yet held
    can_cancel_booking: bool = False  # before the slot starts
    can_book: bool = False  # no booking, the case open: the page of free slots is offered
    can_add_attachment: bool = False  # 补充材料 while the case is open (staff's files: never)


def china_day(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


def case_view(app: PetitionApplication, petition: Petition) -> CaseView:
    """The page's case. What it shows of the case's recorded data passes through the
    PETITIONER audience's table, as ``/status`` does; the rest is derived (unit names,
    deadlines, the actions open now) and names no one."""
    now = app.clock.now()
    shown = disclose(Audience.PETITIONER, {
        "status": petition.status.value, "subject": petition.subject,
        "answer": petition.answer, "attachments": plain(petition.attachments)})
    allowed = petition.allowed_commands
    review_kind, window = None, None
    if "re-review" in allowed and (w := app.policy.re_review_window(petition)):
        review_kind, window = "re-review", w
    elif "review" in allowed and (w := app.policy.review_window(petition)):
        review_kind, window = "review", w
    if window is not None and window.is_overdue(now):
        review_kind, window = None, None
    unit = petition.responsible_unit or petition.holder
    return CaseView(
        status=shown["status"], subject=shown.get("subject", ""),
        registered_on=china_day(petition.received_at), unit=unit_name(app, unit),
        deadline=app.policy.current(petition), answer=shown.get("answer"),
        steps=steps(app, app.events_of(petition.id)),
        can_rate="rate" in allowed and petition.ratings is None,
        review_kind=review_kind,
        review_days_left=(window.due_on - china_day(now)).days if window else None,
        can_withdraw="withdraw" in allowed,
        attachments=[(a["file_name"], a["media_type"], a["size"])
                     for a in shown.get("attachments", [])],
        booking=booking_view(app, petition),
        can_cancel_booking=(petition.reception_booking is not None
                            and "cancel-reception" in allowed
                            and petition.reception_booking.starts_at > now),
        can_book=petition.reception_booking is None and "book-reception" in allowed,
        can_add_attachment="add-attachment" in allowed,
    )


def slot_view(app: PetitionApplication, slot: ReceptionSlot) -> SlotView:
    return SlotView(str(slot.id), _when(slot.starts_at),
                    slot.ends_at.astimezone(CHINA).strftime("%H:%M"), unit_name(app, slot.unit),
                    slot.leader, slot.mode.value, slot.place)


def booking_view(app: PetitionApplication, petition: Petition) -> SlotView | None:
    """The booked slot as published (its place and end from the slot itself)."""
    booking = petition.reception_booking
    if booking is None:
        return None
    slot = reception.find(app, UUID(booking.slot_id))
    if slot is not None:
        return slot_view(app, slot)
    return SlotView(booking.slot_id, _when(booking.starts_at), "", unit_name(app, booking.unit),
                    booking.leader, booking.mode.value, "")


def free_slots(app: PetitionApplication, petition: Petition) -> list[SlotView]:
    """The open slots of the units that receive this case's petitioner, by start."""
    return [slot_view(app, s) for s in reception.bookable(app, petition, app.clock.now())]


def _when(moment: datetime) -> str:
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def steps(app: PetitionApplication, events: list[Any]) -> list[Step]:
    """The public steps (``workflows/public_steps.py``), units by name, times in China's."""
    return [Step(step.kind, china_day(step.at),
                 {name: _value(app, name, value) for name, value in step.fields.items()})
            for step in public_steps(events)]


def _value(app: PetitionApplication, name: str, value: Any) -> Any:
    if isinstance(value, datetime):  # a reception's start: day and time where it is held
        return _when(value)
    if isinstance(value, Deadline):  # a revised deadline: its last day
        return value.due_on.isoformat()
    return unit_name(app, value) if name in UNIT_FIELDS else value


def unit_name(app: PetitionApplication, unit_id: str | None) -> str:
    if not unit_id:
        return ""
    return app.org.name_of(unit_id)
