"""The petition's state machine: the paths the law allows and the refusals that leave no trace."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import pytest

from domain.errors import IllegalTransition, InvalidCommand, UnknownUnit
from domain.lifecycle import ALLOWED, allowed_commands
from domain.petition import Petition
from domain.values import (
    ContactMode,
    HandlingTrack,
    Location,
    Petitioner,
    RedirectChannel,
    ReviewOutcome,
    Satisfaction,
    SpeedTrack,
    Status,
    SuggestionKind,
    SupervisionLevel,
)
from tests.unit.builders import T0, entrust, later, plain_policy, rate_kwargs, reach, register

# One valid-looking call per command of the lifecycle table, by its table name.
Invoker = Callable[[Petition, datetime, Any, Any], None]
INVOKERS: dict[str, Invoker] = {
    "accept": lambda p, at, org, pol: p.accept(
        at=at, actor="a", handling_track=HandlingTrack.CLAIM, speed_track=SpeedTrack.GENERAL),
    "decline": lambda p, at, org, pol: p.decline(
        at=at, actor="a", reason="court", redirect_to=RedirectChannel.LITIGATION),
    "concluded-matter": lambda p, at, org, pol: p.decide_concluded_matter(
        at=at, actor="a", decision="decline_concluded", reason="不再受理"),
    "delegate": lambda p, at, org, pol: p.delegate(
        at=at, actor="a", unit="K111", mode="assign", note="", org=org),
    "escalate": lambda p, at, org, pol: p.escalate(at=at, actor="a", unit="C", reason="r", org=org),
    "extend-request": lambda p, at, org, pol: p.request_extension(
        at=at, actor="a", days=10, reason="r", policy=pol),
    "extend": lambda p, at, org, pol: p.extend_deadline(
        at=at, actor="a", days=10, reason="r", approved_by="boss", policy=pol),
    "supervise": lambda p, at, org, pol: p.supervise(
        at=at, actor="a", level=SupervisionLevel.REMINDER, reason="late"),
    "entrust": lambda p, at, org, pol: entrust(p, org, "agent-9", at),
    "revoke-entrustment": lambda p, at, org, pol: p.revoke_entrustment(
        at=at, actor="a", reason="r"),
    "assign-proxy": lambda p, at, org, pol: p.assign_proxy(at=at, actor="a", agent="agent-9"),
    "log-proxy-contact": lambda p, at, org, pol: p.log_proxy_contact(
        at=at, actor="a", agent="agent-9", mode=ContactMode.PHONE, note=""),
    "add-co-petitioner": lambda p, at, org, pol: p.add_co_petitioner(
        at=at, actor="a", name="Li Si", id_number="440305198706230016", phone="139"),
    "chase-proxy-contact": lambda p, at, org, pol: p.chase_proxy_contact(
        at=at, actor="s", rung="agent_reminder", policy=pol, org=org),
    "suggest": lambda p, at, org, pol: p.suggest(
        at=at, actor="s", kind=SuggestionKind.IMPROVE_WORK, unit="S11", text="t", org=org),
    "respond-suggestion": lambda p, at, org, pol: p.respond_suggestion(
        at=at, actor="h", number=1, unit="S11", response="r"),
    "book-reception": lambda p, at, org, pol: p.book_reception(
        at=at, actor="p", slot_id="s-1", unit="D1", leader="L", mode="video",
        starts_at=at + timedelta(days=1), org=org),
    "cancel-reception": lambda p, at, org, pol: p.cancel_reception(at=at, actor="p"),
    "remind-reception": lambda p, at, org, pol: p.remind_reception(
        at=at, actor="s", slot_id="s-1"),
    "record-reception": lambda p, at, org, pol: p.record_reception(
        at=at, actor="a", unit="D1", leader="L", mode="in_person", outcome="o", org=org),
    "answer": lambda p, at, org, pol: p.answer_petition(at=at, actor="a", unit="S11", answer="x"),
    "deliver": lambda p, at, org, pol: p.deliver(at=at, actor="h", channel="post"),
    "rate": lambda p, at, org, pol: p.rate(at=at, actor="p", **rate_kwargs()),
    "confirm-answer": lambda p, at, org, pol: p.confirm_answer(at=at, actor="head", reason="r"),
    "review": lambda p, at, org, pol: p.request_review(at=at, actor="p", reason="r", policy=pol),
    "review-decision": lambda p, at, org, pol: p.decide_review(
        at=at, actor="a", unit="D1", outcome=ReviewOutcome.UPHELD, opinion="o", org=org),
    "re-review": lambda p, at, org, pol: p.request_re_review(
        at=at, actor="p", reason="r", policy=pol),
    "re-review-decision": lambda p, at, org, pol: p.decide_re_review(
        at=at, actor="a", unit="C", outcome=ReviewOutcome.UPHELD, opinion="o", org=org),
    "close": lambda p, at, org, pol: p.close(at=at, actor="a", summary="s"),
    "reopen": lambda p, at, org, pol: p.reopen(at=at, actor="a", reason="r"),
    "withdraw": lambda p, at, org, pol: p.withdraw(at=at, actor="p", reason="r"),
    "add-attachment": lambda p, at, org, pol: p.add_attachment(
        at=at, actor="petitioner", sha256="a" * 64, media_type="image/png", size=9,
        file_name="补充.png"),
    "attach-document": lambda p, at, org, pol: p.attach_document(
        at=at, actor="h", sha256="b" * 64, media_type="application/pdf", size=9,
        file_name="答复意见书.pdf"),
}


def assert_refused(p: Petition, call: Callable[[], None],
                   error: type[Exception] = IllegalTransition) -> Exception:
    """The call raises ``error`` and leaves the aggregate exactly as it was."""
    before = copy.deepcopy(p.__dict__)
    version = p.version
    with pytest.raises(error) as caught:
        call()
    assert p.version == version
    assert p.collect_events() == []
    assert p.__dict__ == before
    return caught.value


def test_every_table_command_has_an_invoker() -> None:
    """Guards the exhaustive refusal test below against a command added to the table only."""
    assert set(INVOKERS) == set(ALLOWED)


def test_happy_path_register_to_close(org, policy) -> None:
    """The ordinary life of a case, checking the state each fact leaves behind."""
    p = register(org, proxy_agent="agent-1")  # filed by the agent: Registered, EntrustmentSigned
    assert (p.status, p.holder, p.received_by, p.version) == (Status.REGISTERED, "D1", "D1", 2)
    assert p.allowed_commands == unflagged(Status.REGISTERED)

    accepted_at = later(p)
    p.accept(at=accepted_at, actor="clerk", handling_track=HandlingTrack.CLAIM,
             speed_track=SpeedTrack.GENERAL)
    assert (p.status, p.speed_track, p.handling_started_at) == (
        Status.ACCEPTED, SpeedTrack.GENERAL, accepted_at)

    p.delegate(at=later(p), actor="clerk", unit="S11", mode="transfer", note="yours", org=org)
    assert (p.status, p.responsible_unit, p.holder, p.obligated_unit) == (
        Status.IN_HANDLING, "S11", "D1", "S11")

    answered_at = later(p)
    p.answer_petition(at=answered_at, actor="officer", unit="S11", answer="  Repaired.  ")
    assert (p.status, p.answer, p.answered_by, p.answered_at) == (
        Status.ANSWERED, "Repaired.", "S11", answered_at)

    p.rate(at=later(p), actor="petitioner", **rate_kwargs(Satisfaction.BASICALLY_SATISFIED))
    assert p.ratings is not None and not p.ratings.unsatisfied

    closed_at = later(p)
    p.close(at=closed_at, actor="clerk", summary="done")
    assert (p.status, p.closed_at, p.is_open) == (Status.CLOSED, closed_at, False)
    assert p.version == 7
    assert [type(e).__name__ for e in p.collect_events()] == [
        "Accepted", "Delegated", "Answered", "Rated", "Closed"]


# ------------------------------------------------------------------ the table, exhaustively
FORBIDDEN = [
    (command, status)
    for command, allowed in ALLOWED.items()
    for status in Status
    if status not in allowed
]


def unflagged(status: Status) -> tuple[str, ...]:
    """What a case not flagged as a concluded matter allows: nothing to decide about it."""
    return tuple(name for name in allowed_commands(status) if name != "concluded-matter")


@pytest.mark.parametrize(("command", "status"), FORBIDDEN, ids=[f"{c}@{s}" for c, s in FORBIDDEN])
def test_command_refused_where_the_table_forbids_it(org, policy, command, status) -> None:
    """Every forbidden (command, status) pair raises IllegalTransition and leaves no trace."""
    p = reach(org, policy, status)
    error = assert_refused(p, lambda: INVOKERS[command](p, later(p), org, policy))
    assert isinstance(error, IllegalTransition)
    assert (error.command, error.state, error.allowed) == (
        command, status.value, unflagged(status))
    assert f"state '{status.value}'" in str(error)
    for name in unflagged(status):
        assert name in str(error)


def test_table_refusal_comes_before_time_checks(org, policy) -> None:
    """A forbidden command is named as such even with a bad business time."""
    p = reach(org, policy, Status.CLOSED)
    assert_refused(p, lambda: INVOKERS["accept"](p, T0 - timedelta(days=1), org, policy))


# ------------------------------------------------------------------ terminal states
@pytest.mark.parametrize("terminal", [Status.DECLINED, Status.WITHDRAWN])
def test_decline_and_withdraw_are_terminal(org, policy, terminal) -> None:
    """Nothing at all may follow a decline or a withdrawal."""
    p = reach(org, policy, terminal)
    assert p.allowed_commands == ()
    assert not p.is_open and p.closed_at is not None
    for command in ALLOWED:
        assert_refused(p, lambda c=command: INVOKERS[c](p, later(p), org, policy))


def test_decline_records_the_redirect(org, policy) -> None:
    p = reach(org, policy, Status.DECLINED)
    assert p.redirect_to is RedirectChannel.LITIGATION and p.decline_reason == "a court matter"


@pytest.mark.parametrize("status", [Status.REGISTERED, Status.ACCEPTED, Status.IN_HANDLING])
def test_withdraw_allowed_before_the_answer(org, policy, status) -> None:
    p = reach(org, policy, status)
    p.withdraw(at=later(p), actor="petitioner", reason="settled")
    assert p.status is Status.WITHDRAWN


# ------------------------------------------------------------------ review and re-review
def test_review_within_window_then_decision_then_re_review(org, policy) -> None:
    """The last day of the 30-day window still counts; the decision opens the re-review."""
    p = reach(org, policy, Status.ANSWERED)
    last_moment = policy.review_window(p).expires_at - timedelta(microseconds=1)
    p.request_review(at=last_moment, actor="p", reason="r", policy=policy)
    assert (p.status, p.review_requested_at) == (Status.UNDER_REVIEW, last_moment)
    p.decide_review(at=later(p), actor="r", unit="D1", outcome=ReviewOutcome.REVISED,
                    opinion="o", org=org)
    assert (p.status, p.review_outcome) == (Status.REVIEWED, ReviewOutcome.REVISED)
    p.request_re_review(at=later(p), actor="p", reason="r", policy=policy)
    assert p.status is Status.UNDER_RE_REVIEW
    p.decide_re_review(at=later(p), actor="r", unit="C", outcome=ReviewOutcome.UPHELD,
                       opinion="final", org=org)
    assert (p.status, p.re_review_outcome) == (Status.RE_REVIEWED, ReviewOutcome.UPHELD)


def test_review_after_window_refused(org, policy) -> None:
    """At local midnight after the window's last day the right to a review has lapsed."""
    p = reach(org, policy, Status.ANSWERED)
    expires = policy.review_window(p).expires_at
    error = assert_refused(
        p, lambda: p.request_review(at=expires, actor="p", reason="r", policy=policy))
    assert "window closed" in str(error)


def test_review_twice_refused(org, policy) -> None:
    """Review is asked once: after the decision and closing, a second request is refused."""
    p = reach(org, policy, Status.REVIEWED)
    p.close(at=later(p), actor="clerk", summary="s")
    p.collect_events()
    assert_refused(p, lambda: p.request_review(at=later(p), actor="p", reason="r", policy=policy))


def test_review_from_closed_within_window(org, policy) -> None:
    """Closing does not take away the petitioner's right to ask for a review in time."""
    p = reach(org, policy, Status.CLOSED)
    p.request_review(at=later(p), actor="p", reason="r", policy=policy)
    assert p.status is Status.UNDER_REVIEW


def test_re_review_after_window_refused(org, policy) -> None:
    p = reach(org, policy, Status.REVIEWED)
    expires = policy.re_review_window(p).expires_at
    assert_refused(p, lambda: p.request_re_review(at=expires, actor="p", reason="r",
                                                  policy=policy))


def test_re_review_twice_refused(org, policy) -> None:
    p = reach(org, policy, Status.RE_REVIEWED)
    p.close(at=later(p), actor="clerk", summary="s")
    p.collect_events()
    assert_refused(p, lambda: p.request_re_review(at=later(p), actor="p", reason="r",
                                                  policy=policy))


def test_re_review_without_review_refused(org, policy) -> None:
    """A closed case that was never reviewed has no review decision to re-review."""
    p = reach(org, policy, Status.CLOSED)
    assert_refused(p, lambda: p.request_re_review(at=later(p), actor="p", reason="r",
                                                  policy=policy))


# ------------------------------------------------------------------ reopen
@pytest.mark.parametrize("status", [Status.ANSWERED, Status.CLOSED, Status.REVIEWED])
def test_reopen_clears_answer_and_restarts_the_answer_deadline(org, policy, status) -> None:
    p = reach(org, policy, status)
    if status is not Status.REVIEWED:
        p.rate(at=later(p), actor="p", **rate_kwargs(Satisfaction.UNSATISFIED))
    reopened_at = later(p, days=3)
    p.reopen(at=reopened_at, actor="clerk", reason="unsatisfied")
    assert p.status is Status.IN_HANDLING
    assert (p.answer, p.answered_by, p.answered_at, p.ratings, p.rated_at) == (
        None, None, None, None, None)
    assert (p.handling_started_at, p.reopen_count, p.closed_at) == (reopened_at, 1, None)
    assert p.responsible_unit == "S11"
    deadline = policy.current(p)
    assert deadline.starts_at == reopened_at
    assert deadline.due_on == reopened_at.date() + timedelta(days=60)


def test_reopen_keeps_the_one_extension_of_the_matter_used(org, policy) -> None:
    """信访工作条例 Art. 32: one extension per matter. A reopened case gets a fresh answer
    deadline without the old extension's days, and cannot be extended again."""
    p = reach(org, policy, Status.IN_HANDLING)
    p.extend_deadline(at=later(p), actor="a", days=5, reason="r", approved_by="b", policy=policy)
    p.answer_petition(at=later(p), actor="o", unit="S11", answer="a")
    p.reopen(at=later(p), actor="clerk", reason="r")
    assert (p.extension_days, p.extension_used, p.extension_granted_days) == (0, True, 5)
    p.collect_events()
    for attempt in (
        lambda: p.extend_deadline(at=later(p), actor="a", days=7, reason="r", approved_by="b",
                                  policy=policy),
        lambda: p.request_extension(at=later(p), actor="a", days=7, reason="r", policy=policy),
    ):
        assert "one extension was already granted" in str(assert_refused(p, attempt))


def test_reopen_refused_after_re_review_decision(org, policy) -> None:
    """A re-review decision concludes the matter (终结): even a closed case stays closed."""
    p = reach(org, policy, Status.RE_REVIEWED)
    p.close(at=later(p), actor="clerk", summary="s")
    p.collect_events()
    error = assert_refused(p, lambda: p.reopen(at=later(p), actor="a", reason="r"))
    assert "终结" in str(error)


# ------------------------------------------------------------------ specific rules
def test_answer_before_delegation_refused(org, policy) -> None:
    p = reach(org, policy, Status.ACCEPTED)
    assert_refused(p, lambda: p.answer_petition(at=later(p), actor="a", unit="D1", answer="x"))


def test_only_the_responsible_unit_may_answer(org, policy) -> None:
    p = reach(org, policy, Status.IN_HANDLING)
    for unit in ("D1", "K111", "S12"):
        assert_refused(p, lambda u=unit: p.answer_petition(at=later(p), actor="a", unit=u,
                                                         answer="x"), InvalidCommand)


def test_rate_twice_refused(org, policy) -> None:
    p = reach(org, policy, Status.ANSWERED)
    p.rate(at=later(p), actor="p", **rate_kwargs())
    p.collect_events()
    error = assert_refused(p, lambda: p.rate(at=later(p), actor="p", **rate_kwargs()))
    assert "already rated" in str(error)


def test_confirm_answer_settles_an_unsatisfied_rating_once(org, policy) -> None:
    """Only an unsatisfied rating awaits confirmation, and only until it is confirmed."""
    p = reach(org, policy, Status.ANSWERED)
    assert_refused(p, lambda: p.confirm_answer(at=later(p), actor="head", reason="r"))
    p.rate(at=later(p), actor="p", **rate_kwargs(Satisfaction.UNSATISFIED))
    assert p.unsatisfied_pending
    p.confirm_answer(at=later(p), actor="head", reason="the answer is lawful")
    assert not p.unsatisfied_pending and p.status is Status.ANSWERED
    p.collect_events()
    error = assert_refused(p, lambda: p.confirm_answer(at=later(p), actor="head", reason="r"))
    assert "no unsatisfied rating" in str(error)


def test_satisfied_rating_needs_no_confirmation(org, policy) -> None:
    p = reach(org, policy, Status.CLOSED)
    p.rate(at=later(p), actor="p", **rate_kwargs(Satisfaction.BASICALLY_SATISFIED))
    p.collect_events()
    assert_refused(p, lambda: p.confirm_answer(at=later(p), actor="head", reason="r"))


def test_reopen_drops_a_pending_confirmation(org, policy) -> None:
    p = reach(org, policy, Status.ANSWERED)
    p.rate(at=later(p), actor="p", **rate_kwargs(Satisfaction.UNSATISFIED))
    p.reopen(at=later(p), actor="clerk", reason="unsatisfied")
    assert not p.unsatisfied_pending


def test_rate_after_close_allowed_once(org, policy) -> None:
    p = reach(org, policy, Status.CLOSED)
    p.rate(at=later(p), actor="p", **rate_kwargs(Satisfaction.UNSATISFIED))
    assert p.ratings.unsatisfied and p.status is Status.CLOSED


def test_extend_once_per_matter(org, policy) -> None:
    p = reach(org, policy, Status.IN_HANDLING)
    p.extend_deadline(at=later(p), actor="a", days=30, reason="r", approved_by="b", policy=policy)
    assert (p.extension_days, p.extension_used, p.extension_reason) == (30, True, "r")
    p.collect_events()
    assert_refused(p, lambda: p.extend_deadline(at=later(p), actor="a", days=1, reason="r",
                                                approved_by="b", policy=policy))


@pytest.mark.parametrize("days", [0, -1, 31])
def test_extension_outside_policy_limit_refused(org, policy, days) -> None:
    p = reach(org, policy, Status.IN_HANDLING)
    error = assert_refused(p, lambda: p.extend_deadline(
        at=later(p), actor="a", days=days, reason="r", approved_by="b", policy=policy),
        InvalidCommand)
    assert "between 1 and 30" in str(error)
    assert_refused(p, lambda: p.request_extension(at=later(p), actor="a", days=days, reason="r",
                                                  policy=policy), InvalidCommand)


def test_extension_request_then_approval(org, policy) -> None:
    """A handler asks once; the approval extends the deadline and settles the request."""
    p = reach(org, policy, Status.IN_HANDLING)
    p.request_extension(at=later(p), actor="officer", days=20, reason="site visit",
                        policy=policy)
    assert (p.extension_requested_days, p.extension_days) == (20, 0)
    p.collect_events()
    error = assert_refused(p, lambda: p.request_extension(
        at=later(p), actor="officer", days=5, reason="r", policy=policy))
    assert "already pending" in str(error)
    p.extend_deadline(at=later(p), actor="head", days=20, reason="ok", approved_by="head",
                      policy=policy)
    assert (p.extension_requested_days, p.extension_days, p.extension_used) == (
        None, 20, True)
    p.collect_events()
    error = assert_refused(p, lambda: p.request_extension(
        at=later(p), actor="officer", days=5, reason="r", policy=policy))
    assert "already granted" in str(error)


def test_reopen_drops_a_pending_extension_request(org, policy) -> None:
    p = reach(org, policy, Status.IN_HANDLING)
    p.request_extension(at=later(p), actor="o", days=3, reason="r", policy=policy)
    p.answer_petition(at=later(p), actor="o", unit="S11", answer="a")
    p.reopen(at=later(p), actor="clerk", reason="r")
    assert p.extension_requested_days is None
    p.request_extension(at=later(p), actor="o", days=4, reason="r", policy=policy)
    assert p.extension_requested_days == 4


def test_extension_limit_comes_from_the_policy(org) -> None:
    strict = plain_policy(max_extension_days=5)
    p = reach(org, strict, Status.IN_HANDLING)
    assert_refused(p, lambda: p.extend_deadline(at=later(p), actor="a", days=6, reason="r",
                                                approved_by="b", policy=strict), InvalidCommand)
    p.extend_deadline(at=later(p), actor="a", days=5, reason="r", approved_by="b", policy=strict)
    assert p.extension_days == 5


@pytest.mark.parametrize("unit", ["K111", "S12", "D2", "S21", "S11"])
def test_escalate_to_lower_sideways_or_itself_refused(org, policy, unit) -> None:
    """From S11 only D1 and C are above; its children, peers, cousins and itself are not."""
    p = reach(org, policy, Status.IN_HANDLING)
    assert p.responsible_unit == "S11"
    error = assert_refused(p, lambda: p.escalate(at=later(p), actor="a", unit=unit, reason="r", org=org))
    assert f"unit '{unit}' is not above 'S11'" in str(error)


def test_escalate_to_itself_refused(org, policy) -> None:
    p = reach(org, policy, Status.IN_HANDLING)
    assert_refused(p, lambda: p.escalate(at=later(p), actor="a", unit="S11", reason="r", org=org))


def test_escalate_to_an_ancestor(org, policy) -> None:
    """Escalating to the city makes it holder and responsible, recording where it came from."""
    p = reach(org, policy, Status.IN_HANDLING)
    p.escalate(at=later(p), actor="a", unit="C", reason="serious", org=org, rule="R1")
    assert (p.status, p.holder, p.responsible_unit) == (Status.IN_HANDLING, "C", "C")
    (event,) = p.collect_events()
    assert (event.from_unit, event.to_unit, event.rule) == ("S11", "C", "R1")


def test_escalate_from_accepted_starts_at_the_holder(org, policy) -> None:
    p = reach(org, policy, Status.ACCEPTED)
    assert_refused(p, lambda: p.escalate(at=later(p), actor="a", unit="S11", reason="r", org=org))
    p.escalate(at=later(p), actor="a", unit="C", reason="r", org=org)
    assert p.holder == "C"


def test_escalate_never_lands_below_the_holding_unit(org, policy) -> None:
    """Held by D1 and delegated to community K111, the case may go up to D1 or C, but not to
    street S11: that is inside D1's own jurisdiction (delegation), and would shrink the holder."""
    p = reach(org, policy, Status.IN_HANDLING)
    p.delegate(at=later(p), actor="a", unit="K111", mode="assign", note="", org=org)
    p.collect_events()
    error = assert_refused(p, lambda: p.escalate(at=later(p), actor="a", unit="S11",
                                                 reason="r", org=org))
    assert "delegate to it instead" in str(error)
    p.escalate(at=later(p), actor="a", unit="D1", reason="r", org=org)
    assert (p.holder, p.responsible_unit) == ("D1", "D1")


def test_escalate_to_unknown_unit_refused(org, policy) -> None:
    p = reach(org, policy, Status.IN_HANDLING)
    assert_refused(p, lambda: p.escalate(at=later(p), actor="a", unit="NOPE", reason="r",
                                         org=org), UnknownUnit)


@pytest.mark.parametrize("unit", ["D2", "S21", "K211", "C"])
def test_delegate_outside_the_holders_subtree_refused(org, policy, unit) -> None:
    p = reach(org, policy, Status.ACCEPTED)
    error = assert_refused(p, lambda: p.delegate(at=later(p), actor="a", unit=unit,
                                                 mode="assign", note="", org=org))
    assert "outside the jurisdiction of 'D1'" in str(error)


def test_delegate_unknown_unit_refused(org, policy) -> None:
    p = reach(org, policy, Status.ACCEPTED)
    assert_refused(p, lambda: p.delegate(at=later(p), actor="a", unit="NOPE", mode="assign",
                                         note="", org=org), UnknownUnit)


def test_redelegate_inside_subtree_and_not_to_the_same_unit(org, policy) -> None:
    p = reach(org, policy, Status.IN_HANDLING)
    assert_refused(p, lambda: p.delegate(at=later(p), actor="a", unit="S11", mode="assign",
                                         note="", org=org))
    p.delegate(at=later(p), actor="a", unit="K121", mode="transfer", note="", org=org)
    assert (p.responsible_unit, p.holder) == ("K121", "D1")


def test_business_time_before_last_event_refused(org, policy) -> None:
    p = reach(org, policy, Status.ACCEPTED)
    error = assert_refused(p, lambda: p.delegate(
        at=p.last_at - timedelta(seconds=1), actor="a", unit="S11", mode="assign", note="",
        org=org), InvalidCommand)
    assert "before the case's last event" in str(error)


def test_business_time_equal_to_last_event_allowed(org, policy) -> None:
    p = reach(org, policy, Status.ACCEPTED)
    p.delegate(at=p.last_at, actor="a", unit="S11", mode="assign", note="", org=org)
    assert p.status is Status.IN_HANDLING


def test_naive_business_time_refused(org, policy) -> None:
    p = reach(org, policy, Status.REGISTERED)
    naive = datetime(2026, 3, 3, 9, 0)
    error = assert_refused(p, lambda: p.accept(at=naive, actor="a",
                                               handling_track=HandlingTrack.CLAIM,
                                               speed_track=SpeedTrack.GENERAL), InvalidCommand)
    assert "timezone" in str(error)
    with pytest.raises(InvalidCommand):
        register(org, at=naive)


@pytest.mark.parametrize("actor", ["", "   "])
def test_blank_actor_refused(org, policy, actor) -> None:
    p = reach(org, policy, Status.REGISTERED)
    assert_refused(p, lambda: p.withdraw(at=later(p), actor=actor, reason="r"), InvalidCommand)


@pytest.mark.parametrize(("district", "street", "why"), [
    ("D1", "S21", "not a street of"), ("S11", None, "not a district"), ("D1", "K111", "not a street")])
def test_register_rejects_a_location_off_the_chart(org, district, street, why) -> None:
    with pytest.raises(InvalidCommand, match=why):
        Petition.register(
            case_id=uuid4(), at=T0, actor="c", channel="letter", subject="s", content="c",
            category="k", location=Location(district, street),
            petitioner=Petitioner("n", "11010519491231002X", "1"), co_petitioners=0,
            received_by="D1", proxy_agent=None, query_code_hash="h", org=org)


# ------------------------------------------------------------------ supervision and proxies
def test_supervision_goes_to_the_obligated_unit(org, policy) -> None:
    p = reach(org, policy, Status.REGISTERED)
    p.supervise(at=later(p), actor="inspector", level=SupervisionLevel.REMINDER, reason="slow")
    p = reach(org, policy, Status.IN_HANDLING)
    p.supervise(at=later(p), actor="inspector", level=SupervisionLevel.INTERVIEW, reason="slow")
    (event,) = p.collect_events()
    assert (event.unit, p.supervision_level, p.supervision_count) == (
        "S11", SupervisionLevel.INTERVIEW, 1)


def test_proxy_contact_needs_the_assigned_agent(org, policy) -> None:
    p = reach(org, policy, Status.ACCEPTED)
    assert_refused(p, lambda: p.log_proxy_contact(at=later(p), actor="a", agent="x",
                                                  mode=ContactMode.VISIT, note=""))
    assert_refused(p, lambda: p.assign_proxy(at=later(p), actor="a", agent="agent-1"),
                   InvalidCommand)  # no entrustment yet
    entrust(p, org, "agent-1", later(p))
    p.assign_proxy(at=later(p), actor="a", agent="agent-1")
    p.collect_events()
    assert_refused(p, lambda: p.assign_proxy(at=later(p), actor="a", agent="agent-1"))
    assert_refused(p, lambda: p.log_proxy_contact(at=later(p), actor="a", agent="other",
                                                  mode=ContactMode.VISIT, note=""),
                   InvalidCommand)
    contact_at = later(p, days=2)
    p.log_proxy_contact(at=contact_at, actor="a", agent="agent-1", mode=ContactMode.VISIT,
                        note="met")
    assert p.proxy_contacts == {"visit": contact_at}
