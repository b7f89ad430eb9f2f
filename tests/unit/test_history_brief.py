"""`petition history` (table): an event's data in one cell, short, but a recorded deadline is
read for its dates — what an auditor looks for in a DeadlineRevised — not cut off in its JSON."""

from __future__ import annotations

from adapters.cli.case_commands import brief

ANSWER = {"kind": "answer", "starts_at": "2026-12-06T16:07:44.219802+00:00",
          "due_on": "2027-03-08", "expires_at": "2027-03-09T00:00:00+08:00",
          "provisional": True, "days": 90, "calendar": "chinese-calendar 1.11.0"}


def test_a_revision_shows_both_due_dates_and_the_reason() -> None:
    previous = {**ANSWER, "due_on": "2027-02-11", "expires_at": "2027-02-12T00:00:00+08:00",
                "days": 60}
    assert brief({"deadline": ANSWER, "previous": previous, "reason": "policy: 90 days"}) == (
        "deadline=answer due 2027-03-08 (90 days, provisional); "
        "previous=answer due 2027-02-11 (60 days, provisional); reason=policy: 90 days")


def test_a_settled_deadline_says_nothing_of_provisional() -> None:
    assert brief({"handling_track": "claim", "deadline": {**ANSWER, "provisional": False}}) == (
        "handling_track=claim; deadline=answer due 2027-03-08 (90 days)")


def test_other_values_are_cut_to_the_width_and_empty_ones_left_out() -> None:
    assert brief({"note": "", "answer": "修" * 60, "deadline": None, "v": 1}, width=10) == (
        "answer=" + "修" * 9 + "…; v=1")


def test_a_derived_deadline_of_an_old_event_reads_as_such() -> None:
    assert brief({"deadline": "derived"}) == "deadline=derived"
