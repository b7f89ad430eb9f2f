"""The proxy agent's weekly contact obligation, chased like any other: who is told, and when.

From the proxy's start (启动代办) the agent must meet the petitioner at least weekly and keep
phone contact (Baotou: 每周至少与信访群众见面一次). Which contact kinds count as meeting is
policy (``proxy_contact_kinds``); a missed week is chased on its own short ladder — a reminder
to the agent, then a notice to the community above the petitioner's grid — each rung a number
of days after the missed week (``[proxy_chase]``). Pure: the caller passes ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from domain.deadlines import Deadline, DeadlineKind
from domain.proxy_chase_rules import DEFAULT_CHASE, PROXY_RUNGS
from domain.supervision_ladder import Measure


def due_chases(chase: Mapping[str, int | None], deadline: Deadline, reached: int,
               now: datetime) -> list[Measure]:
    """Rungs above ``reached`` (-1: none yet) of a missed week whose day has come."""
    if deadline.kind is not DeadlineKind.PROXY_CONTACT:
        return []
    out = []
    for rung in PROXY_RUNGS[reached + 1:]:
        days = chase.get(rung, DEFAULT_CHASE[rung])
        if days is None:
            continue
        due_at = deadline.expires_at + timedelta(days=days)
        if due_at <= now:
            out.append(Measure(rung, f"{DeadlineKind.PROXY_CONTACT.value}.{rung}", due_at))
    return out
