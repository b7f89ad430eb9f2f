"""One fact row per case for analysis: what happened to it, when, and against which deadline.

The Petition aggregate holds a case's present state; indicators also need its history (the
first answer and its deadline, whether it was ever extended or escalated, the first and the
last rating). ``fold`` adds one event to a case's facts, given the aggregate right after that
event, so each fact is read from the same ``Petition.when`` the write side runs. Facts hold no
personal data: the petitioner is a keyed hash of the ID number, a comment only its sentiment.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from domain import events as ev
from domain.deadlines import DeadlinePolicy
from domain.petition import Petition
from projections.sentiment import comment_sentiment

PetitionerKey = Callable[[str], str | None]


@dataclass
class CaseFacts:
    case_id: str
    status: str
    received_by: str
    district: str
    street: str | None
    channel: str
    category: str
    co_petitioners: int
    petitioner_key: str | None
    registered_at: datetime
    acceptance_expires_at: datetime
    lat: float | None = None  # the matter's point, rounded to 3 decimals (about 100 m)
    lon: float | None = None
    decided_at: datetime | None = None  # accepted or declined (受理 / 不予受理)
    accepted: int | None = None  # 1 accepted, 0 declined, None undecided
    first_answered_at: datetime | None = None
    first_answer_expires_at: datetime | None = None  # the answer deadline then in force
    first_answered_by: str | None = None
    answered_by: str | None = None  # the latest answer's unit
    extended: int = 0
    escalated: int = 0
    supervision_count: int = 0
    reopen_count: int = 0
    confirmed: int = 0  # a supervisor stood by an answer rated unsatisfied
    first_attitude: str | None = None
    first_efficiency: str | None = None
    first_quality: str | None = None
    first_rated_at: datetime | None = None
    last_attitude: str | None = None
    last_efficiency: str | None = None
    last_quality: str | None = None
    last_rated_at: datetime | None = None
    rated_unit: str | None = None  # the unit whose answer the last rating judged
    comment_sentiment: str | None = None  # of the last non-empty comment
    review_requested_at: datetime | None = None
    review_outcome: str | None = None
    re_review_requested_at: datetime | None = None
    re_review_outcome: str | None = None
    closed_at: datetime | None = None
    proxied: int = 0  # followed by a proxy agent under an entrustment (代办)
    proxy_missed_weeks: int = 0  # weekly meetings missed (each chased to the agent)
    suggestions: int = 0  # 三项建议权 used on the case
    suggestions_responded: int = 0
    leader_received_at: datetime | None = None  # the first reception by a leader (接访)
    repeated: int = 0  # a repeat petition (最多访一次); set by the view, which sees the
    # petitioner's other cases (``analysis_rollups.repeats``)
    position: int = 0

    def row(self) -> dict[str, Any]:
        """A copy (the facts go on changing); shallow, as every value is immutable — the
        deep copy of ``dataclasses.asdict`` showed in catch-up profiles."""
        return dict(vars(self))


COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(CaseFacts))
TIME_COLUMNS: tuple[str, ...] = tuple(
    f.name for f in fields(CaseFacts) if "datetime" in str(f.type))


def fold(facts: CaseFacts | None, event: ev.PetitionEvent, after: Petition,
         policy: DeadlinePolicy, petitioner_key: PetitionerKey) -> CaseFacts:
    """The case's facts including ``event``; ``after`` is the aggregate right after it."""
    if isinstance(event, ev.Registered):
        acceptance = policy.current(after)
        assert acceptance is not None
        facts = CaseFacts(
            case_id=str(after.id), status=after.status.value, received_by=after.received_by,
            district=after.location.district, street=after.location.street,
            channel=after.channel.value, category=after.category,
            co_petitioners=after.co_petitioners,
            petitioner_key=petitioner_key(after.petitioner.id_number),
            registered_at=after.received_at, acceptance_expires_at=acceptance.expires_at,
            lat=_rounded(after.location.lat), lon=_rounded(after.location.lon))
    assert facts is not None, "a case's first event is its registration"
    _STEPS.get(type(event), _nothing)(facts, event, after, policy)
    facts.status = after.status.value
    facts.closed_at = after.closed_at
    return facts


def _rounded(degrees: float | None) -> float | None:
    """A hotspot needs the neighbourhood, not the doorstep."""
    return None if degrees is None else round(degrees, 3)


def _nothing(*_: Any) -> None:
    return None


def _decided(f: CaseFacts, e: Any, _: Petition, __: DeadlinePolicy) -> None:
    if f.decided_at is None:
        f.decided_at, f.accepted = e.at, int(isinstance(e, ev.Accepted))


def _answered(f: CaseFacts, e: ev.Answered, after: Petition, policy: DeadlinePolicy) -> None:
    f.answered_by = e.unit
    if f.first_answered_at is None:
        deadline = policy.answer_deadline(after)
        f.first_answered_at, f.first_answered_by = e.at, e.unit
        f.first_answer_expires_at = deadline.expires_at if deadline else None


def _rated(f: CaseFacts, e: ev.Rated, after: Petition, _: DeadlinePolicy) -> None:
    if f.first_rated_at is None:
        f.first_attitude, f.first_efficiency, f.first_quality = e.attitude, e.efficiency, e.quality
        f.first_rated_at = e.at
    f.last_attitude, f.last_efficiency, f.last_quality = e.attitude, e.efficiency, e.quality
    f.last_rated_at, f.rated_unit = e.at, after.answered_by
    sentiment = comment_sentiment(e.comment)
    if sentiment is not None:
        f.comment_sentiment = sentiment


def _joined(f: CaseFacts, _: Any, after: Petition, policy: DeadlinePolicy) -> None:
    """集体访: a co-petitioner joined; while undecided, the (group) acceptance limit applies."""
    f.co_petitioners = after.co_petitioners
    acceptance = policy.current(after) if f.decided_at is None else None
    if acceptance is not None and acceptance.kind.value == "acceptance":
        f.acceptance_expires_at = acceptance.expires_at


def _received_by_leader(f: CaseFacts, e: ev.ReceptionHeld, *_: Any) -> None:
    if f.leader_received_at is None:
        f.leader_received_at = e.at


def _extended(f: CaseFacts, *_: Any) -> None:
    f.extended = 1


def _escalated(f: CaseFacts, *_: Any) -> None:
    f.escalated = 1


def _supervised(f: CaseFacts, *_: Any) -> None:
    f.supervision_count += 1


def _reopened(f: CaseFacts, *_: Any) -> None:
    f.reopen_count += 1


def _confirmed(f: CaseFacts, *_: Any) -> None:
    f.confirmed = 1


def _review(f: CaseFacts, e: Any, *_: Any) -> None:
    if isinstance(e, ev.ReviewRequested):
        f.review_requested_at = e.at
    elif isinstance(e, ev.ReviewDecided):
        f.review_outcome = e.outcome
    elif isinstance(e, ev.ReReviewRequested):
        f.re_review_requested_at = e.at
    else:
        f.re_review_outcome = e.outcome


def _entrusted(f: CaseFacts, *_: Any) -> None:
    f.proxied = 1


def _chased(f: CaseFacts, e: ev.ProxyContactChased, *_: Any) -> None:
    if e.rung == "agent_reminder":
        f.proxy_missed_weeks += 1


def _suggested(f: CaseFacts, *_: Any) -> None:
    f.suggestions += 1


def _responded(f: CaseFacts, *_: Any) -> None:
    f.suggestions_responded += 1


_STEPS: dict[type, Callable[..., None]] = {
    ev.EntrustmentSigned: _entrusted, ev.ProxyContactChased: _chased,
    ev.SuggestionMade: _suggested, ev.SuggestionResponded: _responded,
    ev.Accepted: _decided, ev.Declined: _decided, ev.Answered: _answered, ev.Rated: _rated,
    ev.DeadlineExtended: _extended, ev.Escalated: _escalated,
    ev.SupervisionIssued: _supervised, ev.Reopened: _reopened,
    ev.AnswerConfirmed: _confirmed, ev.ReviewRequested: _review, ev.ReviewDecided: _review,
    ev.ReReviewRequested: _review, ev.ReReviewDecided: _review, ev.CoPetitionerAdded: _joined,
    ev.ReceptionHeld: _received_by_leader,
}
