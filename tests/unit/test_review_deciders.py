"""Who decides a review (复查) and a re-review (复核): 信访工作条例 Art. 35 — the organ one level
above the one that answered, then one level above the reviewer. Any other unit is refused and
the case is left as it was."""

from __future__ import annotations

import pytest

from domain.errors import InvalidCommand
from domain.values import ReviewOutcome, Status
from tests.unit.builders import later, reach

# (answering unit, review decider, accepted?)
REVIEWS = [
    ("S11", "D1", True),  # street answered → its district reviews
    ("S11", "S11", False),  # never the answering unit itself
    ("S11", "C", False),  # nor two levels up
    ("S11", "D2", False),  # nor another district
    ("S11", "K111", False),  # nor below
    ("D1", "C", True),  # district answered → the city reviews
    ("C", "C", True),  # the top of the chart reviews its own departments' answers
    ("C", "D1", False),
]


def _answered_by(org, policy, unit: str):
    p = reach(org, policy, Status.IN_HANDLING)
    if unit != p.responsible_unit:
        p.escalate(at=later(p), actor="a", unit=unit, reason="up", org=org)
    p.answer_petition(at=later(p), actor="h", unit=unit, answer="答复")
    p.request_review(at=later(p), actor="p", reason="不服", policy=policy)
    p.collect_events()
    return p


def _decide(p, org, unit: str, *, re: bool = False) -> None:
    decide = p.decide_re_review if re else p.decide_review
    decide(at=later(p), actor="r", unit=unit, outcome=ReviewOutcome.UPHELD, opinion="维持",
           org=org)


@pytest.mark.parametrize(("answered", "decider", "ok"), REVIEWS)
def test_review_decider(org, policy, answered, decider, ok) -> None:
    p = _answered_by(org, policy, answered)
    if ok:
        _decide(p, org, decider)
        assert p.status is Status.REVIEWED and p.reviewed_by == decider
    else:
        version = p.version
        with pytest.raises(InvalidCommand, match="is decided by"):
            _decide(p, org, decider)
        assert p.version == version and not p.collect_events()


# (reviewing unit, re-review decider, accepted?)
RE_REVIEWS = [("D1", "C", True), ("D1", "D1", False), ("D1", "S11", False), ("C", "C", True)]


@pytest.mark.parametrize(("reviewer", "decider", "ok"), RE_REVIEWS)
def test_re_review_decider(org, policy, reviewer, decider, ok) -> None:
    p = _answered_by(org, policy, "S11" if reviewer == "D1" else "C")
    _decide(p, org, reviewer)
    p.request_re_review(at=later(p), actor="p", reason="不服", policy=policy)
    p.collect_events()
    if ok:
        _decide(p, org, decider, re=True)
        assert p.status is Status.RE_REVIEWED
    else:
        with pytest.raises(InvalidCommand, match="is decided by"):
            _decide(p, org, decider, re=True)
        assert not p.collect_events() and p.status is Status.UNDER_RE_REVIEW


def test_an_unknown_decider_is_refused_by_name(org, policy) -> None:
    p = _answered_by(org, policy, "S11")
    with pytest.raises(InvalidCommand, match="unknown unit 'X9'"):
        _decide(p, org, "X9")
