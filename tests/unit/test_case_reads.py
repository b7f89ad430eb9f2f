"""The case reads the CLI and HTTP share: plain data, guarded, personal data by scope."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from tests.unit.builders import T0, plain_policy, small_chart
from tests.unit.test_application_in_memory import ID_NUMBER, in_handling, registration
from workflows import case_reads
from workflows import commands as c
from workflows.application import PetitionApplication
from workflows.clock import ManualClock
from workflows.errors import AccessDenied
from workflows.privacy import PETITIONER_CASE_FIELDS, REDACTED
from workflows.query_codes import QueryCodes


@pytest.fixture
def app() -> PetitionApplication:
    return PetitionApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, org=small_chart(),
                               policy=plain_policy(), query_codes=QueryCodes(b"q" * 32),
                               clock=ManualClock(T0))


def test_the_case_is_plain_data_with_personal_data_by_scope(app: PetitionApplication) -> None:
    case_id = app.register(registration()).case_id
    shown = case_reads.case(app, case_id)
    assert shown["case_id"] == str(case_id) and shown["status"] == "registered"
    assert shown["petitioner"] == REDACTED and "query_code_hash" not in shown
    assert case_reads.case(app, case_id, pii=True)["petitioner"]["id_number"] == ID_NUMBER


def test_a_guard_refuses_before_anything_is_returned(app: PetitionApplication) -> None:
    case_id = app.register(registration()).case_id

    def refuse(_petition: object) -> None:
        raise AccessDenied("not yours")

    with pytest.raises(AccessDenied):
        case_reads.case(app, case_id, guard=refuse)


def test_history_and_the_state_as_of_an_instant(app: PetitionApplication) -> None:
    case_id = app.register(registration()).case_id
    app.execute(c.AcceptPetition(case_id=case_id, actor="intake", handling_track="claim",
                                 speed_track="general"))
    records = case_reads.history(app, case_id)
    assert [r["type"] for r in records] == ["Registered", "Accepted"]
    assert records[0]["data"]["petitioner"] == REDACTED
    assert records[0]["actor"] == "clerk" and "actor" not in records[0]["data"]
    now = datetime.now(UTC)  # the recorded time is the store's clock, not the business one
    state = case_reads.state_as_of(app, case_id, now)
    assert state["as_of"] == now.isoformat() and state["case"]["status"] == "accepted"
    assert case_reads.case(app, case_id, version=1)["status"] == "registered"


def test_the_petitioner_sees_the_public_steps_and_no_one_s_data(app: PetitionApplication) -> None:
    case_id = in_handling(app)
    shown = case_reads.petitioner_case(app, app.get_petition(case_id))
    assert json.loads(json.dumps(shown)) == shown
    assert shown["case_id"] == str(case_id) and shown["status"] == "in_handling"
    assert [s["type"] for s in shown["steps"]] == ["Registered", "Accepted", "Delegated"]
    assert shown["steps"][2]["fields"] == {"unit": "S11"}  # not the actor, not a note
    assert shown["unit"]["id"] == "S11" and shown["extension"] is None
    assert set(shown) <= PETITIONER_CASE_FIELDS and "petitioner" not in shown
    assert ID_NUMBER not in json.dumps(shown) and "intake" not in json.dumps(shown)
