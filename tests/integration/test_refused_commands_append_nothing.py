"""A refused command leaves no trace: the store is byte-for-byte what it was before.

The aggregate checks every rule before it triggers an event; these tests hold the whole
application and store to that promise, comparing raw dumps of every table before and after.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest

from domain.errors import IllegalTransition, InvalidCommand
from tests.integration.helpers import (
    CITY,
    COMMUNITY,
    DISTRICT,
    STREET,
    dump_store,
    register_command,
    register_sample,
    row_count,
    run_steps,
)
from workflows import commands as c
from workflows.errors import CaseNotFound

# name: (lifecycle step to reach first or None, the refused command, expected error)
SCENARIOS = {
    "answer before delegation": ("accept", lambda cid: c.AnswerPetition(
        case_id=cid, actor="h", unit=STREET, answer="答复"), IllegalTransition),
    "rate twice": ("rate", lambda cid: c.RatePetition(
        case_id=cid, actor="p", attitude="satisfied", efficiency="satisfied",
        quality="satisfied"), IllegalTransition),
    "extend twice": ("extend", lambda cid: c.ExtendDeadline(
        case_id=cid, actor="h", days=5, reason="again"), IllegalTransition),
    "escalate downwards": ("delegate", lambda cid: c.EscalatePetition(
        case_id=cid, actor="h", unit=COMMUNITY, reason="down"), IllegalTransition),
    "accept twice": ("accept", lambda cid: c.AcceptPetition(
        case_id=cid, actor="i", handling_track="claim", speed_track="general"), IllegalTransition),
    "delegate a closed case": ("close", lambda cid: c.DelegatePetition(
        case_id=cid, actor="d", unit=STREET), IllegalTransition),
    "answer a closed case": ("close", lambda cid: c.AnswerPetition(
        case_id=cid, actor="h", unit=STREET, answer="late"), IllegalTransition),
    "unknown unit": ("accept", lambda cid: c.DelegatePetition(
        case_id=cid, actor="d", unit="QH-NOWHERE"), InvalidCommand),
    "deliver before the answer": ("delegate", lambda cid: c.DeliverDecision(
        case_id=cid, actor="h", channel="post"), IllegalTransition),
    "review decided by the answering unit": ("review", lambda cid: c.DecideReview(
        case_id=cid, actor="r", unit=STREET, outcome="upheld", opinion="维持"), InvalidCommand),
    "review decided two levels up": ("review", lambda cid: c.DecideReview(
        case_id=cid, actor="r", unit=CITY, outcome="upheld", opinion="维持"), InvalidCommand),
    "re-review decided by the reviewer": ("re-review", lambda cid: c.DecideReReview(
        case_id=cid, actor="r", unit=DISTRICT, outcome="upheld", opinion="维持"),
        InvalidCommand),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_refused_command_changes_no_byte(app, clock, settings, scenario):
    reach, build, error = SCENARIOS[scenario]
    case_id = register_sample(app).case_id
    run_steps(app, clock, case_id, until=reach)
    version = app.get_petition(case_id).version
    before = dump_store(settings)
    assert row_count(before) >= 3  # the case's events and the query-code index are there

    clock.advance(timedelta(hours=1))
    with pytest.raises(error):
        app.execute(build(case_id))

    assert dump_store(settings) == before
    assert app.get_petition(case_id).version == version


def test_review_after_the_window_is_refused_and_appends_nothing(app, clock, settings):
    case_id = register_sample(app).case_id
    run_steps(app, clock, case_id, until="answer")
    clock.advance(timedelta(days=45))  # the 30-day window (plus any holiday roll) is over
    before = dump_store(settings)

    with pytest.raises(IllegalTransition, match="window closed"):
        app.execute(c.RequestReview(case_id=case_id, actor="p", reason="不服"))

    assert dump_store(settings) == before


def test_review_inside_the_window_is_accepted(app, clock, settings):
    """The control case of the test above: the same request in time does append."""
    case_id = register_sample(app).case_id
    run_steps(app, clock, case_id, until="answer")
    clock.advance(timedelta(days=20))
    before = dump_store(settings)

    app.execute(c.RequestReview(case_id=case_id, actor="p", reason="不服"))

    assert row_count(dump_store(settings)) == row_count(before) + 1


def test_unknown_case_is_case_not_found_and_appends_nothing(app, settings):
    register_sample(app)
    before = dump_store(settings)
    missing = uuid4()

    with pytest.raises(CaseNotFound) as raised:
        app.execute(c.AcceptPetition(case_id=missing, actor="i", handling_track="claim",
                                    speed_track="general"))

    assert raised.value.case_id == missing
    assert dump_store(settings) == before


def test_query_code_index_id_is_not_a_case(app, settings):
    """An id that exists in the store but is not a petition is still CaseNotFound."""
    from domain.query_code_index import QueryCodeIndex

    code_hash = app.get_petition(register_sample(app).case_id).query_code_hash
    index_id = QueryCodeIndex.create_id(code_hash)
    before = dump_store(settings)

    with pytest.raises(CaseNotFound):
        app.get_petition(index_id)
    with pytest.raises(CaseNotFound):
        app.events_of(index_id)
    with pytest.raises(CaseNotFound):
        app.execute(c.ClosePetition(case_id=index_id, actor="x", summary="s"))

    assert dump_store(settings) == before


def test_future_business_time_on_a_case_is_refused(app, clock, settings):
    case_id = register_sample(app).case_id
    before = dump_store(settings)

    with pytest.raises(InvalidCommand, match="future"):
        app.execute(c.AcceptPetition(case_id=case_id, actor="i", handling_track="claim",
                                    speed_track="general", at=clock.now() + timedelta(minutes=6)))

    assert dump_store(settings) == before


def test_future_business_time_on_registration_is_refused(app, clock, settings):
    register_sample(app)
    before = dump_store(settings)

    with pytest.raises(InvalidCommand, match="future"):
        app.register(register_command(at=clock.now() + timedelta(days=1)))

    assert dump_store(settings) == before


def test_a_successful_command_does_change_the_dump(app, clock, settings):
    """Guards the guard: if dump_store missed rows, every test above would pass vacuously."""
    case_id = register_sample(app).case_id
    before = dump_store(settings)

    run_steps(app, clock, case_id, until="accept")

    after = dump_store(settings)
    assert after != before
    assert row_count(after) == row_count(before) + 1
