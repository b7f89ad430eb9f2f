"""A store written by a release that records deadlines (events at class_version 2), kept in
``tests/stores/recorded_deadlines``: this release, whatever policy and calendar it reads the
store with, loads every event and shows the deadlines as they were recorded — the revised one,
the concluded-matter flag and every case's history included (issue 13, part 2).

The store was written under ``policy-then.toml``; one case was then revised under
``policy-later.toml`` (answer 90 days). ``policy-other-calendar.toml`` changes the answer days
and makes two recorded due dates rest days: a recorded fact moves with neither. The next change
to these events (a new class_version) must keep this test passing through its upcaster.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain import events as ev
from domain.deadlines import Deadline
from tests.integration.kept_stores import KEPT, open_kept_store
from workflows.application import PetitionApplication
from workflows.deadline_revision import revise_deadlines

FIXTURE = KEPT / "recorded_deadlines"
EXPECTED = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))
CASES: dict[str, dict[str, Any]] = EXPECTED["cases"]
POLICIES = ("policy-then.toml", "policy-later.toml", "policy-other-calendar.toml")


def recorded(value: Any) -> Any:
    if not isinstance(value, Deadline):
        return value
    return {"kind": str(value.kind), "starts_at": value.starts_at.isoformat(),
            "due_on": value.due_on.isoformat(), "expires_at": value.expires_at.isoformat(),
            "provisional": value.provisional, "days": value.days, "calendar": value.calendar}


@pytest.fixture(params=[(b, p) for b in ("sqlite", "postgres") for p in POLICIES],
                ids=lambda p: f"{p[0]}-{p[1].removesuffix('.toml')}")
def reader(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PetitionApplication]:
    backend, policy = request.param
    app = open_kept_store(FIXTURE, FIXTURE / policy, backend, tmp_path, request,
                          datetime.fromisoformat(EXPECTED["clock_at_end"]))
    yield app
    app.close()


def test_every_case_reads_back_as_it_was_recorded(reader: PetitionApplication) -> None:
    for name, case in CASES.items():
        case_id = UUID(case["case_id"])
        events = reader.events_of(case_id)
        petition = reader.get_petition(case_id)
        assert [type(e).__name__ for e in events] == case["events"], name
        assert (str(petition.status), petition.version) == (case["status"], case["version"])
        assert [recorded(e.deadline) for e in events
                if isinstance(e, ev.StartsDeadline | ev.DeadlineRevised)] == case["recorded"]
        assert recorded(reader.deadline_of(petition)) == case["deadline"], name
        assert recorded(reader.policy.answer_deadline(petition)) == case["answer_deadline"], name
        assert petition.concluded_flag == case["concluded_flag"]


def test_the_revision_is_in_the_history_with_both_deadlines(reader: PetitionApplication
                                                             ) -> None:
    (revision,) = [e for e in reader.events_of(UUID(CASES["revised"]["case_id"]))
                   if isinstance(e, ev.DeadlineRevised)]
    assert (revision.previous.days, revision.deadline.days) == (60, 90)
    assert revision.reason == "policy: answer 90 days"


def test_a_dry_run_revise_finds_what_differs_from_the_reading_policy(reader: PetitionApplication
                                                                    ) -> None:
    """Under the writing policy only the revised case differs (it says 90 days); under the
    later one, the complex track's other answer deadlines (60 days) do, the revised one not;
    under the other calendar, also those whose due date became a rest day."""
    by_id = {UUID(c["case_id"]): name for name, c in CASES.items()}
    done = {by_id[r.case_id] for r in revise_deadlines(reader, list(by_id), reason="r",
                                                          dry_run=True)}
    expected = {60: {"revised"}, 90: {"in_handling", "extended", "reopened"},
                45: {"in_handling", "extended", "reopened", "revised", "answered",
                     "reviewed_delivered"}}  # 45, and the two rest days (04-21, 05-06)
    assert done == expected[reader.policy.rules.answer_days]
