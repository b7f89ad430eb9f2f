"""Concluded matters (不再受理, issue 13): the same petitioner bringing the same matter again after
it was concluded is flagged at registration with the earlier case; intake decides, and the
decision is an event. On both stores."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from domain import events as ev
from domain.concluded_matters import PetitionerCase, PetitionerCases
from domain.errors import IllegalTransition
from domain.values import Status
from projections import queries
from projections.case_view import CaseFilter
from projections.runner import case_view, catch_up
from tests.integration import helpers
from tests.integration.helpers import SAMPLE_PETITIONER, id_number, run_steps
from tests.views import views_of
from workflows import commands as c
from workflows.application import Idempotency
from workflows.concluded_matters import ConcludedMatterIndex, petitioner_key
from workflows.concluded_matters_backfill import BackfillProgress, backfill_index


def register_sample(app, **overrides):
    """A sample case of the one sample petitioner (unless overridden): the same person."""
    return helpers.register_sample(app, **{"petitioner": dict(SAMPLE_PETITIONER), **overrides})


AGAIN = {"subject": "路灯还是不亮", "content": "文昌街道第一社区的路灯已经坏了两个月，仍未修好。"}


def _answered_and_left(app, clock, days: int = 60):
    """A claim answered, then ``days`` without a review request (the window is 7 + 30 days)."""
    case_id = register_sample(app).case_id
    run_steps(app, clock, case_id, until="answer")
    clock.advance(timedelta(days=days))
    return case_id


def _types(app, case_id) -> list[str]:
    return [type(e).__name__ for e in app.events_of(case_id)]


def test_the_same_matter_after_the_review_window_is_flagged_and_intake_declines_it(app, clock):
    earlier = _answered_and_left(app, clock)
    again = register_sample(app, **AGAIN).case_id
    assert _types(app, again) == ["Registered", "ConcludedMatterFlagged"]
    flagged = app.get_petition(again)
    assert flagged.concluded_flag == str(earlier) and flagged.status is Status.REGISTERED

    assert "concluded-matter" in flagged.allowed_commands  # what a 409 tells the caller
    assert "accept" not in flagged.allowed_commands
    version = flagged.version
    with pytest.raises(IllegalTransition, match="concluded") as refused:
        app.execute(c.AcceptPetition(case_id=again, actor="intake-01", handling_track="claim",
                                     speed_track="general"))
    assert "accept" not in refused.value.allowed
    assert app.get_petition(again).version == version  # refused: nothing appended

    app.execute(c.DecideConcludedMatter(case_id=again, actor="intake-01",
                                        decision="decline_concluded", reason="复核终结，不再受理"))
    decided = app.events_of(again)[-1]
    assert isinstance(decided, ev.ConcludedMatterDecided)
    assert (decided.earlier_case, decided.decision) == (str(earlier), "decline_concluded")
    assert app.get_petition(again).status is Status.DECLINED


def test_the_registration_says_the_matter_was_concluded_and_where(app, clock):
    """Never silently registered as new: the registration's own answer names the earlier case
    (the clerk registering sees it at once), also when the request is replayed after the
    flag was decided; an ordinary registration says nothing was found."""
    earlier = _answered_and_left(app, clock)
    assert register_sample(app, subject="噪音扰民", category="environment",
                           content="夜间施工噪音。").concluded_in is None
    key = Idempotency("token:t", "again-1")
    again = app.register(helpers.register_command(petitioner=dict(SAMPLE_PETITIONER), **AGAIN),
                         idempotency=key)
    assert again.concluded_in == str(earlier)
    app.execute(c.DecideConcludedMatter(case_id=again.case_id, actor="intake-01",
                                        decision="accept_anyway", reason="有新的事实"))
    replayed = app.register(helpers.register_command(petitioner=dict(SAMPLE_PETITIONER),
                                                     **AGAIN), idempotency=key)
    assert (replayed.case_id, replayed.concluded_in) == (again.case_id, str(earlier))
    batch = app.register_all([(helpers.register_command(petitioner=dict(SAMPLE_PETITIONER),
                                                        **AGAIN), Idempotency("b", "1"), None)])
    assert [r.concluded_in for r in batch] == [str(earlier)]  # type: ignore[union-attr]


def test_intake_may_accept_anyway(app, clock):
    _answered_and_left(app, clock)
    again = register_sample(app, **AGAIN).case_id
    app.execute(c.DecideConcludedMatter(case_id=again, actor="intake-01",
                                        decision="accept_anyway", reason="有新的事实"))
    allowed = app.get_petition(again).allowed_commands
    assert "accept" in allowed and "concluded-matter" not in allowed
    app.execute(c.AcceptPetition(case_id=again, actor="intake-01", handling_track="claim",
                                 speed_track="general"))
    assert app.get_petition(again).status is Status.ACCEPTED
    with pytest.raises(IllegalTransition):  # nothing left to decide
        app.execute(c.DecideConcludedMatter(case_id=again, actor="intake-01",
                                            decision="accept_anyway", reason="again"))


def test_after_a_re_review_the_same_matter_is_flagged_at_once(app, clock):
    earlier = register_sample(app).case_id
    run_steps(app, clock, earlier, until="re-review-decision")
    again = register_sample(app, **AGAIN).case_id
    assert app.get_petition(again).concluded_flag == str(earlier)


@pytest.mark.parametrize("overrides", [
    {"subject": "噪音扰民", "content": "楼下饭店每天深夜施工，噪音很大。"},  # another matter
    {**AGAIN, "category": "环境"},  # another category
    {**AGAIN, "petitioner": {**SAMPLE_PETITIONER, "id_number": id_number("11010519491231002")}},
], ids=["text", "category", "petitioner"])
def test_a_different_matter_or_petitioner_is_not_flagged(app, clock, overrides):
    _answered_and_left(app, clock)
    again = register_sample(app, **overrides).case_id
    assert _types(app, again) == ["Registered"]


def test_a_matter_whose_review_window_still_runs_is_not_concluded(app, clock):
    _answered_and_left(app, clock, days=10)
    again = register_sample(app, **AGAIN).case_id
    assert _types(app, again) == ["Registered"]


def _answered_unindexed(app, clock, monkeypatch):
    """A case answered and left as a store written before its index record existed: the
    answer saves no record."""
    with monkeypatch.context() as before:
        before.setattr(ConcludedMatterIndex, "record_of", lambda *args, **kwargs: None)
        return _answered_and_left(app, clock)


def test_a_store_indexed_the_former_way_still_flags(app, clock, monkeypatch):
    """One PetitionerCases per petitioner was the index before; its records stay readable."""
    earlier = _answered_unindexed(app, clock, monkeypatch)
    key = petitioner_key(app.query_codes, SAMPLE_PETITIONER["id_number"])
    app.save(PetitionerCases(petitioner_key=key, case_id=earlier))
    again = register_sample(app, **AGAIN).case_id
    assert app.get_petition(again).concluded_flag == str(earlier)


def test_cases_answered_before_the_index_are_flagged_after_the_backfill(app, clock, monkeypatch):
    earlier = _answered_unindexed(app, clock, monkeypatch)
    register_sample(app)  # another case of theirs, never answered: nothing to index
    other = helpers.register_sample(app).case_id  # another petitioner's, indexed when answered
    run_steps(app, clock, other, until="answer")
    assert _types(app, register_sample(app, **AGAIN).case_id) == ["Registered"]  # the gap

    heard: list[BackfillProgress] = []
    assert backfill_index(app, dry_run=True) == BackfillProgress(answered=2, indexed=1)
    assert backfill_index(app, batch=1, progress=heard.append) == BackfillProgress(2, 1)
    assert heard == [BackfillProgress(1, 1), BackfillProgress(2, 1), BackfillProgress(2, 1)]
    assert backfill_index(app) == BackfillProgress(answered=2, indexed=0)  # nothing new
    again = register_sample(app, **AGAIN).case_id
    assert app.get_petition(again).concluded_flag == str(earlier)


def test_the_backfill_skips_a_record_an_answer_wrote_meanwhile(app, clock, monkeypatch):
    earlier = _answered_unindexed(app, clock, monkeypatch)
    later = _answered_unindexed(app, clock, monkeypatch)
    key = petitioner_key(app.query_codes, SAMPLE_PETITIONER["id_number"])
    decide = ConcludedMatterIndex.record_of

    def then_answered(index, policy, codes, petition):  # decided, then written by an answer
        record = decide(index, policy, codes, petition)
        if petition.id == later:
            app.save(PetitionerCase(petitioner_key=key, case_id=later))
        return record

    monkeypatch.setattr(ConcludedMatterIndex, "record_of", then_answered)
    assert backfill_index(app) == BackfillProgress(answered=2, indexed=1)
    assert app.concluded_matters.case_ids(key) == [later, earlier]


def test_a_batch_of_registrations_reads_the_index_at_once_and_still_flags(app, clock,
                                                                          monkeypatch):
    """register_all (an inbound consumer's poll) reads all its petitioners' records and former
    indexes in one statement: a concluded matter indexed either way is flagged, another matter
    or another petitioner is not — as one by one."""
    earlier = _answered_and_left(app, clock)
    former_way = helpers.another_petitioner()
    with monkeypatch.context() as before:
        before.setattr(ConcludedMatterIndex, "record_of", lambda *args, **kwargs: None)
        old = helpers.register_sample(app, petitioner=dict(former_way)).case_id
        run_steps(app, clock, old, until="answer")
    app.save(PetitionerCases(petitioner_key=petitioner_key(
        app.query_codes, former_way["id_number"]), case_id=old))
    clock.advance(timedelta(days=60))
    batch = [helpers.register_command(petitioner=dict(SAMPLE_PETITIONER), **AGAIN),
             helpers.register_command(petitioner=dict(former_way), **AGAIN),
             helpers.register_command(petitioner=dict(SAMPLE_PETITIONER), subject="噪音扰民",
                                      category="environment", content="夜间施工噪音。"),
             helpers.register_command(**AGAIN)]
    results = app.register_all([(cmd, Idempotency("batch", str(n)), None)
                                for n, cmd in enumerate(batch)])
    flags = [app.get_petition(r.case_id).concluded_flag for r in results]
    assert flags == [str(earlier), str(old), None, None]


def _records_read(app, monkeypatch) -> list:
    """The ids of the index records the application looks up from now on."""
    asked: list = []
    real = app.concluded_matters.recorder.select_events

    def select_events(originator_id, *args, **kwargs):
        asked.append(originator_id)
        return real(originator_id, *args, **kwargs)

    monkeypatch.setattr(app.concluded_matters.recorder, "select_events", select_events)
    return asked


def test_a_first_answer_writes_the_record_without_looking_for_one(app, clock, monkeypatch):
    """A case never answered has no record (only an answer, or the backfill of an answered
    case, writes one): its first answer saves the record without asking the store."""
    case_id = register_sample(app).case_id
    key = petitioner_key(app.query_codes, SAMPLE_PETITIONER["id_number"])
    asked = _records_read(app, monkeypatch)
    run_steps(app, clock, case_id, until="answer")
    assert PetitionerCase.create_id(key, case_id) not in asked
    assert app.concluded_matters.case_ids(key) == [case_id]


def test_an_answer_after_a_reopening_looks_and_keeps_one_record(app, clock, monkeypatch):
    case_id = register_sample(app).case_id
    key = petitioner_key(app.query_codes, SAMPLE_PETITIONER["id_number"])
    run_steps(app, clock, case_id, until="answer")
    clock.advance(timedelta(days=1))
    app.execute(c.ReopenPetition(case_id=case_id, actor="sup", reason="答复不完整"))
    asked = _records_read(app, monkeypatch)
    clock.advance(timedelta(days=1))
    app.execute(c.AnswerPetition(case_id=case_id, actor="h", unit=helpers.STREET,
                                 answer="已补充答复。"))
    assert asked == [PetitionerCase.create_id(key, case_id)]
    assert app.concluded_matters.case_ids(key) == [case_id]
    assert _types(app, case_id).count("Answered") == 2


def test_intake_finds_the_flagged_cases_in_the_case_list(app, clock):
    """The case view carries the flag until intake decides it, and the list filters by it:
    intake's queue of concluded matters awaiting a decision (不再受理)."""
    earlier = _answered_and_left(app, clock)
    ordinary = register_sample(app, subject="噪音扰民", category="environment",
                               content="夜间施工噪音。").case_id
    flagged = register_sample(app, **AGAIN).case_id
    decided = register_sample(app, **AGAIN).case_id
    app.execute(c.DecideConcludedMatter(case_id=decided, actor="intake-01",
                                        decision="accept_anyway", reason="有新的事实"))
    views = views_of(app)
    catch_up(app, views, "case_view")
    rows = case_view(views)

    def listed(**where) -> list[str]:
        return [row["case_id"] for row in rows.list_cases(CaseFilter(**where))[0]]

    assert rows.get(flagged)["concluded_flag"] == str(earlier)
    assert rows.get(ordinary)["concluded_flag"] is None
    assert rows.get(decided)["concluded_flag"] is None  # decided: no longer waiting
    assert listed(concluded_flag=True) == [str(flagged)]
    assert sorted(listed(concluded_flag=False)) == sorted(str(c_) for c_ in (
        earlier, ordinary, decided))
    registered = queries.cases(rows, CaseFilter(status="registered"))[0]  # what a list shows
    assert {row["case_id"]: row["concluded_flag"] for row in registered} == {
        str(ordinary): None, str(flagged): str(earlier), str(decided): None}


def test_a_petitioners_records_are_read_in_the_order_written_not_by_id(app):
    """The reader's order is the order the records were written (the latest concluded case
    is looked at first), whatever their ids' order in the store's key: written here in
    descending id order, behind the former index's cases."""
    key = petitioner_key(app.query_codes, SAMPLE_PETITIONER["id_number"])
    cases = sorted((uuid.uuid4() for _ in range(6)),
                   key=lambda case_id: PetitionerCase.create_id(key, case_id), reverse=True)
    former = uuid.uuid4()
    app.save(PetitionerCases(petitioner_key=key, case_id=former))
    for case_id in cases:
        app.save(PetitionerCase.indexed(key, case_id))
    other = petitioner_key(app.query_codes, helpers.another_petitioner()["id_number"])
    app.save(PetitionerCase.indexed(other, cases[0]))
    assert app.concluded_matters.case_ids(key) == [former, *cases]
    assert app.concluded_matters.case_ids_of([other, key]) == {other: [cases[0]],
                                                              key: [former, *cases]}
