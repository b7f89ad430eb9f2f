"""Hand-built organisation chart and petition builders shared by the unit tests (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

from domain.deadlines import DeadlinePolicy, PolicyRules
from domain.petition import Petition
from domain.units import OrgChart, Unit, UnitLevel
from domain.values import (
    Attachment,
    Channel,
    EntrustmentTerms,
    HandlingTrack,
    Location,
    Petitioner,
    RedirectChannel,
    ReviewOutcome,
    Satisfaction,
    SpeedTrack,
    Status,
)

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=CST)  # a Monday outside any holiday

# city C ─┬─ district D1 ─┬─ street S11 ─┬─ community K111
#         │               │              └─ community K112
#         │               └─ street S12 ─── community K121
#         └─ district D2 ─── street S21 ─── community K211
# grids (网格): G1111 and G1112 in K111, G2111 in K211
UNITS = [
    Unit("C", "City", UnitLevel.CITY),
    Unit("D1", "District 1", UnitLevel.DISTRICT, "C"),
    Unit("D2", "District 2", UnitLevel.DISTRICT, "C"),
    Unit("S11", "Street 1-1", UnitLevel.STREET, "D1"),
    Unit("S12", "Street 1-2", UnitLevel.STREET, "D1"),
    Unit("S21", "Street 2-1", UnitLevel.STREET, "D2"),
    Unit("K111", "Community 1-1-1", UnitLevel.COMMUNITY, "S11"),
    Unit("K112", "Community 1-1-2", UnitLevel.COMMUNITY, "S11"),
    Unit("K121", "Community 1-2-1", UnitLevel.COMMUNITY, "S12"),
    Unit("K211", "Community 2-1-1", UnitLevel.COMMUNITY, "S21"),
    Unit("G1111", "Grid 1-1-1-1", UnitLevel.GRID, "K111"),
    Unit("G1112", "Grid 1-1-1-2", UnitLevel.GRID, "K111"),
    Unit("G2111", "Grid 2-1-1-1", UnitLevel.GRID, "K211"),
]
SCOPE = ("file", "follow", "review", "withdraw")


def terms(at: datetime = T0, *, days: int = 90, grid: str = "G1111",
          scope: tuple[str, ...] = SCOPE, form: str = "entrusted") -> EntrustmentTerms:
    """A 委托书 for the tests: every scope, 90 days from ``at``."""
    return EntrustmentTerms(form, grid, scope, at + timedelta(days=days))


def entrust(p: Petition, org: OrgChart, agent: str, at: datetime, **kw: Any) -> None:
    """Signs an entrustment to ``agent`` at ``at`` (see ``terms``)."""
    t = terms(at, **kw)
    p.entrust(at=at, actor="clerk", agent=agent, form=t.form, grid=t.grid, scope=list(t.scope),
              valid_until=t.valid_until, org=org)


def small_chart() -> OrgChart:
    return OrgChart(UNITS)


def no_rest_days(_day: Any) -> bool:
    return False


def plain_policy(**rules: Any) -> DeadlinePolicy:
    """Default numbers with no rest days, so day arithmetic is plain."""
    return DeadlinePolicy(PolicyRules(**rules), no_rest_days)


def register(org: OrgChart, *, at: datetime = T0, received_by: str = "D1",
             proxy_agent: str | None = None, policy: DeadlinePolicy | None = None,
             attachments: tuple[Attachment, ...] = (), co_petitioners: int = 0) -> Petition:
    petition = Petition.register(
        case_id=uuid4(),
        at=at,
        actor="clerk",
        channel=Channel.LETTER,
        subject="Broken street lamp",
        content="The lamp has been dark for a month.",
        category="infrastructure",
        location=Location(district="D1", street="S11"),
        petitioner=Petitioner("Zhang San", "11010519491231002X", "13800000000"),
        co_petitioners=co_petitioners,
        received_by=received_by,
        proxy_agent=proxy_agent,
        query_code_hash="hash",
        org=org,
        policy=policy or DeadlinePolicy(),
        attachments=attachments,
        entrustment=terms(at) if proxy_agent else None,
    )
    petition.collect_events()
    return petition


def decider(org: OrgChart, below: str | None) -> str:
    """The unit that decides a review of ``below``'s answer (or a re-review of its review);
    any unit when there is none (the command is refused anyway)."""
    return "D1" if below is None else org.get(below).parent or below


def later(p: Petition, **delta: float) -> datetime:
    """A business time after the case's last event (one hour unless told)."""
    return p.last_at + (timedelta(**delta) if delta else timedelta(hours=1))


def step(p: Petition, org: OrgChart, policy: DeadlinePolicy, status: Status) -> None:
    """Moves ``p`` one canonical step towards ``status`` (see ``reach``)."""
    at = later(p)
    s = p.status
    if s is Status.REGISTERED and status is Status.DECLINED:
        p.decline(at=at, actor="clerk", reason="a court matter", redirect_to=RedirectChannel.LITIGATION)
    elif s is Status.REGISTERED and status is Status.WITHDRAWN:
        p.withdraw(at=at, actor="petitioner", reason="solved")
    elif s is Status.REGISTERED:
        p.accept(at=at, actor="clerk", handling_track=HandlingTrack.CLAIM,
                 speed_track=SpeedTrack.COMPLEX, policy=policy)
    elif s is Status.ACCEPTED:
        p.delegate(at=at, actor="clerk", unit="S11", mode="assign", note="", org=org)
    elif s is Status.IN_HANDLING:
        p.answer_petition(at=at, actor="officer", unit="S11", answer="Lamp repaired.",
                          policy=policy)
    elif s is Status.ANSWERED and status is Status.CLOSED:
        p.close(at=at, actor="clerk", summary="done")
    elif s is Status.ANSWERED:
        p.request_review(at=at, actor="petitioner", reason="not fixed", policy=policy)
    elif s is Status.UNDER_REVIEW:
        p.decide_review(at=at, actor="reviewer", unit="D1", outcome=ReviewOutcome.UPHELD,
                        opinion="The answer stands.", org=org, policy=policy)
    elif s is Status.REVIEWED:
        p.request_re_review(at=at, actor="petitioner", reason="still not fixed", policy=policy)
    elif s is Status.UNDER_RE_REVIEW:
        p.decide_re_review(at=at, actor="reviewer", unit="C", outcome=ReviewOutcome.UPHELD,
                           opinion="Final.", org=org)
    else:  # pragma: no cover - a bug in the test helper
        raise AssertionError(f"no canonical step from {s} to {status}")


PATH_ORDER = [
    Status.REGISTERED, Status.ACCEPTED, Status.IN_HANDLING, Status.ANSWERED,
    Status.UNDER_REVIEW, Status.REVIEWED, Status.UNDER_RE_REVIEW, Status.RE_REVIEWED,
]


def reach(org: OrgChart, policy: DeadlinePolicy, status: Status, **kw: Any) -> Petition:
    """A petition in ``status`` via the shortest canonical path, pending events collected."""
    p = register(org, policy=policy, **kw)
    while p.status is not status:
        step(p, org, policy, status)
    p.collect_events()
    return p


def rate_kwargs(value: Satisfaction = Satisfaction.SATISFIED) -> dict[str, Any]:
    return {"attitude": value, "efficiency": value, "quality": value, "comment": ""}


@dataclass
class Case:
    """The facts the policy reads (domain.deadlines.CaseTimes), set by hand."""

    status: Status = Status.REGISTERED
    received_at: datetime = T0
    speed_track: SpeedTrack | None = None
    handling_track: HandlingTrack | None = HandlingTrack.CLAIM
    handling_started_at: datetime | None = None
    extension_days: int = 0
    answered_at: datetime | None = None
    answer_delivered_at: datetime | None = None
    opinion_delivered_at: datetime | None = None
    review_requested_at: datetime | None = None
    review_decided_at: datetime | None = None
    re_review_requested_at: datetime | None = None
    re_review_decided_at: datetime | None = None
    proxy_agent: str | None = None
    proxy_contact_due_from: datetime | None = None
    # nothing recorded: every deadline is derived, as for a case written before version 2
    recorded_deadlines: dict[str, Any] = field(default_factory=dict)
    group_petition: bool = False
    open_suggestions: dict[int, tuple[str, datetime]] = field(default_factory=dict)
