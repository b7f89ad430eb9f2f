"""The rungs of the proxy-contact ladder and their check, apart from ``proxy_contact.py`` so
that the policy (``deadlines.py``) can validate its ``[proxy_chase]`` table without a cycle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.errors import InvalidCommand

MAX_DAYS = 3650  # deadlines.MAX_POLICY_DAYS

AGENT_REMINDER = "agent_reminder"  # 提醒代办员
COMMUNITY_NOTICE = "community_notice"  # 通报网格所在社区
PROXY_RUNGS: tuple[str, ...] = (AGENT_REMINDER, COMMUNITY_NOTICE)
DEFAULT_CHASE: Mapping[str, int | None] = {AGENT_REMINDER: 0, COMMUNITY_NOTICE: 3}


def check_chase(chase: Mapping[str, Any]) -> None:
    """Every rung known, whole days (or None: off), in order."""
    unknown = sorted(set(chase) - set(PROXY_RUNGS))
    if unknown:
        raise InvalidCommand(f"policy: unknown [proxy_chase] rung(s) {', '.join(unknown)}")
    offsets = []
    for rung, days in chase.items():
        if days is None:
            continue
        if type(days) is not int or not 0 <= days <= MAX_DAYS:
            raise InvalidCommand(f"policy: [proxy_chase] {rung} must be whole days in "
                                 f"0…{MAX_DAYS} or \"off\", got {days!r}")
        offsets.append((PROXY_RUNGS.index(rung), days))
    if [d for _, d in sorted(offsets)] != sorted(d for _, d in offsets):
        raise InvalidCommand("policy: [proxy_chase] rungs must not trigger out of order")
