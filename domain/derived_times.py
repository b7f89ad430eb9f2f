"""Every time a case's state implies, computed once while the command is being decided.

Deadlines and ladder dates are never stored: views, the supervision process and every read
derive them again from the events. If one of them could not be computed (a date beyond the
calendar's years 1–9999, in local time or in UTC), each of those readers would fail on the
stored event for ever. So a command is accepted only if every derived time of the state it
leads to can be computed; otherwise it is refused like any other broken rule, before anything
is appended.
"""

from __future__ import annotations

from datetime import UTC, datetime

from domain.deadlines import CaseTimes, Deadline, DeadlinePolicy
from domain.errors import InvalidCommand
from domain.supervision_ladder import CHASED_KINDS, RUNGS, LadderRules


def derived_times(case: CaseTimes, policy: DeadlinePolicy, ladder: LadderRules
                  ) -> list[datetime]:
    """The deadlines' expiries and every rung's trigger of the chased ones, in UTC."""
    deadlines = [policy.current(case), policy.answer_deadline(case), policy.review_window(case),
                 policy.re_review_window(case), policy.proxy_contact(case)]
    out: list[datetime] = []
    for deadline in (d for d in deadlines if d is not None):
        out.extend(_times_of(deadline, ladder))
    return [t.astimezone(UTC) for t in out]


def _times_of(deadline: Deadline, ladder: LadderRules) -> list[datetime]:
    times = [deadline.starts_at, deadline.expires_at]
    if deadline.kind in CHASED_KINDS:
        times.extend(t for t in (ladder.trigger(r, deadline) for r in RUNGS) if t is not None)
    return times


def check_derivable(case: CaseTimes, policy: DeadlinePolicy, ladder: LadderRules) -> None:
    """Refuses (InvalidCommand) a state whose deadlines or ladder dates leave the calendar."""
    try:
        derived_times(case, policy, ladder)
    except (OverflowError, ValueError):
        raise InvalidCommand(
            "business time leads to a deadline or supervision date outside the calendar "
            "(years 1–9999)") from None
