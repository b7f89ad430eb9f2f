"""Registering work orders in memory: once per (source, external id), whatever the batches, and
a reply addressed to the source when the case is answered."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.kafka.inbound_replies import replies_of
from domain import events as ev
from domain.errors import DomainError
from domain.values import Channel
from tests.unit.builders import T0, plain_policy, small_chart
from tests.unit.inbound_orders import encode, order
from workflows import commands as c
from workflows.application import PetitionApplication
from workflows.clock import ManualClock
from workflows.errors import IdempotencyKeyReused
from workflows.inbound.mapping import InboundMap, Mapped, SourceRule, translate
from workflows.inbound.origin import InboundOrigin, origin_id
from workflows.inbound.registration import register_order, register_orders
from workflows.query_codes import QueryCodes

RULES = InboundMap(sources={"hotline-12345": SourceRule(Channel.HOTLINE, "h.replies"),
                            "ywtb": SourceRule(Channel.YWTB, "y.replies")},
                   categories={"0101": "property", "0207": "noise"},
                   areas={"620102": "D1"}, units={"CGQ-WC": "S11", "GONE": "NOPE"})


def new_app() -> PetitionApplication:
    return PetitionApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, org=small_chart(),
                               policy=plain_policy(), query_codes=QueryCodes(b"q" * 32),
                               clock=ManualClock(T0))


def mapped(n: int, **changes: object) -> Mapped:
    result = translate(encode(order(n, **changes)), RULES)
    assert isinstance(result, Mapped)
    return result


def registered(app: PetitionApplication) -> list[ev.Registered]:
    return [e for e in app.recorder.select_notifications(start=1, limit=10_000)
            if e.topic.endswith(":Registered")]


def test_a_batch_registers_new_orders_once_and_replays_or_refuses_the_rest() -> None:
    app = new_app()
    first = register_order(app, mapped(1))
    batch = [mapped(2), mapped(1), mapped(2), mapped(3, unit="GONE"),
             mapped(4), mapped(1, subject="另一件事")]
    results = register_orders(app, batch)
    assert len(results) == len(batch)
    two, one, two_again, refused, four, reused = results
    assert not isinstance(one, DomainError) and one.case_id == first.case_id
    assert not isinstance(two, DomainError) and not isinstance(two_again, DomainError)
    assert two.case_id == two_again.case_id and two.query_code == two_again.query_code
    assert isinstance(refused, DomainError) and not isinstance(refused, IdempotencyKeyReused)
    assert not isinstance(four, DomainError)
    assert isinstance(reused, IdempotencyKeyReused)
    assert len(registered(app)) == 3  # 1, 2 and 4
    origin: InboundOrigin = app.repository.get(origin_id(two.case_id))
    assert (origin.source, origin.external_id) == ("hotline-12345", "GD00000002")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.integers(0, 12), max_size=8), max_size=6))
def test_any_batches_register_each_order_exactly_once(batches: list[list[int]]) -> None:
    app = new_app()
    cases: dict[int, UUID] = {}
    for numbers in batches:
        for n, result in zip(numbers, register_orders(app, [mapped(n) for n in numbers]),
                             strict=True):
            assert not isinstance(result, DomainError)
            assert cases.setdefault(n, result.case_id) == result.case_id
    assert len(registered(app)) == len(cases) == len({n for b in batches for n in b})


def test_an_answered_inbound_case_gets_one_reply_to_its_source_and_others_none() -> None:
    app = new_app()
    inbound = register_order(app, mapped(5, source="ywtb")).case_id
    plain = app.register(c.RegisterPetition.model_validate(
        {**mapped(6).command.model_dump(), "actor": "clerk"})).case_id
    for case_id in (inbound, plain):
        app.execute(c.AcceptPetition(case_id=case_id, actor="intake", handling_track="claim",
                                     speed_track="general"))
        app.execute(c.DelegatePetition(case_id=case_id, actor="intake", unit="S11"))
        app.execute(c.AnswerPetition(case_id=case_id, actor="handler", unit="S11",
                                     answer="已处理"))
    outgoing = replies_of(app, RULES)
    replies = []
    for notification in app.recorder.select_notifications(start=1, limit=1000):
        replies += outgoing(app.mapper.to_domain_event(notification), notification.id)
    assert len(replies) == 1
    reply = replies[0]
    assert reply["topic"] == "y.replies"
    message = reply["message"]
    assert (message["source"], message["external_id"], message["type"]) == (
        "ywtb", "GD00000005", "Answered")
    assert message["case_id"] == str(inbound) and message["event"]["data"]["answer"] == "已处理"
    assert message["reply_id"] == message["event"]["event_id"]


def test_a_replayed_order_is_never_refused_even_when_its_time_has_passed() -> None:
    app = new_app()
    order_ = mapped(7, received_at=T0.isoformat())
    first = register_order(app, order_)
    app.clock.advance(timedelta(days=400))  # type: ignore[attr-defined]
    (again,) = register_orders(app, [order_])
    assert not isinstance(again, DomainError) and again.case_id == first.case_id


def test_a_closed_inbound_case_gets_its_closed_reply_after_the_answer() -> None:
    """办结: closing (not only answering) an inbound case tells its source, with the external
    id; a declined one gets its Declined reply."""
    app = new_app()
    closed = register_order(app, mapped(8)).case_id
    declined = register_order(app, mapped(9, source="ywtb")).case_id
    app.execute(c.AcceptPetition(case_id=closed, actor="intake", handling_track="claim",
                                 speed_track="general"))
    app.execute(c.DelegatePetition(case_id=closed, actor="intake", unit="S11"))
    app.execute(c.AnswerPetition(case_id=closed, actor="handler", unit="S11", answer="已处理"))
    app.execute(c.ClosePetition(case_id=closed, actor="closer", summary="办结归档"))
    app.execute(c.DeclinePetition(case_id=declined, actor="intake", reason="不属于信访事项",
                                  redirect_to="litigation"))
    outgoing = replies_of(app, RULES)
    replies = []
    for notification in app.recorder.select_notifications(start=1, limit=1000):
        replies += outgoing(app.mapper.to_domain_event(notification), notification.id)
    seen = [(r["topic"], r["message"]["external_id"], r["message"]["type"]) for r in replies]
    assert seen == [("h.replies", "GD00000008", "Answered"),
                    ("h.replies", "GD00000008", "Closed"),
                    ("y.replies", "GD00000009", "Declined")]
    last = replies[1]["message"]
    assert last["case_id"] == str(closed) and last["event"]["data"]["summary"] == "办结归档"
    assert last["reply_id"] == last["event"]["event_id"]
