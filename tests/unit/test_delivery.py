"""送达: the review window runs from the day the written answer reached the petitioner, the
re-review window from the review opinion's delivery (信访工作条例 Art. 35). Without a recorded
delivery, the decision is deemed delivered ``deemed_delivery_days`` after it was given."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain.errors import IllegalTransition
from domain.values import DeliveryChannel, Status
from tests.unit.builders import later, plain_policy, reach


def _answered(org, policy):
    p = reach(org, policy, Status.ANSWERED)  # answered 2026-03-02 12:00 (+08:00)
    return p


# (deemed days, delivered days after the answer or None, the window's last day)
REVIEW_WINDOWS = [
    (0, None, date(2026, 4, 1)),  # no delivery recorded, deemed at once: 30 days from 03-02
    (7, None, date(2026, 4, 8)),  # deemed a week later: from 03-09
    (7, 2, date(2026, 4, 3)),  # delivered by post on 03-04: from then, the deemed date unused
    (0, 12, date(2026, 4, 13)),  # delivered on 03-14
]


@pytest.mark.parametrize(("deemed", "delivered", "last_day"), REVIEW_WINDOWS)
def test_review_window_runs_from_delivery(org, deemed, delivered, last_day) -> None:
    policy = plain_policy(deemed_delivery_days=deemed)
    p = _answered(org, policy)
    if delivered is not None:
        p.deliver(at=p.answered_at + timedelta(days=delivered), actor="h",
                  channel=DeliveryChannel.POST, policy=policy)
        assert p.answer_delivered_at == p.answered_at + timedelta(days=delivered)
    assert policy.review_window(p).due_on == last_day
    assert policy.current(p).due_on == last_day


def test_re_review_window_runs_from_the_opinion_delivery(org) -> None:
    policy = plain_policy(deemed_delivery_days=5)
    p = reach(org, policy, Status.REVIEWED)
    decided = p.review_decided_at
    assert policy.re_review_window(p).starts_at == decided + timedelta(days=5)
    p.deliver(at=later(p, days=1), actor="s", channel=DeliveryChannel.IN_PERSON, policy=policy)
    assert p.opinion_delivered_at == decided + timedelta(days=1)
    assert policy.re_review_window(p).starts_at == decided + timedelta(days=1)


def test_each_document_is_delivered_once(org, policy) -> None:
    p = _answered(org, policy)
    p.deliver(at=later(p), actor="h", channel=DeliveryChannel.POST, policy=policy)
    p.collect_events()
    with pytest.raises(IllegalTransition, match="already delivered"):
        p.deliver(at=later(p), actor="h", channel=DeliveryChannel.ONLINE, policy=policy)
    assert not p.collect_events()


def test_after_a_review_the_opinion_is_delivered_and_after_a_reopening_the_new_answer(
        org, policy) -> None:
    p = reach(org, policy, Status.REVIEWED)
    assert p.undelivered_document == "review_opinion"
    p.deliver(at=later(p), actor="s", channel=DeliveryChannel.POST, policy=policy)
    assert p.undelivered_document is None
    p.reopen(at=later(p), actor="s", reason="new facts", policy=policy)
    p.answer_petition(at=later(p), actor="h", unit="S11", answer="again", policy=policy)
    assert p.undelivered_document == "answer" and p.answer_delivered_at is None


def test_online_delivery_counts_only_before_the_deemed_moment(org) -> None:
    policy = plain_policy(deemed_delivery_days=3)
    p = _answered(org, policy)
    assert policy.online_delivery_open(p.answered_at, p.answered_at + timedelta(days=2))
    assert not policy.online_delivery_open(p.answered_at, p.answered_at + timedelta(days=3))
