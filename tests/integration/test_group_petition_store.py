"""A group petition (集体访 / 联名) on a real store, SQLite and PostgreSQL: its co-petitioners are
written with the registration in one transaction, read back by a fresh application, encrypted
at rest like the petitioner, and the case climbs the packaged policy's group ladder."""

from __future__ import annotations

from uuid import UUID

import pytest

from adapters.wiring import build_application
from domain import events as ev
from domain.errors import InvalidCommand
from domain.values import Status
from tests.integration.helpers import dump_bytes, dump_store, id_number, register_command
from tests.integration.test_supervision_ladder import FULL_LADDER, Days, measures
from workflows import commands as c
from workflows.application import PetitionApplication

MEMBERS = [
    {"name": "司马长风Zorblax", "id_number": id_number("44030519870623001"),
     "phone": "+86 139-1111-2222", "representative": True},
    {"name": "上官飞燕Quimbly", "id_number": id_number("44030519870623002"),
     "phone": "+86 139-3333-4444"},
]
LATER = {"name": "慕容复Vexworth", "id_number": id_number("44030519870623003"),
         "phone": "+86 139-5555-6666"}


def register_group(app: PetitionApplication) -> UUID:
    return app.register(register_command(channel="visit", co_petitioners=30,
                                         group=MEMBERS)).case_id


def test_the_group_is_written_with_the_registration_and_read_back(app, settings, clock):
    case_id = register_group(app)
    app.execute(c.AddCoPetitioner(case_id=case_id, actor="intake", **LATER))
    events = app.events_of(case_id)
    assert [type(e) for e in events] == [ev.Registered, ev.CoPetitionerAdded,
                                         ev.CoPetitionerAdded, ev.CoPetitionerAdded]
    assert events[0].co_petitioners == 30 and events[1].at == events[0].at
    fresh = build_application(settings, clock=clock)
    try:
        petition = fresh.get_petition(case_id)
    finally:
        fresh.close()
    assert petition == app.get_petition(case_id)
    assert [m.person.name for m in petition.group_members] == \
        [MEMBERS[0]["name"], MEMBERS[1]["name"], LATER["name"]]
    assert [m.representative for m in petition.group_members] == [True, False, False]
    assert petition.group_petition and petition.co_petitioners == 30


def test_co_petitioners_are_encrypted_at_rest(app, settings):
    register_group(app)
    raw = dump_bytes(dump_store(settings))
    assert b"domain.events:CoPetitionerAdded" in raw  # control: the clear topic is found
    for member in MEMBERS:
        for value in (member["name"], member["id_number"], member["phone"]):
            assert str(value).encode() not in raw
        assert member["name"][-7:].encode() not in raw


def test_a_sixth_representative_is_refused_and_appends_nothing(app):
    reps = [{**LATER, "name": f"代表{n}", "id_number": id_number(f"4403051987062310{n}"),
             "representative": True} for n in range(4)]
    case_id = app.register(register_command(group=reps)).case_id
    before = app.get_petition(case_id).version
    with pytest.raises(InvalidCommand, match="at most 5 representatives"):
        app.execute(c.AddCoPetitioner(case_id=case_id, actor="intake", representative=True,
                                      **LATER))
    assert app.get_petition(case_id).version == before == 5
    with pytest.raises(InvalidCommand, match="at most 5 representatives"):
        app.register(register_command(group=[*reps, {**LATER, "representative": True}]))


def test_a_group_petition_climbs_the_group_ladder(app, clock):
    days = Days(app, clock)
    single = days.open()
    group = days.open()
    app.execute(c.AddCoPetitioner(case_id=group, actor="intake", **LATER))
    assert app.get_petition(group).status is Status.IN_HANDLING
    days.until("04-30")
    assert measures(app, single) == FULL_LADDER
    # [supervision.group] of the packaged policy: -5, 0, +5, +10, +15 around the same deadline
    assert [(rule, day) for rule, day, _ in measures(app, group)] == [
        ("answer.reminder", "03-08"), ("answer.supervision_letter", "03-13"),
        ("answer.accountability", "03-18"), ("answer.interview", "03-23"),
        ("answer.escalation", "03-28")]
