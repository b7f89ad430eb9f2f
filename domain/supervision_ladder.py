"""The 三函一约谈 ladder as rules: which measure is due for an obligation, given its deadline.

Rungs are ordered: reminder (before the deadline) → supervision letter → accountability
suggestion → interview → escalation to the parent unit (after it). Each rung's trigger is a
number of days relative to the obligation's deadline, from the policy file. Pure: the caller
passes ``now``; nothing here knows a clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.business_time import shifted
from domain.deadlines import (
    MAX_POLICY_DAYS,
    Deadline,
    DeadlineKind,
    reject_unknown_keys,
)
from domain.errors import InvalidCommand
from domain.values import SupervisionLevel

ESCALATION = "escalation"
RUNGS: tuple[str, ...] = (*(level.value for level in SupervisionLevel), ESCALATION)
"""Every rung in order; a rung's rank is its index."""

CHASED_KINDS = frozenset({DeadlineKind.ACCEPTANCE, DeadlineKind.ANSWER,
                          DeadlineKind.REVIEW_DECISION, DeadlineKind.RE_REVIEW_DECISION})
"""Obligations of units; the petitioner's windows and the proxy's contact are not chased."""


ESCALABLE_KINDS = frozenset({DeadlineKind.ANSWER})
"""Obligations whose last rung is escalation: only handling can move up to the parent unit.
An acceptance decision belongs to the unit that received the petition, and a review or
re-review decision to the organ the Regulations name (Art. 35), so their ladders end at the
interview."""


def rungs_for(kind: DeadlineKind) -> tuple[str, ...]:
    """The rungs an obligation of ``kind`` climbs, in order."""
    return RUNGS if kind in ESCALABLE_KINDS else RUNGS[:-1]


def rank(rung: str) -> int:
    return RUNGS.index(rung)


@dataclass(frozen=True)
class LadderRules:
    """Days relative to the deadline's expiry (negative: before it). ``None`` turns a rung off.
    ``group``: the tighter ladder of group petitions (集体访, ``[supervision.group]``), if any."""

    reminder: int | None = -3
    supervision_letter: int | None = 0
    accountability: int | None = 10
    interview: int | None = 20
    escalation: int | None = 30
    group: LadderRules | None = None

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> LadderRules:
        data = dict(data)
        group = data.pop("group", None)
        if group is not None and (not isinstance(group, Mapping) or "group" in group):
            raise InvalidCommand("policy: [supervision.group] must be a table of rungs")
        reject_unknown_keys(cls, data, "supervision rung")
        rules = cls(**{k: _offset(k, v) for k, v in data.items()},
                    group=None if group is None else cls.from_mapping(group))
        offsets = rules.offsets()
        if offsets != sorted(offsets):
            raise InvalidCommand("policy: supervision rungs must not trigger out of order")
        return rules

    def for_case(self, case: Any) -> LadderRules:
        """The ladder a case climbs: the group ladder for a group petition, if configured."""
        return self.group if self.group is not None and case.group_petition else self

    def offsets(self) -> list[int]:
        """The enabled rungs' offsets, in rung order."""
        return [o for o in (getattr(self, r) for r in RUNGS) if o is not None]

    def lead_days(self) -> int:
        """How many days before a deadline the earliest enabled rung of either ladder triggers
        (0: none do)."""
        group = self.group.offsets() if self.group is not None else []
        return -min([0, *self.offsets(), *group])

    def trigger(self, rung: str, deadline: Deadline) -> datetime | None:
        offset = getattr(self, rung)
        return None if offset is None else deadline.expires_at + timedelta(days=offset)


def _offset(rung: str, value: Any) -> int | None:
    if value is None or value == "off":
        return None
    if isinstance(value, bool) or not isinstance(value, int) \
            or not -MAX_POLICY_DAYS <= value <= MAX_POLICY_DAYS:
        raise InvalidCommand(
            f'policy: supervision.{rung} must be a whole number of days or "off" '
            f'(at most {MAX_POLICY_DAYS} either way), got {value!r}')
    return value


@dataclass(frozen=True)
class Measure:
    rung: str
    rule: str  # e.g. "answer.supervision_letter": the obligation kind and the rung
    due_at: datetime


def due_measures(rules: LadderRules, deadline: Deadline, reached: int, now: datetime
                 ) -> list[Measure]:
    """Rungs above ``reached`` (rank of the highest issued; -1 for none) whose trigger passed."""
    if deadline.kind not in CHASED_KINDS:
        return []
    out = []
    for rung in rungs_for(deadline.kind)[reached + 1:]:
        at = rules.trigger(rung, deadline)
        if at is not None and at <= now:
            out.append(Measure(rung, f"{deadline.kind.value}.{rung}", at))
    return out


def next_measure(rules: LadderRules, deadline: Deadline, reached: int,
                 last_issued_at: datetime | None = None) -> Measure | None:
    """The next rung, and when it is due: its trigger, or later when the rung before it was
    issued late (``last_issued_at``) — then the policy's spacing between the two counts from
    that issue, so a ladder found long overdue is climbed at the policy's pace."""
    if deadline.kind not in CHASED_KINDS:
        return None
    for rung in rungs_for(deadline.kind)[reached + 1:]:
        at = rules.trigger(rung, deadline)
        if at is not None:
            return Measure(rung, f"{deadline.kind.value}.{rung}",
                           _paced(rules, deadline, reached, at, last_issued_at))
    return None


def next_due(rules: LadderRules, deadline: Deadline, reached: int, now: datetime,
             last_issued_at: datetime | None) -> Measure | None:
    """The one rung to issue at ``now``, if any: a supervisor issues the ladder one rung at a
    time, each giving the unit the policy's time to act before the next."""
    upcoming = next_measure(rules, deadline, reached, last_issued_at)
    return upcoming if upcoming is not None and upcoming.due_at <= now else None


def _paced(rules: LadderRules, deadline: Deadline, reached: int, trigger: datetime,
           last_issued_at: datetime | None) -> datetime:
    """``trigger``, or the previous rung's issue plus the spacing the policy puts between
    the two rungs (counted from when the obligation began if the previous rung's trigger lay
    before it, as a simple case's reminder does)."""
    if reached < 0 or last_issued_at is None:
        return trigger
    before = rules.trigger(RUNGS[reached], deadline)
    since = trigger if before is None else max(before, deadline.starts_at)
    # stopped at the calendar's end: a ladder paced past year 9999 is simply never due
    return max(trigger, shifted(last_issued_at, max(trigger - since, timedelta(0))))
