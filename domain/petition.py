"""The Petition aggregate (信访事项): one case, its whole lifecycle as events.

Commands (public methods) check every rule first and only then trigger an event, so a refused
command leaves no trace. Event handlers (``when``, in ``petition_state.py``) only change state:
replaying old events never re-runs today's rules, so changing the policy file cannot break
history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from domain import events as ev
from domain.attachments import check_attachments, check_one_more
from domain.deadlines import Deadline, DeadlineKind, DeadlinePolicy
from domain.errors import IllegalTransition, InvalidCommand
from domain.group_petition import check_new_member
from domain.lifecycle import ALLOWED, allowed_commands
from domain.petition_state import PetitionState
from domain.proxy_chase_rules import COMMUNITY_NOTICE, PROXY_RUNGS
from domain.snapshots import PetitionSnapshot
from domain.units import OrgChart, UnitLevel
from domain.values import (
    Attachment,
    Channel,
    ConcludedDecision,
    ContactMode,
    DelegationMode,
    DeliveryChannel,
    EntrustmentTerms,
    HandlingTrack,
    Location,
    Petitioner,
    ProxyForm,
    ProxyScope,
    ReceptionMode,
    RedirectChannel,
    ReviewOutcome,
    Satisfaction,
    SpeedTrack,
    Status,
    SuggestionKind,
    SupervisionLevel,
)


def _text(name: str, value: str) -> str:
    if not value or not value.strip():
        raise InvalidCommand(f"{name} must not be blank")
    return value.strip()


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise InvalidCommand("business time 'at' must carry a timezone")
    return at


def _check_due(due_at: datetime | None, at: datetime) -> None:
    """A rung is issued when it is due or later (a catch-up after downtime), never before."""
    if due_at is not None and _aware(due_at) > at:
        raise InvalidCommand(f"a measure due at {due_at.isoformat()} cannot be issued earlier, "
                             f"at {at.isoformat()}")


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


_DEFAULT_POLICY = DeadlinePolicy()  # for callers (tests, tools) that name no policy; the
# application always passes its own


class Petition(PetitionState, Aggregate):
    """A citizen's petition, from registration to closure, review and re-review: the rules of
    each command here, the state its events build in ``PetitionState``."""

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
        policy: DeadlinePolicy = _DEFAULT_POLICY,
        attachments: tuple[Attachment, ...] = (),
        entrustment: EntrustmentTerms | None = None,
        concluded_in: UUID | None = None,
    ) -> Petition:
        """A new case; each attachment handed in with it is recorded by an AttachmentAdded
        after the Registered event, in the same save. An agent files for the petitioner only
        under a signed entrustment that lets it file (委托书 with scope ``file``): then the
        entrustment is recorded with the registration too. ``concluded_in``: the earlier case
        in which the application found this petitioner's same matter concluded
        (domain/concluded_matters.py); the petition is registered with the flag, never
        silently as new."""
        org.get(received_by)
        agent = proxy_agent.strip() if proxy_agent and proxy_agent.strip() else None
        if (agent is None) != (entrustment is None):
            raise InvalidCommand("an agent files a petition with the signed entrustment, and an "
                                 "entrustment needs the agent (proxy_agent)")
        if entrustment is not None and ProxyScope.FILE.value not in entrustment.scope:
            raise InvalidCommand("the entrustment does not let the agent file (scope 'file')")
        check_location(org, location)
        if co_petitioners < 0:
            raise InvalidCommand("co_petitioners must not be negative")
        for name, value in vars(petitioner).items():
            _text(f"petitioner {name}", value)
        files = check_attachments(attachments)
        petition = cls._create(
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
            proxy_agent=agent,
            query_code_hash=_text("query_code_hash", query_code_hash),
            deadline=policy.starting(DeadlineKind.ACCEPTANCE, _aware(at),
                                     group=co_petitioners > 0),
        )
        for item in files:
            petition._emit(ev.AttachmentAdded, petition.received_at, actor, sha256=item.sha256,
                           media_type=item.media_type, size=item.size, file_name=item.file_name)
        if agent is not None and entrustment is not None:
            petition.entrust(at=at, actor=actor, agent=agent, form=ProxyForm(entrustment.form),
                             grid=entrustment.grid, scope=list(entrustment.scope),
                             valid_until=entrustment.valid_until, org=org)
        if concluded_in is not None:
            petition._emit(ev.ConcludedMatterFlagged, at, actor, earlier_case=str(concluded_in))
        return petition

    def accept(
        self, *, at: datetime, actor: str, handling_track: HandlingTrack, speed_track: SpeedTrack,
        policy: DeadlinePolicy = _DEFAULT_POLICY,
    ) -> None:
        self._check("accept", at)
        if self.concluded_flag is not None:
            self._refuse("accept", f"the matter was concluded in case {self.concluded_flag}: "
                                   "decide the flag first (concluded-matter)")
        self._emit(
            ev.Accepted,
            at,
            actor,
            handling_track=HandlingTrack(handling_track).value,
            speed_track=SpeedTrack(speed_track).value,
            deadline=policy.starting(DeadlineKind.ANSWER, at, speed_track=SpeedTrack(speed_track),
                                     group=self.group_petition),
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

    def decide_concluded_matter(self, *, at: datetime, actor: str,
                                decision: ConcludedDecision, reason: str) -> None:
        """Intake's decision on a concluded-matter flag (不再受理, Art. 35 para. 3)."""
        self._check("concluded-matter", at)
        if self.concluded_flag is None:
            self._refuse("concluded-matter", "no concluded-matter flag awaits a decision")
        self._emit(ev.ConcludedMatterDecided, at, actor, earlier_case=self.concluded_flag,
                   decision=ConcludedDecision(decision).value, reason=_text("reason", reason))

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
        due_at: datetime | None = None,
    ) -> None:
        self._check("escalate", at)
        _check_due(due_at, at)
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
            due_at=due_at,
        )

    def request_extension(
        self, *, at: datetime, actor: str, days: int, reason: str, policy: DeadlinePolicy
    ) -> None:
        self._check("extend-request", at)
        if self.extension_used:
            self._refuse("extend-request", "the matter's one extension was already granted")
        if self.extension_requested_days is not None:
            self._refuse("extend-request", "an extension request is already pending")
        self._check_extension_days(days, policy)
        self._emit(ev.ExtensionRequested, at, actor, days=days, reason=_text("reason", reason))

    def extend_deadline(
        self, *, at: datetime, actor: str, days: int, reason: str, approved_by: str,
        policy: DeadlinePolicy,
    ) -> None:
        self._check("extend", at)
        if self.extension_used:
            self._refuse("extend", "the matter's one extension was already granted")
        self._check_extension_days(days, policy)
        self._emit(
            ev.DeadlineExtended,
            at,
            actor,
            days=days,
            reason=_text("reason", reason),
            approved_by=_text("approved_by", approved_by),
            deadline=self._extended(days, policy),
        )

    def supervise(
        self, *, at: datetime, actor: str, level: SupervisionLevel, reason: str,
        rule: str | None = None, due_at: datetime | None = None,
    ) -> None:
        self._check("supervise", at)
        _check_due(due_at, at)
        self._emit(
            ev.SupervisionIssued,
            at,
            actor,
            level=SupervisionLevel(level).value,
            unit=self.obligated_unit,
            reason=_text("reason", reason),
            rule=rule,
            due_at=due_at,
        )

    def entrust(
        self, *, at: datetime, actor: str, agent: str, form: ProxyForm, grid: str,
        scope: list[str], valid_until: datetime, org: OrgChart,
    ) -> None:
        """签订委托书: the petitioner's grid must lie where the matter is (the location's street,
        else its district); one entrustment at a time (revoke the one in force first)."""
        self._check("entrust", at)
        _aware(valid_until)
        where = self.location.street or self.location.district
        if grid not in org or org.get(grid).level is not UnitLevel.GRID \
                or not org.is_within(grid, where):
            raise InvalidCommand(f"'{grid}' is not a grid (网格) within '{where}'")
        if not scope or any(s not in ProxyScope.__members__.values() for s in scope):
            raise InvalidCommand(f"scope must list some of {', '.join(ProxyScope)}")
        if valid_until <= at:
            raise InvalidCommand("an entrustment must run until after it is signed")
        current = self.entrustment
        if current is not None and current.in_force(at):
            self._refuse("entrust", f"the entrustment to '{current.agent}' is in force until "
                                    f"{current.valid_until.isoformat()}: revoke it first")
        self._emit(ev.EntrustmentSigned, at, actor, agent=_text("agent", agent),
                   form=ProxyForm(form).value, grid=grid,
                   scope=sorted({ProxyScope(s).value for s in scope}),
                   valid_until=valid_until)

    def revoke_entrustment(self, *, at: datetime, actor: str, reason: str) -> None:
        self._check("revoke-entrustment", at)
        current = self.entrustment
        if current is None or not current.in_force(at):
            self._refuse("revoke-entrustment", "no entrustment is in force")
        assert current is not None
        self._emit(ev.EntrustmentRevoked, at, actor, agent=current.agent,
                   reason=_text("reason", reason))

    def assign_proxy(self, *, at: datetime, actor: str, agent: str) -> None:
        """启动代办: only the agent the entrustment in force names, for following the case."""
        self._check("assign-proxy", at)
        if agent == self.proxy_agent:
            self._refuse("assign-proxy", f"'{agent}' already follows this case")
        self._check_entrusted(agent, at)
        self._emit(ev.ProxyAssigned, at, actor, agent=_text("agent", agent))

    def log_proxy_contact(
        self, *, at: datetime, actor: str, agent: str, mode: ContactMode, note: str
    ) -> None:
        self._check("log-proxy-contact", at)
        if self.proxy_agent is None:
            self._refuse("log-proxy-contact", "no proxy agent follows this case")
        if agent != self.proxy_agent:
            raise InvalidCommand(f"'{agent}' is not the proxy agent of this case")
        self._check_entrusted(agent, at)
        self._emit(ev.ProxyContactLogged, at, actor, agent=agent, mode=ContactMode(mode).value,
                   note=note)

    def add_co_petitioner(self, *, at: datetime, actor: str, name: str, id_number: str,
                          phone: str, representative: bool = False) -> None:
        """集体访 / 联名: records one more petitioner of the same matter."""
        self._check("add-co-petitioner", at)
        person = Petitioner(*(_text(f"co-petitioner {k}", v) for k, v in
                              (("name", name), ("id_number", id_number), ("phone", phone))))
        check_new_member(self.petitioner, self.group_members, person, representative)
        self._emit(ev.CoPetitionerAdded, at, actor, co_petitioner=person,
                   representative=bool(representative))
    def chase_proxy_contact(
        self, *, at: datetime, actor: str, rung: str, policy: DeadlinePolicy, org: OrgChart,
        rule: str | None = None, due_at: datetime | None = None,
    ) -> None:
        """A missed weekly meeting, chased one rung at a time: the agent, then the community
        above the petitioner's grid (``proxy_contact.due_chases`` says when)."""
        self._check("chase-proxy-contact", at)
        _check_due(due_at, at)
        week = policy.proxy_contact(self)
        if week is None or not week.is_overdue(at):
            self._refuse("chase-proxy-contact", "no weekly meeting of the proxy is missed")
        assert week is not None
        if rung not in PROXY_RUNGS:
            raise InvalidCommand(f"rung must be one of {', '.join(PROXY_RUNGS)}")
        if PROXY_RUNGS.index(rung) <= self.proxy_ladder.get(week.starts_at.isoformat(), -1):
            self._refuse("chase-proxy-contact", f"'{rung}' was already issued for this week")
        self._emit(ev.ProxyContactChased, at, actor, rung=rung,
                   addressee=self.proxy_addressee(rung, org), since=week.starts_at,
                   rule=rule, due_at=due_at)

    def suggest(self, *, at: datetime, actor: str, kind: SuggestionKind, unit: str, text: str,
                org: OrgChart) -> None:
        """三项建议权: a suggestion to ``unit``, numbered within the case."""
        self._check("suggest", at)
        org.get(unit)
        self._emit(ev.SuggestionMade, at, actor, number=self.suggestion_count + 1,
                   kind=SuggestionKind(kind).value, unit=unit, text=_text("text", text))

    def respond_suggestion(self, *, at: datetime, actor: str, number: int, unit: str,
                           response: str) -> None:
        self._check("respond-suggestion", at)
        addressed = self.open_suggestions.get(number)
        if addressed is None:
            self._refuse("respond-suggestion", f"no open suggestion number {number}")
        assert addressed is not None
        if unit != addressed[0]:
            raise InvalidCommand(f"suggestion {number} is addressed to '{addressed[0]}', "
                                 f"not to '{unit}'")
        self._emit(ev.SuggestionResponded, at, actor, number=number, unit=unit,
                   response=_text("response", response))

    def book_reception(self, *, at: datetime, actor: str, slot_id: str, unit: str, leader: str,
                       mode: ReceptionMode, starts_at: datetime, org: OrgChart) -> None:
        """领导接访 / 视频接访: one booking at a time, with a leader of a unit above or at the
        case's units (the slot itself refuses a second booking: ``ReceptionSlot.book``)."""
        self._check("book-reception", at)
        if self.reception_booking is not None:
            self._refuse("book-reception", "a reception is already booked: cancel it first")
        if not any(org.is_within(u, unit) for u in self._units if u in org):
            raise InvalidCommand(f"unit '{unit}' does not receive petitioners of this case")
        if _aware(starts_at) <= at:
            raise InvalidCommand("the reception has already started")
        self._emit(ev.ReceptionBooked, at, actor, slot_id=slot_id, unit=unit,
                   leader=_text("leader", leader), mode=ReceptionMode(mode).value,
                   starts_at=starts_at)

    def cancel_reception(self, *, at: datetime, actor: str, reason: str = "") -> None:
        self._check("cancel-reception", at)
        booking = self.reception_booking
        if booking is None:
            self._refuse("cancel-reception", "no reception is booked")
        elif booking.starts_at <= at:
            self._refuse("cancel-reception", "the reception has already started")
        else:
            self._emit(ev.ReceptionCancelled, at, actor, slot_id=booking.slot_id,
                       reason=reason.strip())

    def remind_reception(self, *, at: datetime, actor: str, slot_id: str | None = None) -> None:
        """The reminder of the booking (of ``slot_id``, if named) went out; once per booking."""
        self._check("remind-reception", at)
        booking = self.reception_booking
        slot_id = slot_id or (booking.slot_id if booking is not None else None)
        if booking is None or booking.slot_id != slot_id or booking.reminded:
            self._refuse("remind-reception", "no booking of this slot awaits its reminder")
        self._emit(ev.ReceptionReminded, at, actor, slot_id=slot_id)

    def record_reception(self, *, at: datetime, actor: str, unit: str, leader: str,
                         mode: ReceptionMode, outcome: str, org: OrgChart) -> None:
        """接访 held: who received (the leader of ``unit``), when (``at``), the outcome. It
        honours the booking with the same unit and leader, if any; else it was a walk-in."""
        self._check("record-reception", at)
        org.get(unit)
        if not any(org.is_within(u, unit) for u in self._units if u in org):
            raise InvalidCommand(f"unit '{unit}' does not receive petitioners of this case")
        booking = self.reception_booking
        honoured = booking.slot_id if booking is not None and (booking.unit, booking.leader) \
            == (unit, leader.strip()) else None
        self._emit(ev.ReceptionHeld, at, actor, slot_id=honoured, unit=unit,
                   leader=_text("leader", leader), mode=ReceptionMode(mode).value,
                   outcome=_text("outcome", outcome))

    @property
    def _units(self) -> tuple[str, ...]:
        """The units a case belongs to: received it, holds it, handles it."""
        return tuple(u for u in (self.received_by, self.holder, self.responsible_unit) if u)

    def answer_petition(self, *, at: datetime, actor: str, unit: str, answer: str,
                        policy: DeadlinePolicy = _DEFAULT_POLICY) -> None:
        self._check("answer", at)
        if unit != self.responsible_unit:
            raise InvalidCommand(
                f"only the responsible unit '{self.responsible_unit}' may answer, not '{unit}'"
            )
        self._emit(ev.Answered, at, actor, unit=unit, answer=_text("answer", answer),
                   deadline=policy.window_after("review", at, self.handling_track))

    def deliver(self, *, at: datetime, actor: str, channel: DeliveryChannel,
                policy: DeadlinePolicy = _DEFAULT_POLICY) -> None:
        """Records that the latest written decision (answer or review opinion) reached the
        petitioner: the review or re-review window runs from this moment (Art. 35)."""
        self._check("deliver", at)
        document = self.undelivered_document
        if document is None:
            self._refuse("deliver", "the answer and any review opinion were already delivered")
        step, kind = ("review", DeadlineKind.REVIEW_REQUEST) if document == "answer" \
            else ("re_review", DeadlineKind.RE_REVIEW_REQUEST)
        window = policy.starting(kind, at) \
            if policy.rules.track_has(self.handling_track, step) else None
        self._emit(ev.Delivered, at, actor, document=document,
                   channel=DeliveryChannel(channel).value, deadline=window)

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
        self._check_track("review", "review", policy)
        window = policy.review_window(self)
        if window is None:
            self._refuse("review", "a review was already requested or there is no answer")
        self._check_window("review", window, at)
        self._emit(ev.ReviewRequested, at, actor, reason=_text("reason", reason),
                   deadline=policy.starting(DeadlineKind.REVIEW_DECISION, at))

    def decide_review(
        self, *, at: datetime, actor: str, unit: str, outcome: ReviewOutcome, opinion: str,
        org: OrgChart, policy: DeadlinePolicy = _DEFAULT_POLICY,
    ) -> None:
        self._check("review-decision", at)
        self._check_decider("review", unit, self.answered_by, org)
        self._emit(ev.ReviewDecided, at, actor, unit=unit, outcome=ReviewOutcome(outcome).value,
                   opinion=_text("opinion", opinion),
                   deadline=policy.window_after("re_review", at, self.handling_track))

    def request_re_review(
        self, *, at: datetime, actor: str, reason: str, policy: DeadlinePolicy
    ) -> None:
        self._check("re-review", at)
        self._check_track("re-review", "re_review", policy)
        window = policy.re_review_window(self)
        if window is None:
            self._refuse("re-review", "there is no review decision to re-review, or it was asked")
        self._check_window("re-review", window, at)
        self._emit(ev.ReReviewRequested, at, actor, reason=_text("reason", reason),
                   deadline=policy.starting(DeadlineKind.RE_REVIEW_DECISION, at))

    def decide_re_review(
        self, *, at: datetime, actor: str, unit: str, outcome: ReviewOutcome, opinion: str,
        org: OrgChart,
    ) -> None:
        self._check("re-review-decision", at)
        self._check_decider("re-review", unit, self.reviewed_by, org)
        self._emit(ev.ReReviewDecided, at, actor, unit=unit,
                   outcome=ReviewOutcome(outcome).value, opinion=_text("opinion", opinion))

    def close(self, *, at: datetime, actor: str, summary: str) -> None:
        self._check("close", at)
        self._emit(ev.Closed, at, actor, summary=_text("summary", summary))

    def reopen(self, *, at: datetime, actor: str, reason: str,
               policy: DeadlinePolicy = _DEFAULT_POLICY) -> None:
        self._check("reopen", at)
        if self.re_review_decided_at is not None:
            self._refuse("reopen", "the matter was concluded by re-review (终结)")
        self._emit(ev.Reopened, at, actor, reason=_text("reason", reason),
                   deadline=policy.starting(DeadlineKind.ANSWER, at,
                                            speed_track=self.speed_track,
                                            group=self.group_petition))

    def add_attachment(self, *, at: datetime, actor: str, sha256: str, media_type: str,
                       size: int, file_name: str) -> None:
        """补充材料: one more file of the petitioner's while the case is open (from the follow
        page, or recorded by intake from paper); listed to the petitioner with the rest."""
        self._check("add-attachment", at)
        item = check_one_more(Attachment(sha256, media_type, size, file_name), self.attachments)
        self._emit(ev.AttachmentAdded, at, actor, sha256=item.sha256,
                   media_type=item.media_type, size=item.size, file_name=item.file_name)

    def attach_document(self, *, at: datetime, actor: str, sha256: str, media_type: str,
                        size: int, file_name: str) -> None:
        """Staff put a file on the open case (the written reply, a scanned record)."""
        self._check("attach-document", at)
        item = check_one_more(Attachment(sha256, media_type, size, file_name), self.documents)
        self._emit(ev.DocumentAttached, at, actor, sha256=item.sha256,
                   media_type=item.media_type, size=item.size, file_name=item.file_name)

    def withdraw(self, *, at: datetime, actor: str, reason: str) -> None:
        self._check("withdraw", at)
        self._emit(ev.Withdrawn, at, actor, reason=_text("reason", reason))

    def revise_deadline(self, *, at: datetime, actor: str, reason: str,
                        policy: DeadlinePolicy) -> None:
        """Replaces the running obligation's recorded deadline with what ``policy`` gives now
        (the operator's ``petition deadlines revise``); refused when there is nothing to
        revise: a closed case, no running deadline, a derived one (it follows the policy
        already) or the same dates."""
        _aware(at)
        if at < self.last_at:
            raise InvalidCommand(f"business time {at.isoformat()} is before the case's last "
                                 f"event ({self.last_at.isoformat()})")
        current = policy.current(self) if self.is_open else None
        recorded = self.recorded_deadlines.get(current.kind) if current else None
        if current is None or recorded is None:
            raise self._refusal("revise-deadline", "no recorded deadline runs on this case")
        try:
            revised = policy.derive(self, current.kind)
        except (OverflowError, ValueError):
            raise InvalidCommand("the revised deadline falls outside the calendar") from None
        if revised is None or revised.same_dates(recorded):
            self._refuse("revise-deadline", "the policy in force gives the same deadline")
        self._emit(ev.DeadlineRevised, at, actor, deadline=revised, previous=recorded,
                   reason=_text("reason", reason))

    # ------------------------------------------------------------------ queries
    @property
    def obligated_unit(self) -> str:
        """The unit that owes the next step: the one supervision letters go to."""
        if self.status is Status.IN_HANDLING and self.responsible_unit:
            return self.responsible_unit
        if self.status is Status.REGISTERED:
            return self.received_by
        return self.holder

    def ladder_reached(self) -> int:
        """Rank of the highest rung issued for the current obligation (-1: none yet)."""
        key = self.current_obligation
        return self.ladder.get(key, -1) if key else -1

    @property
    def undelivered_document(self) -> str | None:
        """``review_opinion`` or ``answer`` when that written decision awaits delivery."""
        if self.review_decided_at is not None and (
                self.answered_at is None or self.review_decided_at >= self.answered_at):
            return "review_opinion" if self.opinion_delivered_at is None else None
        if self.answered_at is not None and self.answer_delivered_at is None:
            return "answer"
        return None

    @property
    def group_petition(self) -> bool:
        """集体访: more than one petitioner; flagged for leadership attention (领导关注)."""
        return self.co_petitioners > 0 or bool(self.group_members)

    @property
    def is_open(self) -> bool:
        return self.status not in (Status.CLOSED, Status.DECLINED, Status.WITHDRAWN)

    @property
    def allowed_commands(self) -> tuple[str, ...]:
        """The state's commands, less what the concluded-matter flag (不再受理) rules out now:
        a flagged case is decided before it is accepted; an unflagged one has nothing to decide."""
        flagged = self.concluded_flag is not None
        ruled_out = "accept" if flagged else "concluded-matter"
        return tuple(name for name in allowed_commands(self.status) if name != ruled_out)

    def proxy_addressee(self, rung: str, org: OrgChart) -> str:
        """The agent for its reminder; for the notice, the community above the entrustment's
        grid (the unit that received the case when no grid is recorded)."""
        if rung != COMMUNITY_NOTICE:
            return self.proxy_agent or ""
        grid = self.entrustment.grid if self.entrustment is not None else None
        parent = org.get(grid).parent if grid is not None and grid in org else None
        return parent or self.received_by

    # ------------------------------------------------------------------ guards
    def _check_entrusted(self, agent: str, at: datetime) -> None:
        """422 unless an entrustment to ``agent`` that lets it follow the case is in force."""
        current = self.entrustment
        if current is None or current.agent != agent:
            raise InvalidCommand(f"'{agent}' holds no entrustment (委托书) on this case")
        if current.revoked_at is not None:
            raise InvalidCommand(f"the entrustment to '{agent}' was revoked")
        if not current.in_force(at):
            raise InvalidCommand(f"the entrustment to '{agent}' is not in force at "
                                 f"{at.isoformat()} (until {current.valid_until.isoformat()})")
        if ProxyScope.FOLLOW.value not in current.scope:
            raise InvalidCommand(f"the entrustment does not let '{agent}' follow the case")

    def _check(self, command: str, at: datetime) -> None:
        if self.status not in ALLOWED[command]:
            raise IllegalTransition(command, self.status.value, self.allowed_commands)
        _aware(at)
        if at < self.last_at:
            raise InvalidCommand(
                f"business time {at.isoformat()} is before the case's last event "
                f"({self.last_at.isoformat()})"
            )

    def _extended(self, days: int, policy: DeadlinePolicy) -> Deadline:
        """The round's answer deadline ``days`` longer: counted from the same start over the
        recorded number of days plus the extension, rolled by the calendar in force."""
        current = policy.answer_deadline(self)
        if current is None or self.handling_started_at is None:
            raise InvalidCommand("no answer deadline runs to extend")
        return policy.starting(DeadlineKind.ANSWER, self.handling_started_at,
                               current.days + days)

    @staticmethod
    def _check_extension_days(days: int, policy: DeadlinePolicy) -> None:
        limit = policy.rules.max_extension_days
        if not 1 <= days <= limit:
            raise InvalidCommand(f"an extension must be between 1 and {limit} days, got {days}")

    @staticmethod
    def _check_decider(what: str, unit: str, below: str | None, org: OrgChart) -> None:
        """信访工作条例 Art. 35: a review (复查) is decided by the organ one level above the one
        that answered, a re-review (复核) one level above the reviewer; no other unit. At the
        top of the chart the top unit (the people's government, which reviews its own
        departments' answers) decides itself."""
        org.get(unit)
        if below is None:
            raise InvalidCommand(f"no decision to {what}: the deciding unit is not recorded")
        above = org.get(below).parent
        if unit != (above or below):
            which = f"the organ one level above '{below}'" if above else "the top of the chart"
            raise InvalidCommand(f"the {what} is decided by '{above or below}', {which}, "
                                 f"not by '{unit}'")

    def _check_track(self, command: str, step: str, policy: DeadlinePolicy) -> None:
        """信访工作条例 Art. 35 gives review and re-review to claims (申诉求决类) answered with a
        written opinion; the policy's [tracks] says which tracks owe which step."""
        if self.handling_track is not None and not policy.rules.track_has(self.handling_track,
                                                                          step):
            self._refuse(command, f"the '{self.handling_track}' track has no {command} "
                                  "(policy [tracks])")

    def _refuse(self, command: str, detail: str) -> None:
        raise self._refusal(command, detail)

    def _refusal(self, command: str, detail: str) -> IllegalTransition:
        return IllegalTransition(command, self.status.value, self.allowed_commands, detail)

    def _check_window(self, command: str, window: Deadline | None, at: datetime) -> None:
        if window is not None and window.is_overdue(at):
            self._refuse(command, f"the window closed after {window.due_on.isoformat()}")

    def _emit(self, event_class: type[ev.PetitionEvent], at: datetime, actor: str,
              **fields: Any) -> None:
        self.trigger_event(event_class, at=at, actor=_text("actor", actor), **fields)
        self._end_booking(at, actor)

    def _end_booking(self, at: datetime, actor: str) -> None:
        """A case that ends (withdrawn, declined, closed — any way out of the open statuses)
        can no longer be received (record-reception needs an open case): its pending booking
        is cancelled by the same decision, so the application frees the slot in the same
        write. Here, not in each command, so that no ending can forget it."""
        booking = self.reception_booking
        if booking is not None and not self.is_open:
            self.trigger_event(ev.ReceptionCancelled, at=at, actor=_text("actor", actor),
                               slot_id=booking.slot_id, reason=f"case {self.status.value}")
