"""The petition's events: facts in the past tense, the only thing ever stored.

Every event carries the business time ``at`` (when it happened in the world, e.g. the day a
letter arrived) and the ``actor`` (who did it), besides the library's ``timestamp`` (when it
was recorded). Enumerated values are stored as their string values (see ``values.py``) so
the stored JSON is plain and stable. Changing an event's fields means raising its
``class_version`` and adding an ``upcast_vN_vN+1`` static method (see docs/events.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eventsourcing.domain import Aggregate

from domain.deadlines import DERIVED, Deadline
from domain.values import Location, Petitioner

RecordedDeadline = Deadline | str | None
"""The deadline an event starts: a ``Deadline``; None when it starts none (e.g. an answer on a
track without review); ``DERIVED`` when the event was written before version 2."""


class StartsDeadline:
    """Mixin of the events that start an obligation and, from version 2, record its deadline."""

    class_version = 2  # 2: deadline

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["deadline"] = DERIVED  # not recorded before version 2: derived when read


class PetitionEvent(Aggregate.Event):
    """Base of every petition event after registration."""

    at: datetime
    actor: str

    def apply(self, aggregate: Any) -> None:
        aggregate.fold(self)


class Registered(StartsDeadline, PetitionEvent, Aggregate.Created):
    """登记: the petition was received and registered."""

    channel: str
    subject: str
    content: str
    category: str
    location: Location
    petitioner: Petitioner
    co_petitioners: int
    received_by: str
    proxy_agent: str | None
    query_code_hash: str
    deadline: RecordedDeadline  # v2: the deadline this event starts (see StartsDeadline)


class AttachmentAdded(PetitionEvent):
    """附件: a file (image or PDF) was handed in with the petition; the bytes live in the blob
    store under ``sha256``, the name is personal data (redacted like the petitioner)."""

    sha256: str
    media_type: str
    size: int
    file_name: str


class DocumentAttached(PetitionEvent):
    """附件（工作人员）: staff put a file on the case — the written reply (答复意见书), a scanned
    letter, an investigation record. The bytes live in the blob store under ``sha256``; the
    file is for staff (the petitioner's pages do not list it), its name is personal data."""

    sha256: str
    media_type: str
    size: int
    file_name: str


class Accepted(StartsDeadline, PetitionEvent):
    """受理: the petition is a petition matter and will be handled."""

    handling_track: str
    speed_track: str
    deadline: RecordedDeadline  # v2: the deadline this event starts (see StartsDeadline)


class Declined(PetitionEvent):
    """不予受理: not accepted; the petitioner is told which legal channel to use."""

    reason: str
    redirect_to: str


class Delegated(PetitionEvent):
    """交办/转办: a responsible unit must handle the case."""

    unit: str
    mode: str
    note: str


class Escalated(PetitionEvent):
    """The case moved up to a higher-level unit, which now holds it."""

    class_version = 2  # 2: due_at

    from_unit: str
    to_unit: str
    reason: str
    rule: str | None
    due_at: datetime | None  # when the ladder's rung was due (None: by hand, or before v2)

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["due_at"] = None  # not recorded before version 2


class ExtensionRequested(PetitionEvent):
    """延期申请: the responsible unit asked for more time; a supervisor decides."""

    days: int
    reason: str


class DeadlineExtended(StartsDeadline, PetitionEvent):
    """延期: the answer deadline was extended, once per handling round."""

    days: int
    reason: str
    approved_by: str
    deadline: RecordedDeadline  # v2: the deadline this event starts (see StartsDeadline)


class SupervisionIssued(PetitionEvent):
    """督办: a rung of the 三函一约谈 ladder was issued to the obligated unit."""

    class_version = 2  # 2: due_at

    level: str
    unit: str
    reason: str
    rule: str | None
    due_at: datetime | None  # when the rung was due; ``at`` is when it was issued

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["due_at"] = None  # not recorded before version 2


class EntrustmentSigned(PetitionEvent):
    """签订委托书: the petitioner entrusted a registered agent, in one of the three forms, for
    the grid where the petitioner lives, for ``scope``, from ``at`` until ``valid_until``."""

    agent: str
    form: str
    grid: str
    scope: list[str]
    valid_until: datetime


class EntrustmentRevoked(PetitionEvent):
    """The petitioner (or staff for the petitioner) revoked the entrustment; the proxy ends."""

    agent: str
    reason: str


class ProxyAssigned(PetitionEvent):
    """启动代办: the entrusted agent (代办员) started following the case for the petitioner."""

    agent: str


class ProxyContactLogged(PetitionEvent):
    """The proxy agent met or called the petitioner."""

    agent: str
    mode: str
    note: str


class CoPetitionerAdded(PetitionEvent):
    """集体访 / 联名: one more petitioner joined the matter (at registration or later); the
    group is then a group petition, flagged for leadership attention."""

    co_petitioner: Petitioner  # personal data: encrypted at rest, redacted on every feed
    representative: bool  # one of the group's representatives (at most five, Art. 20)
class ProxyContactChased(PetitionEvent):
    """A missed weekly meeting was chased: a reminder to the agent, then a notice to the
    community above the petitioner's grid."""

    rung: str
    addressee: str
    since: datetime  # the start of the missed week: the obligation this rung belongs to
    rule: str | None
    due_at: datetime | None


class SuggestionMade(PetitionEvent):
    """三项建议权: the 信访 department addressed a suggestion to a unit (improve its work, improve
    a policy, hold someone accountable); tracked until the unit responds."""

    number: int
    kind: str
    unit: str
    text: str


class SuggestionResponded(PetitionEvent):
    """The addressed unit responded to suggestion ``number``."""

    number: int
    unit: str
    response: str


class ReceptionBooked(PetitionEvent):
    """The petitioner booked a leader's reception (领导接访日) or a video reception (视频接访)."""

    slot_id: str
    unit: str
    leader: str
    mode: str
    starts_at: datetime


class ReceptionCancelled(PetitionEvent):
    """The booking was cancelled (by the petitioner with the query code, or staff); the slot
    is free again."""

    slot_id: str
    reason: str


class ReceptionReminded(PetitionEvent):
    """The reminder of the booked reception went to the petitioner's phone (notifier)."""

    slot_id: str


class ReceptionHeld(PetitionEvent):
    """接访: a leader received the petitioner — who, when (``at``) and with what outcome."""

    slot_id: str | None  # the booking it honoured; None for a walk-in on a reception day
    unit: str
    leader: str
    mode: str
    outcome: str


class Answered(StartsDeadline, PetitionEvent):
    """答复: the responsible unit gave its written answer."""

    unit: str
    answer: str
    deadline: RecordedDeadline  # v2: the deadline this event starts (see StartsDeadline)


class Delivered(StartsDeadline, PetitionEvent):
    """送达: the written answer (``document`` answer) or review opinion (review_opinion)
    reached the petitioner; the petitioner's window to ask for the next step runs from it."""

    document: str
    channel: str
    deadline: RecordedDeadline  # v2: the deadline this event starts (see StartsDeadline)


class Rated(PetitionEvent):
    """网上评: the petitioner rated the answer on three dimensions."""

    attitude: str
    efficiency: str
    quality: str
    comment: str


class AnswerConfirmed(PetitionEvent):
    """A supervisor reviewed an unsatisfied rating and stood by the answer."""

    reason: str


class ReviewRequested(StartsDeadline, PetitionEvent):
    """复查申请: the petitioner asked the higher level to review the answer."""

    reason: str
    deadline: RecordedDeadline  # v2: the deadline this event starts (see StartsDeadline)


class ReviewDecided(StartsDeadline, PetitionEvent):
    """复查意见: the reviewing unit decided."""

    unit: str
    outcome: str
    opinion: str
    deadline: RecordedDeadline  # v2: the deadline this event starts (see StartsDeadline)


class ReReviewRequested(StartsDeadline, PetitionEvent):
    """复核申请: the petitioner asked for a re-review of the review decision."""

    reason: str
    deadline: RecordedDeadline  # v2: the deadline this event starts (see StartsDeadline)


class ReReviewDecided(PetitionEvent):
    """复核意见: the final decision; the matter is concluded (终结)."""

    unit: str
    outcome: str
    opinion: str


class Closed(PetitionEvent):
    """办结: the case is closed."""

    summary: str


class Reopened(StartsDeadline, PetitionEvent):
    """The case went back to its responsible unit with a new answer deadline."""

    reason: str
    deadline: RecordedDeadline  # v2: the deadline this event starts (see StartsDeadline)


class DeadlineRevised(PetitionEvent):
    """An open obligation's recorded deadline replaced by what the policy in force gives
    (``petition deadlines revise``): the operator's explicit decision, with its reason."""

    deadline: Deadline
    previous: Deadline  # the recorded deadline it replaces
    reason: str


class ConcludedMatterFlagged(PetitionEvent):
    """At registration: the same petitioner brought the same matter, already concluded in
    ``earlier_case`` (不再受理 suggested); intake must decide before accepting."""

    earlier_case: str


class ConcludedMatterDecided(PetitionEvent):
    """Intake decided on the flag: ``accept_anyway`` (handled as new) or
    ``decline_concluded`` (不再受理: the case is declined, naming the earlier case)."""

    earlier_case: str
    decision: str
    reason: str


class Withdrawn(PetitionEvent):
    """撤回: the petitioner withdrew the petition."""

    reason: str


ALL_EVENTS: tuple[type[Aggregate.Event], ...] = (
    Registered,
    AttachmentAdded,
    Accepted,
    Declined,
    Delegated,
    Escalated,
    ExtensionRequested,
    DeadlineExtended,
    SupervisionIssued,
    EntrustmentSigned,
    EntrustmentRevoked,
    ProxyAssigned,
    ProxyContactLogged,
    CoPetitionerAdded,
    ProxyContactChased,
    SuggestionMade,
    SuggestionResponded,
    ReceptionBooked,
    ReceptionCancelled,
    ReceptionReminded,
    ReceptionHeld,
    Answered,
    Delivered,
    Rated,
    AnswerConfirmed,
    ReviewRequested,
    ReviewDecided,
    ReReviewRequested,
    ReReviewDecided,
    Closed,
    Reopened,
    Withdrawn,
    DeadlineRevised,
    ConcludedMatterFlagged,
    ConcludedMatterDecided,
)
