"""Legal time limits (时限): computed by a policy that is data, recorded as facts.

When an obligation starts (registration, acceptance, extension, reopening, answer, delivery,
review), the command computes its deadline with the policy and calendar in force and records it
in the event that starts it; every later read takes the recorded fact, so a later change of the
policy or calendar only reaches new obligations (or open ones, through an explicit
``DeadlineRevised``). Events written before deadlines were recorded (``DERIVED``) are read the
way they always were: derived again from the case's facts with the current policy.

Days are calendar days with the start day not counted (the day after the start is day 1); a
deadline that falls on a statutory rest day rolls to the next working day. A deadline is met
through the whole of its last day (``due_on``), so it expires at local midnight after it.
Which days are rest days is a calendar injected from outside (adapters/rest_days.py), so
this module stays pure and tests can use any calendar.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.errors import InvalidCommand
from domain.proxy_chase_rules import DEFAULT_CHASE, check_chase
from domain.values import ContactMode, HandlingTrack, SpeedTrack, Status

TRACK_STEPS = ("answer", "review", "re_review")
"""What a handling track may owe after acceptance: the answer, and the petitioner's review (复查)
and re-review (复核) of it."""

DEFAULT_TRACKS: Mapping[str, tuple[str, ...]] = {
    "suggestion": ("answer",),  # 建议意见: answered, not reviewed
    "report": ("answer",),  # 检举控告: handled under discipline and criminal procedures
    "claim": ("answer", "review", "re_review"),  # 申诉求决 handled with a written opinion
}

GROUP_LIMITS = ("acceptance_days", "answer_days")
"""What the policy's ``[group]`` section may tighten for group petitions (集体访)."""

MAX_POLICY_DAYS = 3650
"""No time limit of the policy exceeds ten years: a larger number is a typo, and would carry
derived dates towards the calendar's end."""

RestDayCalendar = Callable[[date], bool]
"""Answers: is this date a statutory rest day (weekend or public holiday, minus 调休 workdays)?

A calendar may also offer ``is_provisional(day) -> bool``: its answer for ``day`` still waits for
the State Council's yearly arrangement. Deadlines that rolled on such days are provisional.
And ``version: str``, naming its data (package release, operator's days), which is recorded
with each deadline so an auditor can tell which calendar counted it.
"""

DERIVED = "derived"
"""An upcast event's ``deadline`` when it was written before deadlines were recorded (its
class at version 1): the case derives that obligation's deadline with the current policy, as
every release before did."""

CalendarBeyond = (OverflowError, ValueError)


def reject_unknown_keys(cls: Any, data: Mapping[str, Any], what: str) -> None:
    """Names every key of an operator's file section that the dataclass ``cls`` lacks."""
    unknown = sorted(set(data) - {f.name for f in fields(cls)})
    if unknown:
        raise InvalidCommand(f"policy: unknown {what}(s) {', '.join(unknown)}")


def weekends(day: date) -> bool:
    """The simplest calendar: Saturdays and Sundays rest."""
    return day.weekday() >= 5


def _check_tracks(tracks: Mapping[str, Any]) -> None:
    """Every track known, every step known, the answer always owed, re-review only after review."""
    for track, steps in tracks.items():
        if track not in HandlingTrack.__members__.values():
            raise InvalidCommand(f"policy: unknown handling track {track!r} in [tracks]")
        if not isinstance(steps, (list, tuple)) or any(s not in TRACK_STEPS for s in steps):
            raise InvalidCommand(f"policy: [tracks] {track} must list steps of "
                                 f"{', '.join(TRACK_STEPS)}, got {steps!r}")
        if "answer" not in steps or ("re_review" in steps and "review" not in steps):
            raise InvalidCommand(f"policy: [tracks] {track} must owe the answer, and a "
                                 "re_review only after a review")
    missing = sorted(set(HandlingTrack.__members__.values()) - set(tracks))
    if missing:
        raise InvalidCommand(f"policy: [tracks] lacks {', '.join(missing)}")


class DeadlineKind(StrEnum):
    ACCEPTANCE = "acceptance"  # 受理告知: decide whether to accept
    ANSWER = "answer"  # 办理答复: handle and answer
    REVIEW_REQUEST = "review_request"  # the petitioner's window to ask for 复查
    REVIEW_DECISION = "review_decision"  # 复查 decided
    RE_REVIEW_REQUEST = "re_review_request"  # the petitioner's window to ask for 复核
    RE_REVIEW_DECISION = "re_review_decision"  # 复核 decided
    PROXY_CONTACT = "proxy_contact"  # 代办员 weekly contact
    SUGGESTION_RESPONSE = "suggestion_response"  # 三项建议权: the addressed unit responds


@dataclass(frozen=True)
class Deadline:
    kind: DeadlineKind
    starts_at: datetime
    due_on: date
    expires_at: datetime
    provisional: bool = False  # rolled on a calendar year whose 调休 arrangement is not yet known
    days: int = 0  # the calendar days counted from ``starts_at`` (an extension adds to them)
    calendar: str = ""  # the version of the rest-day calendar that rolled it

    def is_overdue(self, now: datetime) -> bool:
        return now >= self.expires_at

    def same_dates(self, other: Deadline | None) -> bool:
        """Whether ``other`` tells the petitioner and the units the same thing."""
        return other is not None and (self.kind, self.starts_at, self.due_on, self.expires_at,
                                      self.provisional) == (other.kind, other.starts_at,
                                                            other.due_on, other.expires_at,
                                                            other.provisional)


class CaseTimes(Protocol):
    """What the policy reads from a case (the Petition aggregate provides it)."""

    status: Status
    received_at: datetime
    speed_track: SpeedTrack | None
    handling_track: HandlingTrack | None
    handling_started_at: datetime | None
    extension_days: int
    answered_at: datetime | None
    answer_delivered_at: datetime | None
    opinion_delivered_at: datetime | None
    review_requested_at: datetime | None
    review_decided_at: datetime | None
    re_review_requested_at: datetime | None
    re_review_decided_at: datetime | None
    proxy_agent: str | None
    proxy_contact_due_from: datetime | None
    recorded_deadlines: Mapping[str, Deadline | None]  # by kind; a missing kind: derive it
    # read when present: proxy_contacts (mode → last at), entrustment, open_suggestions

    @property
    def group_petition(self) -> bool: ...


@dataclass(frozen=True)
class PolicyRules:
    """The operator's numbers (a TOML file; see adapters/data/policy.toml)."""

    timezone: str = "Asia/Shanghai"
    acceptance_days: int = 15
    answer_days: int = 60
    fast_tracks: Mapping[str, int] = field(
        default_factory=lambda: {SpeedTrack.SIMPLE.value: 0, SpeedTrack.GENERAL.value: 10}
    )
    max_extension_days: int = 30
    review_request_days: int = 30
    review_decision_days: int = 30
    re_review_request_days: int = 30
    re_review_decision_days: int = 30
    proxy_contact_days: int = 7
    proxy_contact_kinds: tuple[str, ...] = (ContactMode.VISIT.value, ContactMode.VIDEO.value)
    """Which contact kinds meet the weekly obligation to see the petitioner (见面)."""
    proxy_chase: Mapping[str, int | None] = field(default_factory=lambda: dict(DEFAULT_CHASE))
    suggestion_response_days: int = 30  # 三项建议权: the addressed unit's time to respond
    tracks: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_TRACKS))
    deemed_delivery_days: int = 7  # 送达 not recorded: deemed this many days after the decision
    group: Mapping[str, int] = field(  # 集体访: tighter limits (at most the general ones)
        default_factory=lambda: {"acceptance_days": 7, "answer_days": 30})

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("timezone", "fast_tracks", "tracks", "group", "proxy_contact_kinds",
                          "proxy_chase"):
                continue
            if type(value) is not int or not 0 <= value <= MAX_POLICY_DAYS:
                raise InvalidCommand(
                    f"policy: {f.name} must be a whole number in 0…{MAX_POLICY_DAYS}, "
                    f"got {value!r}")
        for track, days in self.fast_tracks.items():
            if track not in SpeedTrack.__members__.values() or type(days) is not int \
                    or not 0 <= days <= MAX_POLICY_DAYS:
                raise InvalidCommand(f"policy: bad fast track {track!r} = {days!r}")
        _check_tracks(self.tracks)
        for key, days in self.group.items():
            if key not in GROUP_LIMITS or type(days) is not int \
                    or not 0 <= days <= MAX_POLICY_DAYS:
                raise InvalidCommand(f"policy: bad [group] {key!r} = {days!r} (known: "
                                     f"{', '.join(GROUP_LIMITS)})")
        check_chase(self.proxy_chase)
        if not self.proxy_contact_kinds or any(
                k not in ContactMode.__members__.values() for k in self.proxy_contact_kinds):
            raise InvalidCommand("policy: proxy_contact_kinds must list contact kinds of "
                                 f"{', '.join(ContactMode)}, got {self.proxy_contact_kinds!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError, TypeError):
            raise InvalidCommand(f"policy: unknown timezone {self.timezone!r}") from None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PolicyRules:
        """Builds rules from parsed file data, naming any key it does not know."""
        reject_unknown_keys(cls, data, "setting")
        return cls(**data)

    def track_has(self, track: HandlingTrack | None, step: str) -> bool:
        """Whether cases of this handling track owe ``step`` (review, re_review)."""
        return track is not None and step in self.tracks.get(str(track), ())

    def answer_days_for(self, track: SpeedTrack | None, group: bool = False) -> int:
        days = self.fast_tracks.get(str(track), self.answer_days) if track else self.answer_days
        return min(days, self.group.get("answer_days", days)) if group else days

    def acceptance_days_for(self, group: bool = False) -> int:
        days = self.acceptance_days
        return min(days, self.group.get("acceptance_days", days)) if group else days


_DAYS_SETTING = {
    DeadlineKind.REVIEW_REQUEST: "review_request_days",
    DeadlineKind.REVIEW_DECISION: "review_decision_days",
    DeadlineKind.RE_REVIEW_REQUEST: "re_review_request_days",
    DeadlineKind.RE_REVIEW_DECISION: "re_review_decision_days",
    DeadlineKind.PROXY_CONTACT: "proxy_contact_days",
    DeadlineKind.SUGGESTION_RESPONSE: "suggestion_response_days",
}
"""The ``PolicyRules`` setting of each kind whose days do not depend on the case."""


class DeadlinePolicy:
    """Computes a deadline when its obligation starts; reads the recorded one afterwards."""

    def __init__(self, rules: PolicyRules | None = None, rest_days: RestDayCalendar = weekends):
        self.rules = rules or PolicyRules()
        self.rest_days = rest_days
        self.zone = ZoneInfo(self.rules.timezone)

    @property
    def calendar_version(self) -> str:
        version = getattr(self.rest_days, "version", None)
        return version if isinstance(version, str) else getattr(self.rest_days, "__name__",
                                                                "custom")

    def deadline(
        self, kind: DeadlineKind, start: datetime, days: int, *, roll: bool = True
    ) -> Deadline:
        """``days`` calendar days after ``start``'s local date, rolled past rest days."""
        due = nominal = start.astimezone(self.zone).date() + timedelta(days=days)
        while roll and self.rest_days(due):
            due += timedelta(days=1)
        expires = datetime.combine(due + timedelta(days=1), time(), tzinfo=self.zone)
        return Deadline(kind=kind, starts_at=start, due_on=due, expires_at=expires,
                        provisional=roll and self._provisional(nominal, due), days=days,
                        calendar=self.calendar_version if roll else "")

    def _provisional(self, first: date, last: date) -> bool:
        """Did the roll read a day of a year whose arrangement is unknown? (Years are whole.)"""
        unknown = getattr(self.rest_days, "is_provisional", None)
        return unknown is not None and (unknown(first) or unknown(last))

    # ------------------------------------------------------------ when an obligation starts
    def days_for(self, kind: DeadlineKind, speed_track: SpeedTrack | None = None,
                 group: bool = False) -> int:
        """The policy's number of days for an obligation of ``kind`` (``group``: of a group
        petition, 集体访, whose acceptance and answer limits may be shorter: ``[group]``)."""
        r = self.rules
        if kind == DeadlineKind.ACCEPTANCE:
            return r.acceptance_days_for(group)
        if kind == DeadlineKind.ANSWER:
            return r.answer_days_for(speed_track, group)
        # the others are plain settings: looked up, not all computed on every call (figure 1)
        days: int = getattr(r, _DAYS_SETTING[kind])
        return days

    def starting(self, kind: DeadlineKind, start: datetime, days: int | None = None, *,
                 speed_track: SpeedTrack | None = None, group: bool = False) -> Deadline:
        """The deadline to record for an obligation starting at ``start`` (``days``: the
        policy's for ``kind``). One beyond the calendar (years 1–9999) refuses the command."""
        try:
            return self.deadline(kind, start, self.days_for(kind, speed_track, group)
                                 if days is None else days)
        except CalendarBeyond:
            raise InvalidCommand(
                "business time leads to a deadline or supervision date outside the calendar "
                "(years 1–9999)") from None

    def window_after(self, step: str, decided: datetime, track: HandlingTrack | None
                     ) -> Deadline | None:
        """The petitioner's window to ask for ``step`` (review, re_review) after a written
        decision at ``decided``, deemed delivered (None: the track owes no such step)."""
        if not self.rules.track_has(track, step):
            return None
        kind = DeadlineKind.REVIEW_REQUEST if step == "review" \
            else DeadlineKind.RE_REVIEW_REQUEST
        return self.starting(kind, self.delivered_at(decided, None))

    # ------------------------------------------------------------ reading a case
    def current(self, case: CaseTimes) -> Deadline | None:
        """The deadline the case's present status runs against, if any (as recorded)."""
        s = case.status
        if s is Status.REGISTERED:
            return self._recorded(case, DeadlineKind.ACCEPTANCE)
        if s in (Status.ACCEPTED, Status.IN_HANDLING):
            return self.answer_deadline(case)
        if s is Status.ANSWERED:
            return self.review_window(case)
        if s is Status.UNDER_REVIEW and case.review_requested_at:
            return self._recorded(case, DeadlineKind.REVIEW_DECISION)
        if s is Status.REVIEWED:
            return self.re_review_window(case)
        if s is Status.UNDER_RE_REVIEW and case.re_review_requested_at:
            return self._recorded(case, DeadlineKind.RE_REVIEW_DECISION)
        return None

    def answer_deadline(self, case: CaseTimes) -> Deadline | None:
        """The answer deadline of the current handling round (also after the answer: was it met?)."""
        if case.handling_started_at is None:
            return None
        return self._recorded(case, DeadlineKind.ANSWER)

    def review_window(self, case: CaseTimes) -> Deadline | None:
        """Until when the petitioner may ask for 复查 (only once, only after an answer)."""
        if case.answered_at is None or case.review_requested_at is not None:
            return None
        return self._recorded(case, DeadlineKind.REVIEW_REQUEST)

    def re_review_window(self, case: CaseTimes) -> Deadline | None:
        """Until when the petitioner may ask for 复核 (only after a review decision)."""
        if case.review_decided_at is None or case.re_review_requested_at is not None:
            return None
        return self._recorded(case, DeadlineKind.RE_REVIEW_REQUEST)

    def _recorded(self, case: CaseTimes, kind: DeadlineKind) -> Deadline | None:
        """The recorded fact; for an obligation started by an event of before version 2, what
        this policy derives from the case's facts (how every earlier release computed it)."""
        recorded = case.recorded_deadlines
        return recorded[kind] if kind in recorded else self.derive(case, kind)

    def derive(self, case: CaseTimes, kind: DeadlineKind) -> Deadline | None:
        """The deadline of ``kind`` as this policy and calendar compute it from the case's facts
        today: for events written before deadlines were recorded, and to compare with the
        recorded one when revising (``DeadlineRevised``)."""
        r = self.rules
        if kind == DeadlineKind.ACCEPTANCE:
            return self.deadline(kind, case.received_at,
                                 r.acceptance_days_for(case.group_petition))
        if kind == DeadlineKind.ANSWER:
            if case.handling_started_at is None:
                return None
            days = r.answer_days_for(case.speed_track, case.group_petition) \
                + case.extension_days
            return self.deadline(kind, case.handling_started_at, days)
        if kind is DeadlineKind.REVIEW_REQUEST:
            if case.answered_at is None or not r.track_has(case.handling_track, "review"):
                return None
            return self.deadline(kind, self.delivered_at(case.answered_at,
                                                         case.answer_delivered_at),
                                 r.review_request_days)
        if kind is DeadlineKind.RE_REVIEW_REQUEST:
            if case.review_decided_at is None or not r.track_has(case.handling_track,
                                                                  "re_review"):
                return None
            return self.deadline(kind, self.delivered_at(case.review_decided_at,
                                                         case.opinion_delivered_at),
                                 r.re_review_request_days)
        start = case.review_requested_at if kind is DeadlineKind.REVIEW_DECISION \
            else case.re_review_requested_at if kind is DeadlineKind.RE_REVIEW_DECISION else None
        return None if start is None else self.deadline(kind, start, self.days_for(kind))

    def delivered_at(self, decided: datetime, recorded: datetime | None) -> datetime:
        """送达: the recorded delivery, else the deemed one ``deemed_delivery_days`` after the
        decision (Art. 35: the windows run from receipt of the written decision)."""
        return recorded if recorded is not None else \
            decided + timedelta(days=self.rules.deemed_delivery_days)

    def online_delivery_open(self, decided: datetime, now: datetime) -> bool:
        """Whether a first opening online at ``now`` still counts as the delivery: only before
        the deemed moment, which would otherwise have delivered it already."""
        return now < self.delivered_at(decided, None)

    def proxy_contact(self, case: CaseTimes) -> Deadline | None:
        """A proxy agent must meet the petitioner weekly while the case is open and the
        entrustment runs: the week runs from the proxy's start or the last contact of a kind
        the policy counts (``proxy_contact_kinds``); a phone call alone does not reset it. A
        week that would end after the entrustment's period is not owed.

        An internal service standard, not a statutory limit: it does not roll past rest days.
        """
        if case.proxy_agent is None or case.proxy_contact_due_from is None:
            return None
        if case.status in (Status.CLOSED, Status.DECLINED, Status.WITHDRAWN, Status.RE_REVIEWED):
            return None
        contacts = getattr(case, "proxy_contacts", {})
        start = max([case.proxy_contact_due_from,
                     *(contacts[k] for k in self.rules.proxy_contact_kinds if k in contacts)])
        deadline = self.deadline(DeadlineKind.PROXY_CONTACT, start,
                                 self.rules.proxy_contact_days, roll=False)
        entrustment = getattr(case, "entrustment", None)
        if entrustment is not None and deadline.expires_at > entrustment.valid_until:
            return None
        return deadline

    def suggestion_response(self, case: CaseTimes) -> Deadline | None:
        """The earliest open suggestion's response deadline (三项建议权), in working days' roll
        like any deadline a unit owes."""
        open_ = getattr(case, "open_suggestions", {})
        if not open_ or case.status in (Status.DECLINED, Status.WITHDRAWN):
            return None
        made_at = min(made for _, made in open_.values())
        return self.deadline(DeadlineKind.SUGGESTION_RESPONSE, made_at,
                             self.rules.suggestion_response_days)

    def open_deadlines(self, case: CaseTimes) -> list[Deadline]:
        """Every deadline running now: the status's own, the proxy's and a suggestion's."""
        return [d for d in (self.current(case), self.proxy_contact(case),
                            self.suggestion_response(case)) if d is not None]
