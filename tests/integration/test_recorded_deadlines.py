"""Deadlines are recorded facts (issue 13, part 2), on both stores: a later policy leaves them
alone; ``petition deadlines revise`` is the explicit way to apply it to open obligations; events
written before deadlines were recorded keep the dates they always had."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from uuid import UUID, uuid4

import pytest

from adapters.settings import Settings
from adapters.wiring import build_application
from domain import events as ev
from domain.deadlines import DERIVED, DeadlineKind
from domain.petition import Petition
from domain.values import Channel, HandlingTrack, Location, Petitioner, SpeedTrack
from projections.queries import open_cases
from projections.runner import case_view, catch_up
from tests.integration.helpers import DISTRICT, STREET, register_sample, run_steps
from tests.integration.test_upcasting import _stored_as_v1
from tests.views import views_of
from workflows import commands as c
from workflows.application import PetitionApplication
from workflows.deadline_revision import revise_deadlines


def _with_policy(settings: Settings, tmp_path: Path, text: str) -> Settings:
    policy = tmp_path / "policy-later.toml"
    policy.write_text(text, encoding="utf-8")
    return replace(settings, policy_file=policy)


def _open(app: PetitionApplication, unit: str | None = None) -> list[UUID]:
    """The open cases as `petition deadlines revise` finds them: the case view, caught up."""
    views = views_of(app)
    catch_up(app, views, "case_view")
    return open_cases(app.org, case_view(views), unit=unit)


def _revisions(app: PetitionApplication, case_id) -> list[ev.DeadlineRevised]:
    return [e for e in app.events_of(case_id) if isinstance(e, ev.DeadlineRevised)]


def test_a_policy_change_leaves_recorded_deadlines_alone(app, settings, clock, tmp_path):
    case_id = register_sample(app).case_id
    registered_deadline = app.deadline_of(app.get_petition(case_id))
    run_steps(app, clock, case_id, until="delegate")
    before = app.deadline_of(app.get_petition(case_id))
    assert before is not None and before.kind is DeadlineKind.ANSWER and before.days == 60
    accepted = app.events_of(case_id)[1]
    assert accepted.deadline == before  # the fact is in the event that started the obligation

    later = build_application(_with_policy(settings, tmp_path, "answer_days = 90\n"
                                                               "acceptance_days = 5\n"),
                              clock=clock)
    try:
        assert later.policy.rules.answer_days == 90
        assert later.deadline_of(later.get_petition(case_id)) == before
        first = later.events_of(case_id)[0]
        assert first.deadline == registered_deadline  # the acceptance deadline as recorded
        fresh = register_sample(later).case_id  # a new obligation takes the new policy
        assert later.deadline_of(later.get_petition(fresh)).days == 5
    finally:
        later.close()


def test_revise_appends_one_event_per_affected_open_case_and_none_for_closed(
        app, settings, clock, tmp_path):
    handling = register_sample(app).case_id
    run_steps(app, clock, handling, until="delegate")
    closed = register_sample(app).case_id
    run_steps(app, clock, closed, until="answer")
    clock.advance(timedelta(hours=1))
    app.execute(c.ClosePetition(case_id=closed, actor="closer-01", summary="办结"))
    waiting = register_sample(app).case_id  # acceptance: the new policy keeps its days

    later = build_application(_with_policy(settings, tmp_path, "answer_days = 90\n"),
                              clock=clock)
    try:
        assert [r.case_id for r in revise_deadlines(later, _open(later), reason="r", dry_run=True)] == [
            handling]
        assert _revisions(later, handling) == []  # the dry run appended nothing
        done = revise_deadlines(later, _open(later), reason="policy 2027: 90 days")
        assert [r.case_id for r in done] == [handling]
        (revised,) = _revisions(later, handling)
        assert (revised.previous.days, revised.deadline.days) == (60, 90)
        assert revised.reason == "policy 2027: 90 days"
        assert later.deadline_of(later.get_petition(handling)) == revised.deadline
        assert _revisions(later, closed) == [] and _revisions(later, waiting) == []
        assert revise_deadlines(later, _open(later), reason="again") == []  # nothing differs any more
    finally:
        later.close()


def test_revise_filters_by_case(app, settings, clock, tmp_path):
    one, other = register_sample(app).case_id, register_sample(app).case_id
    later = build_application(_with_policy(settings, tmp_path, "acceptance_days = 20\n"),
                              clock=clock)
    try:
        assert [r.case_id for r in revise_deadlines(later, [other], reason="r")] == [other]
        assert _revisions(later, one) == [] and len(_revisions(later, other)) == 1
    finally:
        later.close()


def test_events_written_before_v2_keep_the_deadline_derived_as_before(
        app, settings, clock, monkeypatch: pytest.MonkeyPatch):
    """The fixture store is written by this release, its events saved in the previous shape
    (class_version 1, no ``deadline``): the reader derives each deadline as that release did —
    from the case's facts with the policy in force — and the events carry ``derived``."""
    petition = Petition.register(
        case_id=uuid4(), at=clock.now(), actor="intake-01", channel=Channel.VISIT,
        subject="路灯", content="路灯坏了", category="infrastructure",
        location=Location(district=DISTRICT, street=STREET),
        petitioner=Petitioner("张三", "11010519491231002X", "13800000000"), co_petitioners=0,
        received_by=DISTRICT, proxy_agent=None, query_code_hash="h", org=app.org,
        policy=app.policy)
    case_id = petition.id
    old = {ev.Registered: ("deadline",), ev.Accepted: ("deadline",),
           ev.DeadlineExtended: ("deadline",)}
    _stored_as_v1(app, petition, monkeypatch, old)
    acceptance = app.policy.deadline(DeadlineKind.ACCEPTANCE, petition.received_at, 15)
    assert app.deadline_of(app.get_petition(case_id)) == acceptance  # what v1 showed

    clock.advance(timedelta(days=1))
    petition = app.get_petition(case_id)
    petition.accept(at=clock.now(), actor="intake-01", handling_track=HandlingTrack.CLAIM,
                    speed_track=SpeedTrack.COMPLEX, policy=app.policy)
    petition.delegate(at=clock.now(), actor="intake-01", unit=STREET, mode="assign", note="",
                      org=app.org)
    petition.extend_deadline(at=clock.now(), actor="supervisor", days=15, reason="勘查",
                             approved_by="supervisor", policy=app.policy)
    _stored_as_v1(app, petition, monkeypatch, old)
    for stored in app.recorder.select_events(case_id):  # really the old shape
        state = app.mapper.transcoder.decode(app.mapper.cipher.decrypt(stored.state))
        assert "deadline" not in state and "class_version" not in state

    reader = build_application(settings, clock=clock)
    try:
        events = reader.events_of(case_id)
        assert [e.deadline for e in events if isinstance(e, ev.StartsDeadline)] == [DERIVED] * 3
        loaded = reader.get_petition(case_id)
        assert loaded.recorded_deadlines == {}  # nothing recorded: every deadline derived
        derived = reader.deadline_of(loaded)
        assert derived == reader.policy.deadline(DeadlineKind.ANSWER, loaded.handling_started_at,
                                                 60 + 15)  # as the previous release computed
        assert revise_deadlines(reader, _open(reader), reason="r") == []  # derived: nothing recorded to revise
        clock.advance(timedelta(days=1))  # the next obligation is recorded again
        reader.execute(c.AnswerPetition(case_id=case_id, actor="handler-01", unit=STREET,
                                        answer="已修复"))
        answered = reader.events_of(case_id)[-1]
        assert answered.deadline == reader.deadline_of(reader.get_petition(case_id))
        assert answered.deadline.kind is DeadlineKind.REVIEW_REQUEST
    finally:
        reader.close()


def test_revise_loads_only_the_open_cases_the_case_view_names(app, settings, clock, tmp_path):
    """The candidates come from the case view (caught up with the log), not from every case
    of the log: a closed case is never loaded; ``--unit`` narrows them in the view too."""
    handling = register_sample(app).case_id
    run_steps(app, clock, handling, until="delegate")  # owed by the street now
    closed = register_sample(app).case_id
    run_steps(app, clock, closed, until="close")
    waiting = register_sample(app).case_id  # owed by the district that received it

    later = build_application(_with_policy(settings, tmp_path, "answer_days = 90\n"),
                              clock=clock)
    loaded: list[UUID] = []
    get_petition = later.get_petition
    later.get_petition = lambda case_id, *a, **k: (  # type: ignore[method-assign]
        loaded.append(case_id), get_petition(case_id, *a, **k))[1]
    try:
        assert _open(later) == [handling, waiting]
        assert _open(later, unit=STREET) == [handling]
        assert _open(later, unit=DISTRICT) == [handling, waiting]  # the street lies within
        assert [r.case_id for r in revise_deadlines(later, _open(later), reason="r")] == [
            handling]
        assert closed not in loaded
        assert revise_deadlines(later, _open(later, unit=STREET), reason="again") == []
        assert [type(e).__name__ for e in later.events_of(handling)][-1] == "DeadlineRevised"
    finally:
        later.close()
