"""Group petitions (集体访 / 联名): co-petitioners recorded once, at most five representatives,
the group's own limits and ladder, and co-petitioners' personal data kept from every feed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from domain import events as ev
from domain.deadlines import DeadlineKind, PolicyRules
from domain.errors import IllegalTransition, InvalidCommand
from domain.group_petition import MAX_REPRESENTATIVES
from domain.petition import Petition
from domain.snapshots import PetitionSnapshot
from domain.supervision_ladder import LadderRules, due_measures
from domain.values import Status
from projections.audit_trail import redacted_payload
from tests.unit.builders import later, plain_policy, reach, register
from workflows.case_summary import REDACTED, case_summary, event_record
from workflows.commands import AddCoPetitioner, RegisterPetition, id_number_check_char
from workflows.event_envelope import envelope


def person(n: int) -> dict[str, str]:
    first17 = f"4403051987062{n:04d}"
    return {"name": f"Co Petitioner {n}", "id_number": first17 + id_number_check_char(first17),
            "phone": f"1390000{n:04d}"}


def join(p: Petition, n: int, representative: bool = False) -> None:
    p.add_co_petitioner(at=later(p), actor="clerk", representative=representative, **person(n))


def test_a_co_petitioner_makes_a_group_petition(org):
    p = register(org)
    assert not p.group_petition
    join(p, 1, representative=True)
    (event,) = p.collect_events()
    assert isinstance(event, ev.CoPetitionerAdded) and event.representative
    assert p.group_petition and p.co_petitioners == 1
    assert p.group_members[0].person.name == "Co Petitioner 1"


def test_at_most_five_representatives_with_the_petitioner(org):
    p = register(org)
    for n in range(1, MAX_REPRESENTATIVES):
        join(p, n, representative=True)
    join(p, 10)  # any number of co-petitioners who are not representatives
    p.collect_events()
    with pytest.raises(InvalidCommand, match="at most 5 representatives"):
        join(p, 11, representative=True)
    assert p.collect_events() == []


def test_a_person_is_recorded_once(org):
    p = register(org)
    join(p, 1)
    with pytest.raises(InvalidCommand, match="already recorded"):
        join(p, 1)
    with pytest.raises(InvalidCommand, match="already recorded"):
        p.add_co_petitioner(at=later(p), actor="clerk", name="Zhang San",
                            id_number=p.petitioner.id_number, phone="1")
    with pytest.raises(InvalidCommand, match="must not be blank"):
        p.add_co_petitioner(at=later(p), actor="clerk", name=" ", id_number="x", phone="1")


def test_joining_is_refused_once_the_case_is_answered(org):
    p = reach(org, plain_policy(), Status.ANSWERED)
    with pytest.raises(IllegalTransition):
        join(p, 1)


def test_the_group_limits_are_the_shorter_ones(org):
    """Recorded when each obligation starts: a group registered as one gets the group's
    acceptance limit; a case that became a group keeps its recorded one, and its next
    obligation (the answer, on acceptance) gets the group's."""
    policy = plain_policy(group={"acceptance_days": 7, "answer_days": 30})
    single = register(org, policy=policy)
    group = register(org, policy=policy, co_petitioners=20)
    joined = register(org, policy=policy)
    join(joined, 1)
    days = [policy.current(p).due_on - p.received_at.date() for p in (single, group, joined)]
    assert days == [timedelta(days=15), timedelta(days=7), timedelta(days=15)]
    joined.accept(at=later(joined), actor="clerk", handling_track="claim", speed_track="complex",
                  policy=policy)
    assert policy.current(joined).days == 30
    assert policy.derive(group, DeadlineKind.ACCEPTANCE).due_on == policy.current(group).due_on
    assert policy.rules.answer_days_for(None, group=True) == 30
    assert policy.rules.answer_days_for(None) == 60
    assert PolicyRules(group={"acceptance_days": 30}).acceptance_days_for(True) == 15


def test_a_bad_group_section_is_refused():
    with pytest.raises(InvalidCommand, match=r"\[group\]"):
        PolicyRules(group={"acceptance_dayz": 3})
    with pytest.raises(InvalidCommand, match=r"\[group\]"):
        PolicyRules(group={"answer_days": -1})


def test_a_group_petition_climbs_its_own_ladder(org):
    ladder = LadderRules.from_mapping({"reminder": -3, "supervision_letter": 0,
                                       "group": {"reminder": -5, "supervision_letter": 0,
                                                 "accountability": 2, "interview": 4,
                                                 "escalation": 6}})
    policy = plain_policy()
    single, group = register(org), register(org)
    join(group, 1)
    assert ladder.for_case(single) is ladder and ladder.for_case(group) is ladder.group
    assert ladder.lead_days() == 5
    deadline = policy.current(group)
    assert deadline is not None and deadline.kind is DeadlineKind.ACCEPTANCE
    now = deadline.expires_at - timedelta(days=4)
    assert [m.rung for m in due_measures(ladder.for_case(group), deadline, -1, now)] \
        == ["reminder"]
    assert due_measures(ladder.for_case(single), policy.current(single), -1, now) == []
    with pytest.raises(InvalidCommand, match=r"supervision\.group"):
        LadderRules.from_mapping({"group": {"group": {}}})


def test_co_petitioners_are_redacted_without_the_pii_scope(org):
    p = register(org)
    join(p, 1, representative=True)
    (event,) = p.collect_events()
    secrets = person(1).values()
    policy = plain_policy()
    hidden = json.dumps(case_summary(p, policy, later(p)), ensure_ascii=False)
    assert not any(s in hidden for s in secrets)
    summary = case_summary(p, policy, later(p))
    assert summary["group_members"] == REDACTED
    assert summary["group_petition"] is True and summary["representatives"] == 2
    shown = case_summary(p, policy, later(p), pii=True)
    assert shown["group_members"][0]["person"]["name"] == "Co Petitioner 1"
    assert event_record(event)["data"]["co_petitioner"] == REDACTED
    assert event_record(event, pii=True)["data"]["co_petitioner"]["phone"] == person(1)["phone"]
    for feed in (json.dumps(envelope(event, position=7), ensure_ascii=False),
                 redacted_payload(event)):
        assert not any(s in feed for s in secrets)
        assert '"representative": true' in feed.replace('":true', '": true')


def test_a_snapshot_keeps_the_group(org):
    p = register(org)
    join(p, 1, representative=True)
    join(p, 2)
    p.collect_events()
    restored = PetitionSnapshot.take(p).mutate(None)
    assert restored.group_members == p.group_members
    assert restored.group_petition


def test_the_commands_take_a_group_and_a_co_petitioner():
    body = {"actor": "clerk", "channel": "visit", "subject": "s", "content": "c",
            "category": "k", "location": {"district": "D1"}, "petitioner": person(0),
            "received_by": "D1", "group": [{**person(1), "representative": True}, person(2)]}
    cmd = RegisterPetition.model_validate(body)
    assert [m.representative for m in cmd.group] == [True, False]
    with pytest.raises(ValueError, match="check character"):
        AddCoPetitioner.model_validate({"case_id": "6a1f0f5e-4d2c-4b7e-9a0e-1c2d3e4f5a6b",
                                        "actor": "a", **person(3), "id_number": "1" * 18})
