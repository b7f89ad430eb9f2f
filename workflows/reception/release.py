"""Freeing the slot of a cancelled booking, in the write that cancels it.

Whatever cancels a booking — the petitioner's cancel-reception, or the case ending (withdrawn,
declined, closed: ``Petition._end_booking``) — leaves a ``ReceptionCancelled`` among the case's
pending events; the application saves the slot released here with the case, in one
transaction, so a slot is never left taken by a case that can no longer be received.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Repository

from domain import events as ev
from domain.petition import Petition
from domain.reception_slot import ReceptionSlot


def released_slots(repository: Repository[UUID], petition: Petition) -> list[Any]:
    """The slots this case's pending cancellations free (each released, not yet saved)."""
    released = []
    for event in petition.pending_events:
        if not isinstance(event, ev.ReceptionCancelled):
            continue
        try:
            slot: object = repository.get(UUID(event.slot_id))
        except (AggregateNotFoundError, ValueError):
            continue
        if isinstance(slot, ReceptionSlot) and slot.booked_by == petition.id:
            slot.release(petition.id, event.at, event.actor, event.reason)
            released.append(slot)
    return released
