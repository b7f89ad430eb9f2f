"""The Petition aggregate (信访事项): one case, its whole lifecycle as events.

Commands (public methods) check every rule first and only then trigger an event, so a refused
command leaves no trace. Event handlers (``when``) only change state: replaying old events
never re-runs today's rules, so changing the policy file cannot break history.
"""

from __future__ import annotations

from copy import deepcopy
from datetime import date, datetime
from enum import Enum
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import events as ev
from domain.deadlines import Deadline, DeadlinePolicy
from domain.errors import IllegalTransition, InvalidCommand
from domain.lifecycle import ALLOWED, allowed_commands
from domain.snapshots import PetitionSnapshot
from domain.supervision_ladder import ESCALATION, rank
from domain.units import OrgChart, UnitLevel
from domain.values import (
    Channel,
    ContactMode,
    DelegationMode,
    HandlingTrack,
    Location,
    Petitioner,
    Ratings,
    RedirectChannel,
    ReviewOutcome,
    Satisfaction,
    SpeedTrack,
    Status,
    SupervisionLevel,
)

# Values a Petition holds that never change in place (frozen dataclasses hold only such values).
_IMMUTABLE = frozenset({str, int, float, bool, type(None), UUID, datetime, date, Location,
                        Petitioner, Ratings})


def _text(name: str, value: str) -> str:
    if not value or not value.strip():
        raise InvalidCommand(f"{name} must not be blank")
    return value.strip()


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidCommand("business time 'at' must carry a timezone")
    return at


def check_location(org: OrgChart, location: Location) -> None:
    """District must be a district unit; a street must be a street of that district."""
    if org.get(location.district).level is not UnitLevel.DISTRICT:
        raise InvalidCommand(f"location district '{location.district}' is not a district")
    if location.street is not None:
        street = org.get(location.street)
        if street.level is not UnitLevel.STREET or street.parent != location.district:
            raise InvalidCommand(
                f"location street '{location.street}' is not a street of '{location.district}'"
            )
    if location.lat is not None and not -90 <= location.lat <= 90:
        raise InvalidCommand("latitude must be within [-90, 90]")
    if location.lon is not None and not -180 <= location.lon <= 180:
        raise InvalidCommand("longitude must be within [-180, 180]")


class Petition(Aggregate):
    """A citizen's petition, from registration to closure, review and re-review."""

    Snapshot = PetitionSnapshot  # restores enums and value objects (see snapshots.py)

    # ------------------------------------------------------------------ commands
    @classmethod
    def register(
        cls,
        *,
        case_id: UUID,
        at: datetime,
        actor: str,
        channel: Channel,
        subject: str,
        content: str,
        category: str,
        location: Location,
        petitioner: Petitioner,
        co_petitioners: int,
        received_by: str,
        proxy_agent: str | None,
        query_code_hash: str,
        org: OrgChart,
    ) -> Petition:
        org.get(received_by)
        check_location(org, location)
        if co_petitioners < 0:
            raise InvalidCommand("co_petitioners must not be negative")
        for name, value in vars(petitioner).items():
            _text(f"petitioner {name}", value)
        return cls._create(
            ev.Registered,
            id=case_id,
            at=_aware(at),
            actor=_text("actor", actor),
            channel=Channel(channel).value,
            subject=_text("subject", subject),
            content=_text("content", content),
            category=_text("category", category),
            location=location,
            petitioner=petitioner,
            co_petitioners=co_petitioners,
            received_by=received_by,
            proxy_agent=proxy_agent.strip() if proxy_agent and proxy_agent.strip() else None,
            query_code_hash=_text("query_code_hash", query_code_hash),
        )

    def accept(
        self, *, at: datetime, actor: str, handling_track: HandlingTrack, speed_track: SpeedTrack
    ) -> None:
        self._check("accept", at)
        self._emit(
            ev.Accepted,
            at,
            actor,
            handling_track=HandlingTrack(handling_track).value,
            speed_track=SpeedTrack(speed_track).value,
        )

    def decline(
        self, *, at: datetime, actor: str, reason: str, redirect_to: RedirectChannel
    ) -> None:
        self._check("decline", at)
        self._emit(
            ev.Declined,
            at,
            actor,
            reason=_text("reason", reason),
            redirect_to=RedirectChannel(redirect_to).value,
        )

    def delegate(
        self,
        *,
        at: datetime,
        actor: str,
        unit: str,
        mode: DelegationMode,
        note: str,
        org: OrgChart,
    ) -> None:
        self._check("delegate", at)
        if not org.is_within(unit, self.holder):
            self._refuse("delegate", f"unit '{unit}' is outside the jurisdiction of '{self.holder}'")
        if unit == self.responsible_unit:
            self._refuse("delegate", f"the case is already with '{unit}'")
        self._emit(ev.Delegated, at, actor, unit=unit, mode=DelegationMode(mode).value, note=note)

    def escalate(
        self,
        *,
        at: datetime,
        actor: str,
        unit: str,
        reason: str,
        org: OrgChart,
        rule: str | None = None,
    ) -> None:
        self._check("escalate", at)
        current = self.responsible_unit or self.holder
        org.get(unit)
        if unit not in org.ancestors(current):
            self._refuse("escalate", f"unit '{unit}' is not above '{current}'")
        if not org.is_within(self.holder, unit):
            self._refuse("escalate", f"'{unit}' lies within the jurisdiction of '{self.holder}', "
                                     "which holds the case: delegate to it instead")
        self._emit(
            ev.Escalated,
            at,
            actor,
            from_unit=current,
            to_unit=unit,
            reason=_text("reason", reason),
            rule=rule,
        )

    def request_extension(
        self, *, at: datetime, actor: str, days: int, reason: str, policy: DeadlinePolicy
    ) -> None:
        self._check("extend-request", at)
        if self.extended_this_round:
            self._refuse("extend-request", "the deadline was already extended once")
        if self.extension_requested_days is not None:
            self._refuse("extend-request", "an extension request is already pending")
        self._check_extension_days(days, policy)
        self._emit(ev.ExtensionRequested, at, actor, days=days, reason=_text("reason", reason))

    def extend_deadline(
        self, *, at: datetime, actor: str, days: int, reason: str, approved_by: str,
        policy: DeadlinePolicy,
    ) -> None:
        self._check("extend", at)
        if self.extended_this_round:
            self._refuse("extend", "the deadline was already extended once")
        self._check_extension_days(days, policy)
        self._emit(
            ev.DeadlineExtended,
            at,
            actor,
            days=days,
            reason=_text("reason", reason),
            approved_by=_text("approved_by", approved_by),
        )

    def supervise(
        self, *, at: datetime, actor: str, level: SupervisionLevel, reason: str,
        rule: str | None = None,
    ) -> None:
        self._check("supervise", at)
        self._emit(
            ev.SupervisionIssued,
            at,
            actor,
            level=SupervisionLevel(level).value,
            unit=self.obligated_unit,
            reason=_text("reason", reason),
            rule=rule,
        )

    def assign_proxy(self, *, at: datetime, actor: str, agent: str) -> None:
        self._check("assign-proxy", at)
        if agent == self.proxy_agent:
            self._refuse("assign-proxy", f"'{agent}' already follows this case")
        self._emit(ev.ProxyAssigned, at, actor, agent=_text("agent", agent))

    def log_proxy_contact(
        self, *, at: datetime, actor: str, agent: str, mode: ContactMode, note: str
    ) -> None:
        self._check("log-proxy-contact", at)
        if self.proxy_agent is None:
            self._refuse("log-proxy-contact", "no proxy agent follows this case")
        if agent != self.proxy_agent:
            raise InvalidCommand(f"'{agent}' is not the proxy agent of this case")
        self._emit(ev.ProxyContactLogged, at, actor, agent=agent, mode=ContactMode(mode).value,
                   note=note)

    def answer_petition(self, *, at: datetime, actor: str, unit: str, answer: str) -> None:
        self._check("answer", at)
        if unit != self.responsible_unit:
            raise InvalidCommand(
                f"only the responsible unit '{self.responsible_unit}' may answer, not '{unit}'"
            )
        self._emit(ev.Answered, at, actor, unit=unit, answer=_text("answer", answer))

    def rate(
        self, *, at: datetime, actor: str, attitude: Satisfaction, efficiency: Satisfaction,
        quality: Satisfaction, comment: str = "",
    ) -> None:
        self._check("rate", at)
        if self.answered_at is None:
            self._refuse("rate", "there is no answer to rate")
        if self.ratings is not None:
            self._refuse("rate", "this answer was already rated")
        self._emit(
            ev.Rated,
            at,
            actor,
            attitude=Satisfaction(attitude).value,
            efficiency=Satisfaction(efficiency).value,
            quality=Satisfaction(quality).value,
            comment=comment,
        )

    def confirm_answer(self, *, at: datetime, actor: str, reason: str) -> None:
        """Closes the loop on an unsatisfied rating without reopening the case."""
        self._check("confirm-answer", at)
        if not self.unsatisfied_pending:
            self._refuse("confirm-answer", "no unsatisfied rating awaits a decision")
        self._emit(ev.AnswerConfirmed, at, actor, reason=_text("reason", reason))

    def request_review(
        self, *, at: datetime, actor: str, reason: str, policy: DeadlinePolicy
    ) -> None:
        self._check("review", at)
        window = policy.review_window(self)
        if window is None:
            self._refuse("review", "a review was already requested or there is no answer")
        self._check_window("review", window, at)
        self._emit(ev.ReviewRequested, at, actor, reason=_text("reason", reason))

    def decide_review(
        self, *, at: datetime, actor: str, unit: str, outcome: ReviewOutcome, opinion: str,
        org: OrgChart,
    ) -> None:
        self._check("review-decision", at)
        org.get(unit)
        self._emit(ev.ReviewDecided, at, actor, unit=unit, outcome=ReviewOutcome(outcome).value,
                   opinion=_text("opinion", opinion))

    def request_re_review(
        self, *, at: datetime, actor: str, reason: str, policy: DeadlinePolicy
    ) -> None:
        self._check("re-review", at)
        window = policy.re_review_window(self)
        if window is None:
            self._refuse("re-review", "there is no review decision to re-review, or it was asked")
        self._check_window("re-review", window, at)
        self._emit(ev.ReReviewRequested, at, actor, reason=_text("reason", reason))

    def decide_re_review(
        self, *, at: datetime, actor: str, unit: str, outcome: ReviewOutcome, opinion: str,
        org: OrgChart,
    ) -> None:
        self._check("re-review-decision", at)
        org.get(unit)
        self._emit(ev.ReReviewDecided, at, actor, unit=unit,
                   outcome=ReviewOutcome(outcome).value, opinion=_text("opinion", opinion))

    def close(self, *, at: datetime, actor: str, summary: str) -> None:
        self._check("close", at)
        self._emit(ev.Closed, at, actor, summary=_text("summary", summary))

    def reopen(self, *, at: datetime, actor: str, reason: str) -> None:
        self._check("reopen", at)
        if self.re_review_decided_at is not None:
            self._refuse("reopen", "the matter was concluded by re-review (终结)")
        self._emit(ev.Reopened, at, actor, reason=_text("reason", reason))

    def withdraw(self, *, at: datetime, actor: str, reason: str) -> None:
        self._check("withdraw", at)
        self._emit(ev.Withdrawn, at, actor, reason=_text("reason", reason))

    # ------------------------------------------------------------------ queries
    @property
    def obligated_unit(self) -> str:
        """The unit that owes the next step: the one supervision letters go to."""
        if self.status is Status.IN_HANDLING and self.responsible_unit:
            return self.responsible_unit
        if self.status is Status.REGISTERED:
            return self.received_by
        return self.holder

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

    def ladder_reached(self) -> int:
        """Rank of the highest rung issued for the current obligation (-1: none yet)."""
        key = self.current_obligation
        return self.ladder.get(key, -1) if key else -1

    @property
    def is_open(self) -> bool:
        return self.status not in (Status.CLOSED, Status.DECLINED, Status.WITHDRAWN)

    @property
    def allowed_commands(self) -> tuple[str, ...]:
        return allowed_commands(self.status)

    # ------------------------------------------------------------------ guards
    def _check(self, command: str, at: datetime) -> None:
        if self.status not in ALLOWED[command]:
            raise IllegalTransition(command, self.status.value, self.allowed_commands)
        _aware(at)
        if at < self.last_at:
            raise InvalidCommand(
                f"business time {at.isoformat()} is before the case's last event "
                f"({self.last_at.isoformat()})"
            )

    @staticmethod
    def _check_extension_days(days: int, policy: DeadlinePolicy) -> None:
        limit = policy.rules.max_extension_days
        if not 1 <= days <= limit:
            raise InvalidCommand(f"an extension must be between 1 and {limit} days, got {days}")

    def _refuse(self, command: str, detail: str) -> None:
        raise IllegalTransition(command, self.status.value, self.allowed_commands, detail)

    def _check_window(self, command: str, window: Deadline | None, at: datetime) -> None:
        if window is not None and window.is_overdue(at):
            self._refuse(command, f"the window closed after {window.due_on.isoformat()}")

    def _emit(self, event_class: type[ev.PetitionEvent], at: datetime, actor: str,
              **fields: Any) -> None:
        self.trigger_event(event_class, at=at, actor=_text("actor", actor), **fields)

    # ------------------------------------------------------------------ state changes
    @singledispatchmethod
    def when(self, event: Any) -> None:
        raise TypeError(f"Petition cannot apply {type(event).__name__}")

    def _moved(self, event: ev.PetitionEvent) -> None:
        self.last_at = event.at

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
        self.extension_days = 0
        self.extended_this_round = False
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

    def _clear_answer(self) -> None:
        self.answer: str | None = None
        self.answered_by: str | None = None
        self.answered_at: datetime | None = None
        self.ratings: Ratings | None = None
        self.rated_at: datetime | None = None

    @when.register(ev.Accepted)
    def _(self, e: ev.Accepted) -> None:
        self.status = Status.ACCEPTED
        self.handling_track = HandlingTrack(e.handling_track)
        self.speed_track = SpeedTrack(e.speed_track)
        self.accepted_at = self.handling_started_at = e.at
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
            self._climbed(rank(ESCALATION))
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
        self.extended_this_round = True
        self.extension_requested_days = None
        self._moved(e)

    def _climbed(self, rung_rank: int) -> None:
        key = self.current_obligation
        if key is not None:
            self.ladder[key] = max(self.ladder.get(key, -1), rung_rank)

    @when.register(ev.SupervisionIssued)
    def _(self, e: ev.SupervisionIssued) -> None:
        self._climbed(rank(e.level))
        self.supervision_level = SupervisionLevel(e.level)
        self.supervision_count += 1
        self._moved(e)

    @when.register(ev.ProxyAssigned)
    def _(self, e: ev.ProxyAssigned) -> None:
        self.proxy_agent = e.agent
        self.proxy_contact_due_from = e.at
        self._moved(e)

    @when.register(ev.ProxyContactLogged)
    def _(self, e: ev.ProxyContactLogged) -> None:
        self.proxy_contact_due_from = e.at
        self._moved(e)

    @when.register(ev.Answered)
    def _(self, e: ev.Answered) -> None:
        self.status = Status.ANSWERED
        self.answer, self.answered_by, self.answered_at = e.answer, e.unit, e.at
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
        self._moved(e)

    @when.register(ev.ReviewDecided)
    def _(self, e: ev.ReviewDecided) -> None:
        self.status = Status.REVIEWED
        self.review_decided_at, self.review_outcome = e.at, ReviewOutcome(e.outcome)
        self._moved(e)

    @when.register(ev.ReReviewRequested)
    def _(self, e: ev.ReReviewRequested) -> None:
        self.status = Status.UNDER_RE_REVIEW
        self.re_review_requested_at = e.at
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
        self.extension_days, self.extended_this_round = 0, False
        self.extension_requested_days = None
        self.closed_at = None
        self.reopen_count += 1
        self.unsatisfied_pending = False
        self._clear_answer()
        self._moved(e)

    @when.register(ev.Withdrawn)
    def _(self, e: ev.Withdrawn) -> None:
        self.status = Status.WITHDRAWN
        self.closed_at = e.at
        self._moved(e)

    _handler_for = staticmethod(when.dispatcher.dispatch)

    def __deepcopy__(self, memo: dict[int, Any]) -> Petition:
        """The copy a command gets from the repository's cache, without ``copy.deepcopy``'s
        walk over every value: values that cannot change in place are shared, anything else
        (the ladder, and any mutable attribute added later) is deep-copied."""
        twin = object.__new__(type(self))
        memo[id(self)] = twin
        twin.__dict__.update({
            name: value if type(value) in _IMMUTABLE or isinstance(value, Enum)
            else deepcopy(value, memo)
            for name, value in self.__dict__.items()})
        return twin

    def fold(self, event: ev.PetitionEvent) -> None:
        """Applies one event: ``when`` without singledispatchmethod's per-call wrapper, which
        costs more than most handlers when a projection folds a hundred thousand events."""
        self._handler_for(type(event))(self, event)
