"""How a petition's events change what it is: the fold, and nothing else.

Handlers only assign what an event says; every rule lives with the commands in
``petition.py``. The read side advances the same aggregate, so this module is the one place
where the meaning of each stored event is written down.
"""

from __future__ import annotations

from collections.abc import Mapping
from copy import deepcopy
from dataclasses import replace
from datetime import date, datetime
from enum import Enum
from functools import singledispatchmethod
from types import MappingProxyType
from typing import Any, Self
from uuid import UUID

from domain import events as ev
from domain.deadlines import DERIVED, Deadline, DeadlineKind
from domain.proxy_chase_rules import PROXY_RUNGS
from domain.supervision_ladder import ESCALATION, rank
from domain.values import (
    Attachment,
    Booking,
    Channel,
    ConcludedDecision,
    DelegationMode,
    Entrustment,
    GroupMember,
    HandlingTrack,
    Location,
    Petitioner,
    Ratings,
    ReceptionMode,
    RedirectChannel,
    ReviewOutcome,
    Satisfaction,
    SpeedTrack,
    Status,
    SupervisionLevel,
)

# Values a Petition holds that never change in place (frozen dataclasses hold only such values).
_IMMUTABLE: frozenset[type] = frozenset({
    str, int, float, bool, type(None), UUID, datetime, date, Location, Petitioner, Ratings,
    Attachment, Entrustment, Booking, Deadline, GroupMember})


_SHARED: set[type] = set(_IMMUTABLE)
"""The immutable types, and the enum classes met so far (an enum member is a constant)."""


def _frozen(value: object) -> bool:
    """Whether ``value`` can never change in place: an immutable value, an enum member, or a
    tuple of such."""
    kind = type(value)
    if kind in _SHARED:
        return True
    if isinstance(value, Enum):
        _SHARED.add(kind)
        return True
    return kind is tuple and all(_frozen(item) for item in value)  # type: ignore[attr-defined]


def _copied(value: Any, memo: dict[int, Any]) -> Any:
    """``value`` as a copy of a case needs it: shared if it cannot change in place, a new
    container over the same items if only the container can (the deadlines by kind, the
    ladder's rungs), else a full deep copy."""
    if _frozen(value):
        return value
    kind = type(value)
    if kind is dict and all(_frozen(k) and _frozen(v) for k, v in value.items()):
        return value.copy()
    if kind is list and all(_frozen(item) for item in value):
        return value.copy()
    return deepcopy(value, memo)


class PetitionState:
    """The state of a petition, built by its events (a base of ``Petition``).

    Attributes added after the first release have a class-level default, so a snapshot taken
    before they existed still restores a complete state."""

    reviewed_by: str | None = None  # the unit that decided the review (复查)
    last_rung_at: datetime | None = None  # when the ladder's latest rung was issued (paces it)
    answer_delivered_at: datetime | None = None  # 送达 of the written answer
    opinion_delivered_at: datetime | None = None  # 送达 of the review opinion
    extension_used = False  # Art. 32: one extension per matter, reopening does not renew it
    extension_reason: str | None = None  # told to the petitioner (告知信访人延期理由)
    extended_at: datetime | None = None
    extension_granted_days = 0  # the matter's one extension, kept after a reopening
    # Each obligation's deadline as recorded by the event that started it, by kind (None: that
    # event owed none). A kind absent here is derived by the policy (events before version 2,
    # and snapshots taken before deadlines were recorded). Replaced whole, never changed in place.
    recorded_deadlines: Mapping[str, Deadline | None] = MappingProxyType({})
    attachments: tuple[Attachment, ...] = ()  # files handed in (附件), in the order added
    documents: tuple[Attachment, ...] = ()  # staff's files on the case (DocumentAttached)
    group_members: tuple[GroupMember, ...] = ()  # 集体访 / 联名: co-petitioners recorded
    entrustment: Entrustment | None = None  # the latest 委托书, in force or not
    proxy_contacts: dict[str, datetime] = {}  # replaced, never changed in place
    proxy_ladder: dict[str, int] = {}  # missed week's start → highest rung
    suggestion_count = 0
    open_suggestions: dict[int, tuple[str, datetime]] = {}  # number → unit, made
    concluded_flag: str | None = None  # the earlier case of a concluded matter, until decided
    concluded_decision: str | None = None
    reception_booking: Booking | None = None  # 领导接访 / 视频接访 booked and not yet held
    receptions_held = 0
    last_reception_at: datetime | None = None

    @property
    def current_obligation(self) -> str | None:
        """Which duty of a unit is running now, as ``kind@start``: the supervision ladder is
        climbed once per obligation, and a new one (e.g. after reopening) starts afresh."""
        start = {
            Status.REGISTERED: ("acceptance", self.received_at),
            Status.ACCEPTED: ("answer", self.handling_started_at),
            Status.IN_HANDLING: ("answer", self.handling_started_at),
            Status.UNDER_REVIEW: ("review_decision", self.review_requested_at),
            Status.UNDER_RE_REVIEW: ("re_review_decision", self.re_review_requested_at),
        }.get(self.status)
        if start is None or start[1] is None:
            return None
        return f"{start[0]}@{start[1].isoformat()}"

    @singledispatchmethod
    def when(self, event: Any) -> None:
        raise TypeError(f"Petition cannot apply {type(event).__name__}")

    def _moved(self, event: ev.PetitionEvent) -> None:
        self.last_at = event.at

    def _record(self, kind: DeadlineKind, deadline: ev.RecordedDeadline) -> None:
        """Keeps the deadline an event recorded for ``kind``; forgets it for a v1 event."""
        recorded = {k: d for k, d in self.recorded_deadlines.items() if k != kind}
        if deadline != DERIVED:
            recorded[kind.value] = deadline if isinstance(deadline, Deadline) else None
        self.recorded_deadlines = recorded

    @when.register(ev.Registered)
    def _(self, e: ev.Registered) -> None:
        self.status = Status.REGISTERED
        self.channel = Channel(e.channel)
        self.subject, self.content, self.category = e.subject, e.content, e.category
        self.location, self.petitioner = e.location, e.petitioner
        self.co_petitioners = e.co_petitioners
        self.received_by = self.holder = e.received_by
        self.responsible_unit: str | None = None
        self.delegation_mode: DelegationMode | None = None
        self.query_code_hash = e.query_code_hash
        self.received_at = self.last_at = e.at
        self.proxy_agent = e.proxy_agent
        self.proxy_contact_due_from = e.at if e.proxy_agent else None
        self.handling_track: HandlingTrack | None = None
        self.speed_track: SpeedTrack | None = None
        self.accepted_at: datetime | None = None
        self.handling_started_at: datetime | None = None
        self.extension_days = 0  # added to the current round's answer deadline
        self.extension_requested_days: int | None = None
        self.decline_reason: str | None = None
        self.redirect_to: RedirectChannel | None = None
        self.supervision_level: SupervisionLevel | None = None
        self.supervision_count = 0
        self.ladder: dict[str, int] = {}
        self.unsatisfied_pending = False
        self._clear_answer()
        self.review_requested_at: datetime | None = None
        self.review_decided_at: datetime | None = None
        self.review_outcome: ReviewOutcome | None = None
        self.re_review_requested_at: datetime | None = None
        self.re_review_decided_at: datetime | None = None
        self.re_review_outcome: ReviewOutcome | None = None
        self.closed_at: datetime | None = None
        self.reopen_count = 0
        self.recorded_deadlines = {}
        self._record(DeadlineKind.ACCEPTANCE, e.deadline)

    def _clear_answer(self) -> None:
        self.answer: str | None = None
        self.answered_by: str | None = None
        self.answered_at: datetime | None = None
        self.ratings: Ratings | None = None
        self.rated_at: datetime | None = None
        self.answer_delivered_at = None

    @when.register(ev.AttachmentAdded)
    def _(self, e: ev.AttachmentAdded) -> None:
        self.attachments = (*self.attachments,
                            Attachment(e.sha256, e.media_type, e.size, e.file_name))
        self._moved(e)  # a later file is a step like any other: nothing may be dated before it

    @when.register(ev.DocumentAttached)
    def _(self, e: ev.DocumentAttached) -> None:
        self.documents = (*self.documents,
                          Attachment(e.sha256, e.media_type, e.size, e.file_name))
        self._moved(e)

    @when.register(ev.Accepted)
    def _(self, e: ev.Accepted) -> None:
        self.status = Status.ACCEPTED
        self.handling_track = HandlingTrack(e.handling_track)
        self.speed_track = SpeedTrack(e.speed_track)
        self.accepted_at = self.handling_started_at = e.at
        self._record(DeadlineKind.ANSWER, e.deadline)
        self._moved(e)

    @when.register(ev.Declined)
    def _(self, e: ev.Declined) -> None:
        self.status = Status.DECLINED
        self.decline_reason, self.redirect_to = e.reason, RedirectChannel(e.redirect_to)
        self.closed_at = e.at
        self._moved(e)

    @when.register(ev.Delegated)
    def _(self, e: ev.Delegated) -> None:
        self.status = Status.IN_HANDLING
        self.responsible_unit, self.delegation_mode = e.unit, DelegationMode(e.mode)
        self._moved(e)

    @when.register(ev.Escalated)
    def _(self, e: ev.Escalated) -> None:
        if e.rule:  # the ladder's own escalation; a staff escalation leaves the ladder running
            self._climbed(rank(ESCALATION), e.at)
        self.status = Status.IN_HANDLING
        self.holder = self.responsible_unit = e.to_unit
        self._moved(e)

    @when.register(ev.ExtensionRequested)
    def _(self, e: ev.ExtensionRequested) -> None:
        self.extension_requested_days = e.days
        self._moved(e)

    @when.register(ev.DeadlineExtended)
    def _(self, e: ev.DeadlineExtended) -> None:
        self.extension_days += e.days
        self.extension_used = True
        self.extension_reason, self.extended_at = e.reason, e.at
        self.extension_granted_days = e.days
        self.extension_requested_days = None
        self._record(DeadlineKind.ANSWER, e.deadline)
        self._moved(e)

    def _climbed(self, rung_rank: int, at: datetime) -> None:
        key = self.current_obligation
        if key is not None:
            self.ladder[key] = max(self.ladder.get(key, -1), rung_rank)
            self.last_rung_at = at

    @when.register(ev.SupervisionIssued)
    def _(self, e: ev.SupervisionIssued) -> None:
        self._climbed(rank(e.level), e.at)
        self.supervision_level = SupervisionLevel(e.level)
        self.supervision_count += 1
        self._moved(e)

    @when.register(ev.EntrustmentSigned)
    def _(self, e: ev.EntrustmentSigned) -> None:
        self.entrustment = Entrustment(e.agent, e.form, e.grid, tuple(e.scope), e.at,
                                       e.valid_until)
        self._moved(e)

    @when.register(ev.EntrustmentRevoked)
    def _(self, e: ev.EntrustmentRevoked) -> None:
        if self.entrustment is not None:
            self.entrustment = replace(self.entrustment, revoked_at=e.at)
        if self.proxy_agent == e.agent:  # the proxy ends with its entrustment
            self.proxy_agent = self.proxy_contact_due_from = None
        self._moved(e)

    @when.register(ev.ProxyAssigned)
    def _(self, e: ev.ProxyAssigned) -> None:
        self.proxy_agent = e.agent
        self.proxy_contact_due_from = e.at
        self.proxy_contacts = {}
        self._moved(e)

    @when.register(ev.ProxyContactLogged)
    def _(self, e: ev.ProxyContactLogged) -> None:
        self.proxy_contacts = {**self.proxy_contacts, e.mode: e.at}
        self._moved(e)

    @when.register(ev.ProxyContactChased)
    def _(self, e: ev.ProxyContactChased) -> None:
        key = e.since.isoformat()
        self.proxy_ladder = {**self.proxy_ladder, key: max(self.proxy_ladder.get(key, -1),
                                                           PROXY_RUNGS.index(e.rung))}
        self._moved(e)

    @when.register(ev.SuggestionMade)
    def _(self, e: ev.SuggestionMade) -> None:
        self.suggestion_count = e.number
        self.open_suggestions = {**self.open_suggestions, e.number: (e.unit, e.at)}
        self._moved(e)

    @when.register(ev.SuggestionResponded)
    def _(self, e: ev.SuggestionResponded) -> None:
        self.open_suggestions = {n: s for n, s in self.open_suggestions.items() if n != e.number}
        self._moved(e)

    @when.register(ev.CoPetitionerAdded)
    def _(self, e: ev.CoPetitionerAdded) -> None:
        self.group_members = (*self.group_members, GroupMember(e.co_petitioner, e.representative))
        self.co_petitioners = max(self.co_petitioners, len(self.group_members))
        self._moved(e)

    @when.register(ev.ReceptionBooked)
    def _(self, e: ev.ReceptionBooked) -> None:
        self.reception_booking = Booking(e.slot_id, e.unit, e.leader, ReceptionMode(e.mode),
                                         e.starts_at)
        self._moved(e)

    @when.register(ev.ReceptionCancelled)
    def _(self, e: ev.ReceptionCancelled) -> None:
        self.reception_booking = None
        self._moved(e)

    @when.register(ev.ReceptionReminded)
    def _(self, e: ev.ReceptionReminded) -> None:
        if self.reception_booking is not None:
            self.reception_booking = replace(self.reception_booking, reminded=True)
        self._moved(e)

    @when.register(ev.ReceptionHeld)
    def _(self, e: ev.ReceptionHeld) -> None:
        if self.reception_booking is not None and e.slot_id == self.reception_booking.slot_id:
            self.reception_booking = None
        self.receptions_held += 1
        self.last_reception_at = e.at
        self._moved(e)

    @when.register(ev.Answered)
    def _(self, e: ev.Answered) -> None:
        self.status = Status.ANSWERED
        self.answer, self.answered_by, self.answered_at = e.answer, e.unit, e.at
        self._record(DeadlineKind.REVIEW_REQUEST, e.deadline)
        self._moved(e)

    @when.register(ev.Delivered)
    def _(self, e: ev.Delivered) -> None:
        if e.document == "answer":
            self.answer_delivered_at = e.at
            self._record(DeadlineKind.REVIEW_REQUEST, e.deadline)
        else:
            self.opinion_delivered_at = e.at
            self._record(DeadlineKind.RE_REVIEW_REQUEST, e.deadline)
        self._moved(e)

    @when.register(ev.Rated)
    def _(self, e: ev.Rated) -> None:
        self.ratings = Ratings(
            Satisfaction(e.attitude), Satisfaction(e.efficiency), Satisfaction(e.quality)
        )
        self.rated_at = e.at
        self.unsatisfied_pending = self.ratings.unsatisfied
        self._moved(e)

    @when.register(ev.AnswerConfirmed)
    def _(self, e: ev.AnswerConfirmed) -> None:
        self.unsatisfied_pending = False
        self._moved(e)

    @when.register(ev.ReviewRequested)
    def _(self, e: ev.ReviewRequested) -> None:
        self.status = Status.UNDER_REVIEW
        self.review_requested_at = e.at
        self._record(DeadlineKind.REVIEW_DECISION, e.deadline)
        self._moved(e)

    @when.register(ev.ReviewDecided)
    def _(self, e: ev.ReviewDecided) -> None:
        self.status = Status.REVIEWED
        self.review_decided_at, self.review_outcome = e.at, ReviewOutcome(e.outcome)
        self.reviewed_by = e.unit
        self._record(DeadlineKind.RE_REVIEW_REQUEST, e.deadline)
        self._moved(e)

    @when.register(ev.ReReviewRequested)
    def _(self, e: ev.ReReviewRequested) -> None:
        self.status = Status.UNDER_RE_REVIEW
        self.re_review_requested_at = e.at
        self._record(DeadlineKind.RE_REVIEW_DECISION, e.deadline)
        self._moved(e)

    @when.register(ev.ReReviewDecided)
    def _(self, e: ev.ReReviewDecided) -> None:
        self.status = Status.RE_REVIEWED
        self.re_review_decided_at, self.re_review_outcome = e.at, ReviewOutcome(e.outcome)
        self._moved(e)

    @when.register(ev.Closed)
    def _(self, e: ev.Closed) -> None:
        self.status = Status.CLOSED
        self.closed_at = e.at
        self._moved(e)

    @when.register(ev.Reopened)
    def _(self, e: ev.Reopened) -> None:
        self.status = Status.IN_HANDLING
        self.handling_started_at = e.at
        self.extension_days = 0  # the new round's own deadline; the allowance stays used
        self.extension_requested_days = None
        self.closed_at = None
        self.reopen_count += 1
        self.unsatisfied_pending = False
        self._clear_answer()
        self._record(DeadlineKind.ANSWER, e.deadline)
        self._record(DeadlineKind.REVIEW_REQUEST, None)  # the new answer records its own
        self._moved(e)

    @when.register(ev.DeadlineRevised)
    def _(self, e: ev.DeadlineRevised) -> None:
        self._record(DeadlineKind(e.deadline.kind), e.deadline)
        self._moved(e)

    @when.register(ev.ConcludedMatterFlagged)
    def _(self, e: ev.ConcludedMatterFlagged) -> None:
        self.concluded_flag = e.earlier_case
        self._moved(e)

    @when.register(ev.ConcludedMatterDecided)
    def _(self, e: ev.ConcludedMatterDecided) -> None:
        self.concluded_flag, self.concluded_decision = None, e.decision
        if e.decision == ConcludedDecision.DECLINE_CONCLUDED:
            self.status = Status.DECLINED
            self.decline_reason, self.redirect_to = e.reason, RedirectChannel.NONE
            self.closed_at = e.at
        self._moved(e)

    @when.register(ev.Withdrawn)
    def _(self, e: ev.Withdrawn) -> None:
        self.status = Status.WITHDRAWN
        self.closed_at = e.at
        self._moved(e)

    _handler_for = staticmethod(when.dispatcher.dispatch)

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        """The copy a command gets from the repository's cache, without ``copy.deepcopy``'s
        walk over every value: values that cannot change in place are shared, containers of
        such values (the deadlines by kind, the ladder) are copied shallowly, anything else
        (any mutable attribute added later) is deep-copied."""
        twin = object.__new__(type(self))
        memo[id(self)] = twin
        state = self.__dict__.copy()
        for name, value in state.items():
            if type(value) not in _SHARED:
                state[name] = _copied(value, memo)
        twin.__dict__.update(state)
        return twin

    def fold(self, event: ev.PetitionEvent) -> None:
        """Applies one event: ``when`` without singledispatchmethod's per-call wrapper, which
        costs more than most handlers when a projection folds a hundred thousand events."""
        self._handler_for(type(event))(self, event)
