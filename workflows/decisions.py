"""What each case command asks of the aggregate: one line per command type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain.deadlines import DeadlinePolicy
from domain.derived_times import check_derivable
from domain.petition import Petition
from domain.supervision_ladder import LadderRules
from domain.units import OrgChart
from workflows import commands as c


@dataclass(frozen=True)
class Context:
    at: datetime
    org: OrgChart
    policy: DeadlinePolicy


DECISIONS: dict[type[c.CaseCommand], Callable[[Petition, Any, Context], None]] = {
    c.AcceptPetition: lambda p, cmd, k: p.accept(
        at=k.at, actor=cmd.actor, handling_track=cmd.handling_track, speed_track=cmd.speed_track),
    c.DeclinePetition: lambda p, cmd, k: p.decline(
        at=k.at, actor=cmd.actor, reason=cmd.reason, redirect_to=cmd.redirect_to),
    c.DelegatePetition: lambda p, cmd, k: p.delegate(
        at=k.at, actor=cmd.actor, unit=cmd.unit, mode=cmd.mode, note=cmd.note, org=k.org),
    c.EscalatePetition: lambda p, cmd, k: p.escalate(
        at=k.at, actor=cmd.actor, unit=cmd.unit, reason=cmd.reason, org=k.org, rule=cmd.rule,
        due_at=cmd.due_at),
    c.RequestExtension: lambda p, cmd, k: p.request_extension(
        at=k.at, actor=cmd.actor, days=cmd.days, reason=cmd.reason, policy=k.policy),
    c.ExtendDeadline: lambda p, cmd, k: p.extend_deadline(
        at=k.at, actor=cmd.actor, days=cmd.days, reason=cmd.reason,
        approved_by=cmd.actor, policy=k.policy),
    c.IssueSupervision: lambda p, cmd, k: p.supervise(
        at=k.at, actor=cmd.actor, level=cmd.level, reason=cmd.reason, rule=cmd.rule,
        due_at=cmd.due_at),
    c.AssignProxy: lambda p, cmd, k: p.assign_proxy(at=k.at, actor=cmd.actor, agent=cmd.agent),
    c.LogProxyContact: lambda p, cmd, k: p.log_proxy_contact(
        at=k.at, actor=cmd.actor, agent=cmd.agent, mode=cmd.mode, note=cmd.note),
    c.AnswerPetition: lambda p, cmd, k: p.answer_petition(
        at=k.at, actor=cmd.actor, unit=cmd.unit, answer=cmd.answer),
    c.DeliverDecision: lambda p, cmd, k: p.deliver(at=k.at, actor=cmd.actor, channel=cmd.channel),
    c.RatePetition: lambda p, cmd, k: p.rate(
        at=k.at, actor=cmd.actor, attitude=cmd.attitude, efficiency=cmd.efficiency,
        quality=cmd.quality, comment=cmd.comment),
    c.ConfirmAnswer: lambda p, cmd, k: p.confirm_answer(
        at=k.at, actor=cmd.actor, reason=cmd.reason),
    c.RequestReview: lambda p, cmd, k: p.request_review(
        at=k.at, actor=cmd.actor, reason=cmd.reason, policy=k.policy),
    c.DecideReview: lambda p, cmd, k: p.decide_review(
        at=k.at, actor=cmd.actor, unit=cmd.unit, outcome=cmd.outcome, opinion=cmd.opinion,
        org=k.org),
    c.RequestReReview: lambda p, cmd, k: p.request_re_review(
        at=k.at, actor=cmd.actor, reason=cmd.reason, policy=k.policy),
    c.DecideReReview: lambda p, cmd, k: p.decide_re_review(
        at=k.at, actor=cmd.actor, unit=cmd.unit, outcome=cmd.outcome, opinion=cmd.opinion,
        org=k.org),
    c.ClosePetition: lambda p, cmd, k: p.close(at=k.at, actor=cmd.actor, summary=cmd.summary),
    c.ReopenPetition: lambda p, cmd, k: p.reopen(at=k.at, actor=cmd.actor, reason=cmd.reason),
    c.WithdrawPetition: lambda p, cmd, k: p.withdraw(at=k.at, actor=cmd.actor, reason=cmd.reason),
}


def decide(petition: Petition, cmd: c.CaseCommand, at: datetime, org: OrgChart,
           policy: DeadlinePolicy, ladder: LadderRules) -> None:
    """Applies ``cmd`` to the loaded case; the aggregate raises if it refuses, and so does
    this if a deadline or ladder date of the resulting state cannot be computed — all before
    anything is appended."""
    DECISIONS[type(cmd)](petition, cmd, Context(at, org, policy))
    check_derivable(petition, policy, ladder)
