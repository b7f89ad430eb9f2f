"""A Petition restored from a snapshot is the replayed Petition, types included, after every
event type — so loading from snapshots can never change a decision."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields, is_dataclass, replace
from datetime import timedelta
from enum import Enum
from typing import Any

import pytest
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Mapper,
    UUIDAsHex,
)

from domain import events as ev
from domain.deadlines import DeadlinePolicy
from domain.petition import Petition
from domain.snapshots import PetitionSnapshot, decode, encode
from domain.values import (
    Attachment,
    ContactMode,
    HandlingTrack,
    RedirectChannel,
    ReviewOutcome,
    Satisfaction,
    SpeedTrack,
    SuggestionKind,
    SupervisionLevel,
)
from tests.unit.builders import decider, entrust, later, rate_kwargs, register, terms
from workflows.application import PetitionApplication
from workflows.transcodings import TRANSCODINGS

Step = Callable[[Petition, Any, Any], None]

S: dict[str, Step] = {
    "entrust": lambda p, org, pol: entrust(p, org, "agent-9", later(p)),
    "chase_proxy_contact": lambda p, org, pol: p.chase_proxy_contact(
        at=later(p, days=9), actor="s", rung="community_notice", policy=pol, org=org),
    "suggest": lambda p, org, pol: p.suggest(
        at=later(p), actor="s", kind=SuggestionKind.ACCOUNTABILITY, unit="S11", text="t", org=org),
    "respond_suggestion": lambda p, org, pol: p.respond_suggestion(
        at=later(p), actor="h", number=1, unit="S11", response="r"),
    "revoke_entrustment": lambda p, org, pol: p.revoke_entrustment(
        at=later(p), actor="p", reason="r"),
    "assign_proxy": lambda p, org, pol: p.assign_proxy(at=later(p), actor="a", agent="agent-9"),
    "book_reception": lambda p, org, pol: p.book_reception(
        at=later(p), actor="p", slot_id=f"slot-{p.version}", unit="D1", leader="L",
        mode="video", starts_at=later(p, days=2), org=org),
    "remind_reception": lambda p, org, pol: p.remind_reception(
        at=later(p), actor="s",
        slot_id=p.reception_booking.slot_id if p.reception_booking else "none"),
    "cancel_reception": lambda p, org, pol: p.cancel_reception(at=later(p), actor="p",
                                                               reason="busy"),
    "record_reception": lambda p, org, pol: p.record_reception(
        at=later(p), actor="a", unit="D1", leader="L", mode="video", outcome="talked", org=org),
    "add_co_petitioner": lambda p, org, pol: p.add_co_petitioner(
        at=later(p), actor="a", name="Li Si", id_number="440305198706230016", phone="139",
        representative=True),
    "log_proxy_contact": lambda p, org, pol: p.log_proxy_contact(
        at=later(p), actor="a", agent="agent-9", mode=ContactMode.PHONE, note="n"),
    "accept": lambda p, org, pol: p.accept(at=later(p), actor="a",
                                           handling_track=HandlingTrack.CLAIM,
                                           speed_track=SpeedTrack.GENERAL),
    "decline": lambda p, org, pol: p.decline(at=later(p), actor="a", reason="court",
                                             redirect_to=RedirectChannel.LITIGATION),
    "supervise": lambda p, org, pol: p.supervise(at=later(p), actor="a",
                                                 level=SupervisionLevel.REMINDER, reason="late"),
    "delegate": lambda p, org, pol: p.delegate(at=later(p), actor="a", unit="S11",
                                               mode="assign", note="", org=org),
    "request_extension": lambda p, org, pol: p.request_extension(
        at=later(p), actor="a", days=10, reason="r", policy=pol),
    "extend": lambda p, org, pol: p.extend_deadline(at=later(p), actor="a", days=10, reason="r",
                                                    approved_by="boss", policy=pol),
    "escalate": lambda p, org, pol: p.escalate(at=later(p), actor="a", unit="C", reason="r",
                                               org=org),
    "answer": lambda p, org, pol: p.answer_petition(at=later(p), actor="a",
                                                    unit=p.responsible_unit, answer="x"),
    "deliver": lambda p, org, pol: p.deliver(at=later(p), actor="h", channel="post"),
    "rate_unsatisfied": lambda p, org, pol: p.rate(
        at=later(p), actor="p", **rate_kwargs(Satisfaction.UNSATISFIED)),
    "confirm_answer": lambda p, org, pol: p.confirm_answer(at=later(p), actor="h", reason="r"),
    "review": lambda p, org, pol: p.request_review(at=later(p), actor="p", reason="r",
                                                   policy=pol),
    "revise": lambda p, org, pol: p.revise_deadline(  # as if the policy changed meanwhile
        at=later(p), actor="operator", reason="policy 2027",
        policy=DeadlinePolicy(replace(pol.rules, review_decision_days=45), pol.rest_days)),
    "decide_review": lambda p, org, pol: p.decide_review(
        at=later(p), actor="a", unit=decider(org, p.answered_by), outcome=ReviewOutcome.REVISED,
        opinion="o", org=org),
    "re_review": lambda p, org, pol: p.request_re_review(at=later(p), actor="p", reason="r",
                                                         policy=pol),
    "decide_re_review": lambda p, org, pol: p.decide_re_review(
        at=later(p), actor="a", unit=decider(org, p.reviewed_by), outcome=ReviewOutcome.UPHELD,
        opinion="o", org=org),
    "close": lambda p, org, pol: p.close(at=later(p), actor="a", summary="s"),
    "reopen": lambda p, org, pol: p.reopen(at=later(p), actor="a", reason="r"),
    "withdraw": lambda p, org, pol: p.withdraw(at=later(p), actor="p", reason="r"),
    "flag": lambda p, org, pol: p.trigger_event(  # as Petition.register(concluded_in=…) does
        ev.ConcludedMatterFlagged, at=later(p), actor="clerk", earlier_case="e"),
    "decide_concluded": lambda p, org, pol: p.decide_concluded_matter(
        at=later(p), actor="a", decision="decline_concluded", reason="不再受理"),
}

SCRIPTS = {
    "reception": ["book_reception", "remind_reception", "cancel_reception", "book_reception",
                  "record_reception"],
    "long": ["entrust", "assign_proxy", "log_proxy_contact", "supervise", "accept",
             "chase_proxy_contact", "suggest", "delegate", "add_co_petitioner",
             "request_extension", "extend", "escalate", "answer", "respond_suggestion", "deliver",
             "rate_unsatisfied", "confirm_answer", "review", "revise", "decide_review",
             "re_review", "revoke_entrustment", "decide_re_review"],
    "reopened": ["accept", "delegate", "answer", "close", "reopen", "withdraw"],
    "declined": ["decline"],
    "concluded": ["flag", "decide_concluded"],
}


FILES = (Attachment("ab" * 32, "image/png", 1234, "照片.png"),
         Attachment("cd" * 32, "application/pdf", 99, "letter.pdf"))


def typed(value: Any) -> Any:
    """``value`` with every type spelled out: StrEnum members and str must not compare equal."""
    if isinstance(value, Enum):
        return (type(value), value.value)
    if is_dataclass(value) and not isinstance(value, type):
        return (type(value), tuple((f.name, typed(getattr(value, f.name))) for f in fields(value)))
    if isinstance(value, dict):
        return (dict, tuple(sorted((k, typed(v)) for k, v in value.items())))
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(typed(v) for v in value))
    return (type(value), value)


def state(p: Petition) -> Any:
    return typed({k: v for k, v in vars(p).items() if k != "_pending_events"})


def mapper() -> Mapper[Any]:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), *TRANSCODINGS):
        transcoder.register(transcoding)
    return Mapper(transcoder=transcoder)


def through_the_store(p: Petition) -> Petition:
    m = mapper()
    stored = m.to_stored_event(Petition.Snapshot.take(p))
    snapshot = m.to_domain_event(stored)
    assert isinstance(snapshot, PetitionSnapshot)
    return snapshot.mutate(None)  # type: ignore[return-value]


@pytest.mark.parametrize("script", list(SCRIPTS))
def test_restored_equals_replayed_after_every_event(org, policy, script) -> None:
    p = register(org, attachments=FILES)
    assert state(through_the_store(p)) == state(p)
    for name in SCRIPTS[script]:
        S[name](p, org, policy)
        p.collect_events()
        restored = through_the_store(p)
        assert state(restored) == state(p), name
        assert restored.obligated_unit == p.obligated_unit
        assert policy.open_deadlines(restored) == policy.open_deadlines(p)


def test_the_scripts_reach_every_event_type(org, policy) -> None:
    seen: set[type] = {ev.Registered}
    if register(org, attachments=FILES).attachments == FILES:
        seen.add(ev.AttachmentAdded)  # written with Registered (collected by the builder)
    for script in SCRIPTS.values():
        p = register(org)
        for name in script:
            S[name](p, org, policy)
            seen.update(type(e) for e in p.collect_events())
    assert seen == set(ev.ALL_EVENTS)


def test_plain_library_snapshot_would_lose_the_enum_types(org, policy) -> None:
    """Why PetitionSnapshot exists: the library's own snapshot returns str, not Status."""
    p = register(org)
    m = mapper()
    plain = m.to_domain_event(m.to_stored_event(Snapshot.take(p))).mutate(None)
    assert plain.status == p.status and type(plain.status) is str


def test_unknown_types_fail_when_taken_not_when_read() -> None:
    with pytest.raises(TypeError):
        encode(object())
    with pytest.raises(TypeError):
        encode(timedelta(days=1))
    assert decode(encode({"a@1": 2, "t": (1, [2])})) == {"a@1": 2, "t": (1, [2])}


def test_application_loads_a_long_case_from_its_snapshot_equal_to_replay(org, policy) -> None:
    app = PetitionApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, org=org,
                              policy=policy)
    p = Petition.register(**_registration(register(org), org))
    app.save(p)
    for _ in range(120):
        S["log_proxy_contact"](p, org, policy)
        app.save(p)
    assert app.snapshots is not None
    snapshots = list(app.snapshots.get(p.id))
    assert [s.originator_version for s in snapshots] == [50, 100]
    replayed = None
    for event in app.events.get(p.id):
        replayed = event.mutate(replayed)
    loaded = app.get_petition(p.id)
    assert state(loaded) == state(replayed) == state(p)
    assert state(app.get_petition(p.id, version=75)) == state(_replay(app, p.id, 75))


def _replay(app: PetitionApplication, case_id: Any, version: int) -> Any:
    aggregate = None
    for event in app.events.get(case_id, lte=version):
        aggregate = event.mutate(aggregate)
    return aggregate


def _registration(p: Petition, org: Any) -> dict[str, Any]:
    from uuid import uuid4

    return {"case_id": uuid4(), "at": p.received_at, "actor": "clerk", "channel": p.channel,
            "subject": p.subject, "content": p.content, "category": p.category,
            "location": p.location, "petitioner": p.petitioner, "co_petitioners": 0,
            "received_by": p.received_by, "proxy_agent": "agent-9", "query_code_hash": "h",
            "org": org, "entrustment": terms(p.received_at, days=365)}
