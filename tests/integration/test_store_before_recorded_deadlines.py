"""A store written by the release before deadlines were recorded (55f0a1c) opens with this one
and shows the dates that release showed (issue 13, part 2: "existing stores keep loading and
auditors see the same dates").

``tests/stores/before_recorded_deadlines`` holds a SQLite store that release wrote (its
``make_store.py`` says how), its test-only keys, its packaged policy, and what it showed for each
case (``expected.json``): one case per stage an obligation can be in, dated in 2025 (a year the
calendar package ships, so the dates do not move with a later package), and a case long enough
to be read from the snapshot that release took. ``test_upcasting`` writes the old shape with
this release's classes; this test reads the bytes the old code wrote.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain import events as ev
from domain.deadlines import DERIVED, Deadline, DeadlineKind
from projections.runner import audit_trail, case_view, catch_up
from tests.integration.helpers import STREET
from tests.integration.kept_stores import KEPT, open_kept_store
from tests.views import views_of
from workflows import commands as c
from workflows.application import PetitionApplication
from workflows.deadline_revision import revise_deadlines

FIXTURE = KEPT / "before_recorded_deadlines"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))
CASES: dict[str, dict[str, Any]] = EXPECTED["cases"]


def shown(deadline: Deadline | None) -> dict[str, Any] | None:
    """What the old release showed of a deadline (it had no days or calendar version)."""
    if deadline is None:
        return None
    return {"kind": str(deadline.kind), "starts_at": deadline.starts_at.isoformat(),
            "due_on": deadline.due_on.isoformat(), "expires_at": deadline.expires_at.isoformat(),
            "provisional": deadline.provisional}


@pytest.fixture(params=["sqlite", "postgres"])
def reader(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PetitionApplication]:
    """This release on a copy of the old store with its keys and policy (both stores)."""
    app = open_kept_store(FIXTURE, FIXTURE / "policy.toml", request.param, tmp_path, request,
                          datetime.fromisoformat(EXPECTED["clock_at_end"]))
    yield app
    app.close()


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_case_shows_the_deadlines_the_old_release_showed(reader: PetitionApplication,
                                                              name: str) -> None:
    case = CASES[name]
    petition = reader.get_petition(UUID(case["case_id"]))
    assert (str(petition.status), petition.version) == (case["status"], case["version"])
    assert not any(petition.recorded_deadlines.values())  # nothing recorded: all derived
    assert shown(reader.deadline_of(petition)) == case["deadline"]
    assert shown(reader.policy.answer_deadline(petition)) == case["answer_deadline"]
    started = [e for e in reader.events_of(petition.id) if isinstance(e, ev.StartsDeadline)]
    assert started and all(e.deadline == DERIVED for e in started)


def test_the_long_case_is_read_from_the_old_snapshot(reader: PetitionApplication) -> None:
    case_id = UUID(CASES["snapshotted"]["case_id"])
    (snapshot,) = reader.snapshots.get(case_id)  # type: ignore[union-attr]
    assert snapshot.originator_version == 50 and "recorded_deadlines" not in snapshot.state
    assert shown(reader.deadline_of(reader.get_petition(case_id))) == CASES["snapshotted"][
        "deadline"]


def test_the_views_built_from_the_old_store_show_the_same_dates(reader: PetitionApplication
                                                                ) -> None:
    """What staff and auditors read (the case view, the audit trail) is built from the old
    events by this release: the same due dates, and every event chains."""
    views = views_of(reader)
    catch_up(reader, views, "case_view")
    catch_up(reader, views, "audit_trail")
    rows = case_view(views)
    for case in CASES.values():
        row = rows.get(case["case_id"])
        assert row is not None
        due = case["deadline"]["due_on"] if case["deadline"] else None
        assert (row["status"], str(row["deadline_due_on"]) if due else row["deadline_due_on"]
                ) == (case["status"], due)
    assert audit_trail(views).verify(application_name=reader.name) == []


def test_old_obligations_are_not_revised_and_new_ones_are_recorded(
        reader: PetitionApplication) -> None:
    assert revise_deadlines(reader, [UUID(k["case_id"]) for k in CASES.values()],
                            reason="policy reviewed") == []  # derived: nothing to revise
    case_id = UUID(CASES["in_handling"]["case_id"])
    reader.clock.advance(timedelta(days=1))  # type: ignore[attr-defined]
    reader.execute(c.AnswerPetition(case_id=case_id, actor="handler-01", unit=STREET,
                                    answer="已修复"))
    answered = reader.events_of(case_id)[-1]
    assert isinstance(answered, ev.Answered) and answered.deadline.kind is \
        DeadlineKind.REVIEW_REQUEST
    petition = reader.get_petition(case_id)
    assert reader.deadline_of(petition) == answered.deadline  # the new obligation is a fact
    assert shown(reader.policy.answer_deadline(petition)) == CASES["in_handling"][
        "answer_deadline"]  # the old round's answer deadline, still as the old release said
