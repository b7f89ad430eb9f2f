"""An appointment slot of a leader's reception (领导接访日) or video reception (视频接访).

Each slot is an aggregate of its own, with a uuid5 id of (unit, leader, start): publishing the
same slot twice collides on the store's uniqueness check, and a booking appends to the slot
in the same transaction as the case's ``ReceptionBooked``, so two petitioners racing for one
slot collide on the slot's version and only one booking is ever stored. Bookings of different
slots never contend. The commands check first and then call the private ``@event`` methods,
so replaying a slot never re-runs today's rules.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate, event

from domain.errors import InvalidCommand
from domain.values import ReceptionMode

NAMESPACE = uuid5(NAMESPACE_URL, "petition-engine/reception-slot")
MAX_LENGTH = timedelta(hours=12)


class SlotUnavailable(InvalidCommand):
    """The slot is taken, over, or not this case's to release."""


class ReceptionSlot(Aggregate):
    @staticmethod
    def create_id(unit: str, leader: str, starts_at: datetime) -> UUID:
        return uuid5(NAMESPACE, f"{unit}\x1f{leader}\x1f{starts_at.isoformat()}")

    @classmethod
    def publish(cls, *, unit: str, leader: str, starts_at: datetime, ends_at: datetime,
                mode: ReceptionMode, place: str, at: datetime, actor: str) -> ReceptionSlot:
        """Staff publish a slot; it must lie ahead, last at most 12 hours, name a leader."""
        if starts_at.tzinfo is None or ends_at.tzinfo is None:
            raise InvalidCommand("a slot's times must carry a timezone")
        if not starts_at < ends_at <= starts_at + MAX_LENGTH:
            raise InvalidCommand("a slot ends after it starts, within 12 hours")
        if starts_at <= at:
            raise InvalidCommand("a slot is published before it starts")
        if not leader.strip():
            raise InvalidCommand("a slot names the leader who receives")
        return cls._create(cls.Published, id=cls.create_id(unit, leader.strip(), starts_at),
                           unit=unit, leader=leader.strip(), starts_at=starts_at,
                           ends_at=ends_at, mode=ReceptionMode(mode).value, place=place,
                           at=at, actor=actor)

    class Published(Aggregate.Created):
        unit: str
        leader: str
        starts_at: datetime
        ends_at: datetime
        mode: str
        place: str
        at: datetime
        actor: str

    def __init__(self, *, unit: str, leader: str, starts_at: datetime, ends_at: datetime,
                 mode: str, place: str, at: datetime, actor: str):
        self.unit, self.leader, self.place = unit, leader, place
        self.starts_at, self.ends_at = starts_at, ends_at
        self.mode = ReceptionMode(mode)
        self.published_at, self.published_by = at, actor
        self.booked_by: UUID | None = None

    # ------------------------------------------------------------------ commands
    def book(self, case_id: UUID, at: datetime, actor: str) -> None:
        if self.booked_by is not None:
            raise SlotUnavailable("this slot is already booked")
        if at >= self.starts_at:
            raise SlotUnavailable("this slot has already started")
        self._booked(case_id=case_id, at=at, actor=actor)

    def release(self, case_id: UUID, at: datetime, actor: str, reason: str) -> None:
        if self.booked_by != case_id:
            raise SlotUnavailable("this slot is not booked for this case")
        self._released(case_id=case_id, at=at, actor=actor, reason=reason)

    # ------------------------------------------------------------------ events
    @event("Booked")
    def _booked(self, case_id: UUID, at: datetime, actor: str) -> None:
        self.booked_by = case_id

    @event("Released")
    def _released(self, case_id: UUID, at: datetime, actor: str, reason: str) -> None:
        self.booked_by = None

    def is_open(self, now: datetime) -> bool:
        return self.booked_by is None and now < self.starts_at
