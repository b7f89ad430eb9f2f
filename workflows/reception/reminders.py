"""Reminders of booked receptions: a text to the petitioner's phone the day before.

Run after each supervision tick. Which bookings were reminded is part of the case
(``ReceptionReminded``), so a reminder goes out once per booking; the text is sent before the
event is written, so a crash in between sends it again rather than never (at least once).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import structlog

from domain.errors import DomainError
from workflows.application import PetitionApplication
from workflows.commands import RemindReception
from workflows.errors import ConcurrentModification
from workflows.notifier import Notifier
from workflows.reception.slots import slots

log = structlog.get_logger("reception")
ACTOR = "system:reception-reminders"
LEAD = timedelta(hours=24)
MODES = {"video": "视频接访", "in_person": "领导接访"}


class ReceptionReminders:
    def __init__(self, app: PetitionApplication, notifier: Notifier, lead: timedelta = LEAD):
        self.app, self.notifier, self.lead = app, notifier, lead

    def tick(self, now: datetime) -> list[UUID]:
        """Reminds every booking of a slot starting within ``lead``; returns the cases."""
        done = []
        for slot in slots(self.app, None, now, now + self.lead):
            if slot.booked_by is not None and self._remind(slot.booked_by, str(slot.id), now):
                done.append(slot.booked_by)
        return done

    def _remind(self, case_id: UUID, slot_id: str, now: datetime) -> bool:
        petition = self.app.get_petition(case_id)
        booking = petition.reception_booking
        if booking is None or booking.slot_id != slot_id or booking.reminded:
            return False
        local = booking.starts_at.astimezone(self.app.policy.zone)
        self.notifier.send(petition.petitioner.phone,
                           f"【信访】您预约的{MODES[booking.mode.value]}（{booking.leader}）"
                           f"将于 {local:%Y-%m-%d %H:%M} 开始，请准时参加。")
        try:
            self.app.execute(RemindReception(case_id=case_id, actor=ACTOR, slot_id=slot_id,
                                             at=max(now, petition.last_at)))
        except (DomainError, ConcurrentModification):
            log.info("reception.reminder_not_recorded", case_id=str(case_id))
            return False
        log.info("reception.reminded", case_id=str(case_id))
        return True
