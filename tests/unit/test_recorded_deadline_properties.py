"""Whatever policy was in force at each step, and whatever policy reads the case now, the case
view shows the last deadline recorded for the obligation that runs (issue 13, part 2)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import events as ev
from domain.deadlines import Deadline, DeadlinePolicy, PolicyRules
from domain.errors import DomainError
from domain.petition import Petition
from domain.values import DeliveryChannel, HandlingTrack, ReviewOutcome, SpeedTrack
from projections.case_view import CaseViewProjection
from tests.unit.builders import decider, no_rest_days, register, small_chart

ORG = small_chart()
days = st.integers(min_value=0, max_value=90)
policies = st.builds(
    lambda a, b, c, d, e: DeadlinePolicy(PolicyRules(
        acceptance_days=a, answer_days=b, review_request_days=c, review_decision_days=d,
        re_review_request_days=e, re_review_decision_days=e, deemed_delivery_days=a % 8),
        no_rest_days),
    days, days, days, days, days)

Step = Callable[[Petition, DeadlinePolicy], None]
STEPS: dict[str, Step] = {
    "accept": lambda p, pol: p.accept(at=_later(p), actor="a", handling_track=HandlingTrack.CLAIM,
                                      speed_track=SpeedTrack.COMPLEX, policy=pol),
    "delegate": lambda p, pol: p.delegate(at=_later(p), actor="a", unit="S11", mode="assign",
                                          note="", org=ORG),
    "extend": lambda p, pol: p.extend_deadline(at=_later(p), actor="a", days=10, reason="r",
                                               approved_by="b", policy=pol),
    "answer": lambda p, pol: p.answer_petition(at=_later(p), actor="a", unit="S11",
                                               answer="x", policy=pol),
    "deliver": lambda p, pol: p.deliver(at=_later(p), actor="a", channel=DeliveryChannel.POST,
                                        policy=pol),
    "review": lambda p, pol: p.request_review(at=_later(p), actor="p", reason="r", policy=pol),
    "decide_review": lambda p, pol: p.decide_review(
        at=_later(p), actor="a", unit=decider(ORG, p.answered_by),
        outcome=ReviewOutcome.UPHELD, opinion="o", org=ORG, policy=pol),
    "re_review": lambda p, pol: p.request_re_review(at=_later(p), actor="p", reason="r",
                                                    policy=pol),
    "reopen": lambda p, pol: p.reopen(at=_later(p), actor="a", reason="r", policy=pol),
    "revise": lambda p, pol: p.revise_deadline(at=_later(p), actor="o", reason="r", policy=pol),
}


def _later(p: Petition) -> Any:
    return p.last_at + timedelta(hours=1)


def _last_recorded(events: list[Any]) -> dict[str, Deadline]:
    """The oracle: for each kind, the deadline of the last event that recorded one."""
    last: dict[str, Deadline] = {}
    for event in events:
        deadline = getattr(event, "deadline", None)
        if isinstance(deadline, Deadline):
            last[deadline.kind.value] = deadline
    return last


@settings(max_examples=200, deadline=None)
@given(first=policies, now=policies,
       script=st.lists(st.tuples(st.sampled_from(sorted(STEPS)), policies), max_size=14))
def test_the_case_views_deadline_is_the_last_recorded_fact(first, now, script) -> None:
    petition = register(ORG, policy=first)
    events = list(petition.collect_events())
    view = CaseViewProjection(None, policy=now, org=ORG, states=None)  # type: ignore[arg-type]
    for name, policy in script:
        try:
            STEPS[name](petition, policy)
        except DomainError:
            continue  # not allowed in this state: refused, nothing recorded
        events.extend(petition.collect_events())
        row = view.row(petition, position=len(events))
        if row["deadline_kind"] is None:
            continue
        fact = _last_recorded(events)[row["deadline_kind"]]
        assert row["deadline_due_on"] == fact.due_on.isoformat()
        assert row["deadline_expires_at"] == fact.expires_at
        assert row["deadline_provisional"] == int(fact.provisional)
    revised = [e for e in events if isinstance(e, ev.DeadlineRevised)]
    assert all(not r.deadline.same_dates(r.previous) for r in revised)
