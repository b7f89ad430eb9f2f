"""Leaders' reception days and video reception on a real store, SQLite and PostgreSQL: slots
published and listed, booked and cancelled with the case in one transaction, never booked
twice — not even by two application instances racing — reminded once, and the reception
recorded on the case."""

from __future__ import annotations

import threading
from datetime import timedelta
from uuid import UUID

import pytest

from adapters.wiring import build_application
from domain import events as ev
from domain.errors import DomainError, InvalidCommand
from domain.reception_slot import SlotUnavailable
from tests.conftest import START
from tests.integration.helpers import CITY, DISTRICT, STREET, register_sample, run_steps
from workflows import commands as c
from workflows.application import PetitionApplication
from workflows.errors import ConcurrentModification
from workflows.reception import slots as reception
from workflows.reception.reminders import ReceptionReminders


class Phone:
    """A notifier that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, message: str) -> None:
        self.sent.append((phone, message))


def publish(app: PetitionApplication, *, hours: int = 48, unit: str = DISTRICT,
            leader: str = "王区长", mode: str = "video") -> UUID:
    start = START + timedelta(hours=hours)
    return reception.publish(app, reception.PublishSlot(
        actor="intake", unit=unit, leader=leader, starts_at=start,
        ends_at=start + timedelta(minutes=30), mode=mode, place="区信访局三楼")).id


def book(app: PetitionApplication, case_id: UUID, slot_id: UUID) -> None:
    reception.book(app, reception.BookReception(case_id=case_id, actor="petitioner",
                                                slot_id=slot_id))


def test_publish_list_book_and_read_back(app, settings, clock):
    slot_id = publish(app)
    publish(app, hours=72, unit=STREET, leader="李主任", mode="in_person")
    publish(app, hours=96, unit="QH-D02", leader="外区")
    with pytest.raises(InvalidCommand, match="already published"):
        publish(app)
    case_id = register_sample(app).case_id
    petition = app.get_petition(case_id)
    open_slots = reception.bookable(app, petition, clock.now())
    assert [(s.unit, s.leader) for s in open_slots] == [(DISTRICT, "王区长")]  # not QH-D02
    book(app, case_id, slot_id)
    fresh = build_application(settings, clock=clock)
    try:
        booking = fresh.get_petition(case_id).reception_booking
        slot = reception.find(fresh, slot_id)
    finally:
        fresh.close()
    assert booking is not None and booking.slot_id == str(slot_id)
    assert booking.leader == "王区长" and booking.mode.value == "video"
    assert slot is not None and slot.booked_by == case_id
    assert reception.bookable(app, app.get_petition(case_id), clock.now()) == []
    assert isinstance(app.events_of(case_id)[-1], ev.ReceptionBooked)


def test_a_taken_slot_is_refused_and_a_cancelled_one_is_free_again(app):
    slot_id = publish(app)
    first, second = (register_sample(app).case_id for _ in range(2))
    book(app, first, slot_id)
    version = app.get_petition(second).version
    with pytest.raises(SlotUnavailable, match="already booked"):
        book(app, second, slot_id)
    assert app.get_petition(second).version == version
    with pytest.raises(DomainError, match="already booked"):
        book(app, first, publish(app, hours=60))  # one booking at a time
    reception.cancel(app, reception.CancelReception(case_id=first, actor="petitioner",
                                                    reason="改期"))
    assert app.get_petition(first).reception_booking is None
    book(app, second, slot_id)
    assert reception.find(app, slot_id).booked_by == second


def test_the_loser_of_an_interleaved_race_appends_nothing(app, settings, clock):
    """Two instances decide on the same free slot; the second to save collides."""
    slot_id = publish(app)
    a, b = (register_sample(app).case_id for _ in range(2))
    other = build_application(settings, clock=clock)
    try:
        petition, slot = other.get_petition(b), reception.find(other, slot_id)
        at = clock.now()
        petition.book_reception(at=at, actor="p", slot_id=str(slot_id), unit=slot.unit,
                                leader=slot.leader, mode=slot.mode, starts_at=slot.starts_at,
                                org=other.org)
        slot.book(b, at, "p")
        book(app, a, slot_id)  # the first instance wins meanwhile
        before = other.recorder.max_notification_id()
        with pytest.raises(ConcurrentModification):
            other.save_case(petition, slot, cmd=reception.BookReception(
                case_id=b, actor="p", slot_id=slot_id))
        assert other.recorder.max_notification_id() == before
        assert other.get_petition(b).reception_booking is None
    finally:
        other.close()
    assert reception.find(app, slot_id).booked_by == a


def test_racing_threads_never_double_book(app, settings, clock):
    """Several instances book the same slots at once: each slot ends with exactly one
    booking, and every case that stored a booking holds a slot that names it."""
    instances = [build_application(settings, clock=clock) for _ in range(3)]
    try:
        slot_ids = [publish(app, hours=30 + n) for n in range(4)]
        cases = [register_sample(app).case_id for _ in range(len(instances))]
        for slot_id in slot_ids:
            barrier = threading.Barrier(len(instances))
            outcomes: list[str] = []

            def race(instance: PetitionApplication, case_id: UUID, slot_id: UUID = slot_id,
                     barrier: threading.Barrier = barrier, outcomes: list[str] = outcomes
                     ) -> None:
                barrier.wait()
                try:
                    book(instance, case_id, slot_id)
                    outcomes.append("booked")
                except (ConcurrentModification, SlotUnavailable):
                    outcomes.append("refused")

            threads = [threading.Thread(target=race, args=(i, cid))
                       for i, cid in zip(instances, cases, strict=True)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=60)
            assert sorted(outcomes) == ["booked", *["refused"] * (len(instances) - 1)]
            winner = reception.find(app, slot_id).booked_by
            for case_id in cases:  # free the winner for the next slot
                booking = app.get_petition(case_id).reception_booking
                assert (booking is not None) == (case_id == winner)
            reception.cancel(app, reception.CancelReception(case_id=winner, actor="p"))
    finally:
        for instance in instances:
            instance.close()


def test_a_reminder_goes_out_once_the_day_before(app, clock):
    slot_id = publish(app, hours=48)
    case_id = register_sample(app).case_id
    book(app, case_id, slot_id)
    phone = Phone()
    reminders = ReceptionReminders(app, phone)
    assert reminders.tick(clock.now()) == []  # 48 hours ahead: not yet
    clock.advance(timedelta(hours=25))
    assert reminders.tick(clock.now()) == [case_id]
    assert reminders.tick(clock.now()) == []
    ((number, text),) = phone.sent
    assert number == app.get_petition(case_id).petitioner.phone
    assert "视频接访" in text and "王区长" in text
    assert app.get_petition(case_id).reception_booking.reminded
    assert isinstance(app.events_of(case_id)[-1], ev.ReceptionReminded)


def test_the_reception_is_recorded_on_the_case(app, clock):
    slot_id = publish(app, hours=30)
    case_id = register_sample(app).case_id
    book(app, case_id, slot_id)
    clock.advance(timedelta(hours=30, minutes=10))
    app.execute(c.RecordReception(case_id=case_id, actor="intake", unit=DISTRICT,
                                  leader="王区长", mode="video", outcome="当场协调，限期解决"))
    app.execute(c.RecordReception(case_id=case_id, actor="intake", unit=CITY,
                                  leader="张副市长", outcome="接访日来访"))
    held = [e for e in app.events_of(case_id) if isinstance(e, ev.ReceptionHeld)]
    assert [(e.slot_id, e.leader) for e in held] == [(str(slot_id), "王区长"), (None, "张副市长")]
    petition = app.get_petition(case_id)
    assert petition.reception_booking is None and petition.receptions_held == 2
    with pytest.raises(InvalidCommand, match="does not receive"):
        app.execute(c.RecordReception(case_id=case_id, actor="intake", unit="QH-D02",
                                      leader="外区", outcome="x"))


def _answered(app: PetitionApplication, clock, case_id: UUID) -> None:
    run_steps(app, clock, case_id, until="answer")


ENDINGS = {  # every way out of the open statuses, from a case prepared for it
    "withdrawn": (lambda app, clock, cid: None, lambda cid: c.WithdrawPetition(
        case_id=cid, actor="petitioner", reason="已自行协商解决")),
    "declined": (lambda app, clock, cid: None, lambda cid: c.DeclinePetition(
        case_id=cid, actor="intake", reason="不属于信访事项", redirect_to="litigation")),
    "closed": (_answered, lambda cid: c.ClosePetition(case_id=cid, actor="closer",
                                                      summary="办结")),
}


@pytest.mark.parametrize("ending", sorted(ENDINGS))
def test_a_case_that_ends_frees_its_booked_slot(app, clock, ending):
    """A withdrawn, declined or closed case can never be received (record-reception needs an
    open case): its booking is cancelled in the same write and the slot is free again."""
    prepare, finish = ENDINGS[ending]
    case_id = register_sample(app).case_id
    prepare(app, clock, case_id)
    slot_id = publish(app, hours=24 * 12)
    book(app, case_id, slot_id)
    app.execute(finish(case_id))
    petition = app.get_petition(case_id)
    assert petition.status.value == ending and petition.reception_booking is None
    cancelled = app.events_of(case_id)[-1]
    assert isinstance(cancelled, ev.ReceptionCancelled) and cancelled.slot_id == str(slot_id)
    slot = reception.find(app, slot_id)
    assert slot is not None and slot.booked_by is None
    other = register_sample(app).case_id
    assert slot_id in {s.id for s in reception.bookable(app, app.get_petition(other),
                                                        clock.now())}
    book(app, other, slot_id)
    assert reception.find(app, slot_id).booked_by == other
