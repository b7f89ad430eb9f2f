"""Every time a case's state implies, computed once while the command is being decided.

Deadlines are recorded by the events that start them (and computed then, by the command:
``DeadlinePolicy.starting`` refuses one beyond the calendar), but ladder dates, the proxy's
contact date and the deadlines of events written before version 2 are derived again by every
read: views, the supervision process, the pages. If one of them could not be computed (a date beyond the
calendar's years 1–9999, in local time or in UTC), each of those readers would fail on the
stored event for ever. So a command is accepted only if every derived time of the state it
leads to can be computed; otherwise it is refused like any other broken rule, before anything
is appended.

``derived_times`` computes every one of them (the reference); ``check_derivable`` runs on
every command and reaches the same verdict with less work (docs/performance.md, figure 1):
each deadline once, and of a ladder only its earliest and latest rung when both lie safely
inside the calendar, since every rung between them then does too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import lru_cache

from domain.deadlines import CaseTimes, Deadline, DeadlineKind, DeadlinePolicy
from domain.errors import InvalidCommand
from domain.supervision_ladder import CHASED_KINDS, RUNGS, LadderRules


def derived_times(case: CaseTimes, policy: DeadlinePolicy, ladder: LadderRules
                  ) -> list[datetime]:
    """The deadlines' expiries and every rung's trigger of the chased ones, in UTC."""
    deadlines = [policy.current(case), policy.answer_deadline(case), policy.review_window(case),
                 policy.re_review_window(case), policy.proxy_contact(case),
                 policy.suggestion_response(case)]
    out: list[datetime] = []
    for deadline in (d for d in deadlines if d is not None):
        out.extend(_times_of(deadline, ladder.for_case(case)))
    return [t.astimezone(UTC) for t in out]


def _times_of(deadline: Deadline, ladder: LadderRules) -> list[datetime]:
    times = [deadline.starts_at, deadline.expires_at]
    if deadline.kind in CHASED_KINDS:
        times.extend(t for t in (ladder.trigger(r, deadline) for r in RUNGS) if t is not None)
    return times


def check_derivable(case: CaseTimes, policy: DeadlinePolicy, ladder: LadderRules
                    ) -> Deadline | None:
    """Refuses (InvalidCommand) a state whose deadlines or ladder dates leave the calendar;
    returns the current deadline (the command's result reports it)."""
    try:
        current = policy.current(case)
        climbed = ladder.for_case(case)  # a group petition's own ladder
        for deadline in _deadlines(case, policy, current):
            _check(deadline, climbed)
    except (OverflowError, ValueError):
        raise InvalidCommand(
            "business time leads to a deadline or supervision date outside the calendar "
            "(years 1–9999)") from None
    return current


_OTHERS = (
    (DeadlineKind.ANSWER, "answer_deadline"),
    (DeadlineKind.REVIEW_REQUEST, "review_window"),
    (DeadlineKind.RE_REVIEW_REQUEST, "re_review_window"),
    (DeadlineKind.PROXY_CONTACT, "proxy_contact"),
    (DeadlineKind.SUGGESTION_RESPONSE, "suggestion_response"),
)
"""Each kind is computed by exactly one method: when the current deadline has that kind it
*is* that method's result, so it is not computed twice."""


def _deadlines(case: CaseTimes, policy: DeadlinePolicy, current: Deadline | None
               ) -> list[Deadline]:
    out = [] if current is None else [current]
    kind = None if current is None else current.kind
    for other_kind, method in _OTHERS:
        if other_kind is not kind and (d := getattr(policy, method)(case)) is not None:
            out.append(d)
    return out


def _check(deadline: Deadline, ladder: LadderRules) -> None:
    deadline.starts_at.astimezone(UTC)
    expires = deadline.expires_at
    expires.astimezone(UTC)
    if deadline.kind not in CHASED_KINDS:
        return
    span = _span(ladder)
    if span is None:
        return
    first, last = expires + span[0], expires + span[1]  # raises as the rungs' own sums would
    # Wall times in the years 2…9998 are a day or more inside the calendar: any UTC offset
    # (less than 24 h by Python's rule) converts them, and every rung lies between the two.
    if first.year > 1 and last.year < 9999:
        return
    for rung in RUNGS:
        trigger = ladder.trigger(rung, deadline)
        if trigger is not None:
            trigger.astimezone(UTC)


@lru_cache(maxsize=16)
def _span(ladder: LadderRules) -> tuple[timedelta, timedelta] | None:
    """The earliest and latest enabled rung's offset (rungs are validated to be in order,
    but the minimum and maximum do not rely on it)."""
    offsets = ladder.offsets()
    return (timedelta(days=min(offsets)), timedelta(days=max(offsets))) if offsets else None
