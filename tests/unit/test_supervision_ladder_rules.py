"""The 三函一约谈 ladder as data: parsing the policy section, and which rung is due when.

Deadlines here expire at a fixed instant so the boundaries are exact: a rung is due at its
trigger instant, not one second before.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from domain.deadlines import Deadline, DeadlineKind
from domain.errors import InvalidCommand
from domain.supervision_ladder import (
    RUNGS,
    LadderRules,
    due_measures,
    next_measure,
    rank,
    rungs_for,
)

CST = timezone(timedelta(hours=8))
EXPIRES = datetime(2026, 3, 13, tzinfo=CST)  # due on 03-12, overdue from local midnight
SECOND = timedelta(seconds=1)


def deadline(kind: DeadlineKind = DeadlineKind.ANSWER) -> Deadline:
    return Deadline(kind=kind, starts_at=datetime(2026, 3, 2, 9, tzinfo=CST),
                    due_on=date(2026, 3, 12), expires_at=EXPIRES)


def rungs(measures) -> list[str]:
    return [m.rung for m in measures]


# ---------------------------------------------------------------------- parsing
def test_an_empty_section_is_the_default_ladder():
    assert LadderRules.from_mapping({}) == LadderRules(-3, 0, 10, 20, 30)


def test_the_packaged_policy_matches_the_defaults():
    from adapters.policy_file import load_ladder

    # besides the group petitions' own ladder ([supervision.group]), which the code has not
    assert load_ladder() == LadderRules(group=LadderRules(-5, 0, 5, 10, 15))


def test_off_turns_a_rung_off():
    rules = LadderRules.from_mapping({"reminder": "off", "interview": "off"})
    assert rules.reminder is None and rules.interview is None
    assert rules.offsets() == [0, 10, 30]


def test_unknown_keys_are_named():
    with pytest.raises(InvalidCommand, match=r"unknown supervision rung.*letter, warning"):
        LadderRules.from_mapping({"warning": 1, "letter": 2, "reminder": -3})


@pytest.mark.parametrize("section", [
    {"reminder": 1, "supervision_letter": 0},
    {"accountability": 25, "interview": 20},
    {"interview": 40},  # after the default escalation at 30
    {"supervision_letter": "off", "reminder": 11},  # after accountability at 10
])
def test_rungs_out_of_order_are_refused(section):
    with pytest.raises(InvalidCommand, match="out of order"):
        LadderRules.from_mapping(section)


def test_equal_offsets_and_gaps_from_off_rungs_are_in_order():
    rules = LadderRules.from_mapping({"accountability": "off", "interview": 0, "escalation": 0})
    assert rules.offsets() == [-3, 0, 0, 0]


@pytest.mark.parametrize("value", ["ten", "3", 1.5, True, [1]])
def test_a_value_must_be_whole_days_or_off(value):
    with pytest.raises(InvalidCommand, match='whole number of days or "off"'):
        LadderRules.from_mapping({"reminder": value})


def test_lead_days_is_how_early_the_first_enabled_rung_triggers():
    assert LadderRules().lead_days() == 3
    assert LadderRules(reminder=None).lead_days() == 0
    assert LadderRules(reminder=None, supervision_letter=-5).lead_days() == 5
    assert LadderRules(reminder=2).lead_days() == 0
    assert LadderRules(None, None, None, None, None).lead_days() == 0


# ---------------------------------------------------------------------- due rungs
def test_nothing_is_due_one_second_before_the_reminder():
    assert due_measures(LadderRules(), deadline(), -1, EXPIRES - timedelta(days=3) - SECOND) == []


def test_the_reminder_is_due_exactly_at_its_trigger():
    (measure,) = due_measures(LadderRules(), deadline(), -1, EXPIRES - timedelta(days=3))
    assert (measure.rung, measure.rule, measure.due_at) == (
        "reminder", "answer.reminder", EXPIRES - timedelta(days=3))


def test_the_letter_is_due_the_moment_the_deadline_expires():
    assert rungs(due_measures(LadderRules(), deadline(), rank("reminder"), EXPIRES - SECOND)) == []
    assert rungs(due_measures(LadderRules(), deadline(), rank("reminder"), EXPIRES)) == [
        "supervision_letter"]


@pytest.mark.parametrize("rung, days", [("accountability", 10), ("interview", 20),
                                        ("escalation", 30)])
def test_each_later_rung_at_its_days_overdue(rung, days):
    below = RUNGS[rank(rung) - 1]
    at = EXPIRES + timedelta(days=days)
    assert due_measures(LadderRules(), deadline(), rank(below), at - SECOND) == []
    assert rungs(due_measures(LadderRules(), deadline(), rank(below), at)) == [rung]


def test_every_passed_rung_above_the_reached_one_is_due_at_once_in_order():
    late = EXPIRES + timedelta(days=25)
    assert rungs(due_measures(LadderRules(), deadline(), -1, late)) == [
        "reminder", "supervision_letter", "accountability", "interview"]
    assert rungs(due_measures(LadderRules(), deadline(), rank("accountability"), late)) == [
        "interview"]
    assert due_measures(LadderRules(), deadline(), rank("escalation"), late + timedelta(days=99)) == []


def test_off_rungs_are_never_due():
    rules = LadderRules(reminder=None, accountability=None)
    assert rungs(due_measures(rules, deadline(), -1, EXPIRES + timedelta(days=20))) == [
        "supervision_letter", "interview"]


def test_rules_name_the_obligation_kind():
    (measure,) = due_measures(LadderRules(), deadline(DeadlineKind.REVIEW_DECISION), -1,
                              EXPIRES - timedelta(days=3))
    assert measure.rule == "review_decision.reminder"


# ---------------------------------------------------------------------- what comes next
def test_next_measure_is_the_next_enabled_rung_and_its_moment():
    upcoming = next_measure(LadderRules(), deadline(), -1)
    assert (upcoming.rung, upcoming.due_at) == ("reminder", EXPIRES - timedelta(days=3))
    upcoming = next_measure(LadderRules(accountability=None), deadline(), rank("supervision_letter"))
    assert (upcoming.rung, upcoming.due_at) == ("interview", EXPIRES + timedelta(days=20))
    assert next_measure(LadderRules(), deadline(), rank("escalation")) is None
    assert next_measure(LadderRules(escalation=None), deadline(), rank("interview")) is None


# ---------------------------------------------------------------------- unchased kinds
@pytest.mark.parametrize("kind", [DeadlineKind.REVIEW_REQUEST, DeadlineKind.RE_REVIEW_REQUEST,
                                  DeadlineKind.PROXY_CONTACT])
def test_the_petitioners_windows_and_the_proxys_contact_are_not_chased(kind):
    way_late = EXPIRES + timedelta(days=365)
    assert due_measures(LadderRules(), deadline(kind), -1, way_late) == []
    assert next_measure(LadderRules(), deadline(kind), -1) is None


@pytest.mark.parametrize("kind", [DeadlineKind.ACCEPTANCE, DeadlineKind.ANSWER,
                                  DeadlineKind.REVIEW_DECISION, DeadlineKind.RE_REVIEW_DECISION])
def test_units_obligations_are_chased(kind):
    assert rungs(due_measures(LadderRules(), deadline(kind), -1, EXPIRES)) == [
        "reminder", "supervision_letter"]


# ---------------------------------------------------------------------- which may escalate
@pytest.mark.parametrize("kind", [DeadlineKind.ACCEPTANCE, DeadlineKind.REVIEW_DECISION,
                                  DeadlineKind.RE_REVIEW_DECISION])
def test_obligations_that_cannot_be_escalated_end_at_the_interview(kind):
    """Acceptance and review decisions are not moved up: no escalation is due or shown next."""
    late = EXPIRES + timedelta(days=99)
    assert rungs(due_measures(LadderRules(), deadline(kind), -1, late)) == [
        "reminder", "supervision_letter", "accountability", "interview"]
    assert next_measure(LadderRules(), deadline(kind), rank("interview")) is None
    assert "escalation" not in rungs_for(kind)


def test_the_answer_obligation_climbs_to_escalation():
    upcoming = next_measure(LadderRules(), deadline(DeadlineKind.ANSWER), rank("interview"))
    assert (upcoming.rung, upcoming.due_at) == ("escalation", EXPIRES + timedelta(days=30))


def test_a_rung_paced_past_the_calendars_end_is_never_due_rather_than_an_error():
    """A reminder issued late near year 9999: the letter's pacing would fall past the last
    instant; the tick must not stop on it (found by the accepted-histories property)."""
    late = Deadline(kind=DeadlineKind.ANSWER, starts_at=datetime(9999, 12, 1, tzinfo=CST),
                    due_on=date(9999, 12, 20), expires_at=datetime(9999, 12, 21, tzinfo=CST))
    issued = datetime(9999, 12, 31, 12, tzinfo=UTC)
    upcoming = next_measure(LadderRules(), late, rank("reminder"), issued)
    assert upcoming is not None and upcoming.rung == "supervision_letter"
    assert upcoming.due_at >= issued  # the calendar's last instant, never reached
