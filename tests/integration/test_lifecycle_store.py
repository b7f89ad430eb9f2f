"""A whole case, register to close, survives the store: the event log is the only truth.

Everything here goes through a real store (SQLite file / PostgreSQL schema) and is read back
by a brand-new application instance, so nothing can be served from memory.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest

from adapters.wiring import build_application
from domain import events as ev
from domain.values import ReviewOutcome, Satisfaction, Status
from tests.integration.helpers import LIFECYCLE, SAMPLE_PETITIONER, STREET, register_sample

EXPECTED_EVENTS = [
    ev.Registered, ev.Accepted, ev.Delegated, ev.DeadlineExtended, ev.SupervisionIssued,
    ev.Answered, ev.Rated, ev.ReviewRequested, ev.ReviewDecided, ev.ReReviewRequested,
    ev.ReReviewDecided, ev.Closed,
]
EXPECTED_STATUS = [
    Status.REGISTERED, Status.ACCEPTED, Status.IN_HANDLING, Status.IN_HANDLING,
    Status.IN_HANDLING, Status.ANSWERED, Status.ANSWERED, Status.UNDER_REVIEW, Status.REVIEWED,
    Status.UNDER_RE_REVIEW, Status.RE_REVIEWED, Status.CLOSED,
]


@pytest.fixture
def lived_case(app, clock):
    """Runs the whole lifecycle; returns (case_id, results, business times, states by version)."""
    registration = register_sample(app)
    results, times = [registration], [clock.now()]
    states = {1: app.get_petition(registration.case_id)}
    for _, build in LIFECYCLE:
        clock.advance(timedelta(days=1, hours=1))
        results.append(app.execute(build(registration.case_id)))
        times.append(clock.now())
        states[results[-1].version] = app.get_petition(registration.case_id)
    return registration.case_id, results, times, states


def test_every_command_reports_the_next_version_and_status(lived_case):
    _, results, _, _ = lived_case
    assert [r.version for r in results] == list(range(1, len(EXPECTED_EVENTS) + 1))
    assert [r.status for r in results] == [s.value for s in EXPECTED_STATUS]


def test_positions_increase_strictly(lived_case):
    _, results, _, _ = lived_case
    positions = [r.position for r in results]
    assert all(isinstance(p, int) and p > 0 for p in positions)
    assert all(a < b for a, b in itertools.pairwise(positions)), positions


def test_a_new_application_reads_the_same_case(lived_case, settings, clock):
    case_id, results, times, states = lived_case
    original = states[results[-1].version]
    fresh = build_application(settings, clock=clock)
    try:
        reloaded = fresh.get_petition(case_id)
    finally:
        fresh.close()
    assert reloaded == original
    # the equality above covers every attribute; spot-check that they are the meaningful ones
    assert reloaded.version == len(EXPECTED_EVENTS)
    assert reloaded.status is Status.CLOSED
    assert reloaded.petitioner.name == SAMPLE_PETITIONER["name"]
    assert reloaded.responsible_unit == STREET
    assert reloaded.extension_days == 15
    assert reloaded.supervision_count == 1
    assert reloaded.ratings.efficiency is Satisfaction.UNSATISFIED
    assert reloaded.review_outcome is ReviewOutcome.REVISED
    assert reloaded.re_review_outcome is ReviewOutcome.UPHELD
    assert reloaded.received_at == times[0]
    assert reloaded.closed_at == times[-1]


def test_events_come_back_in_order_with_business_time_actor_and_timestamp(
    lived_case, settings, clock
):
    case_id, _, times, _ = lived_case
    fresh = build_application(settings, clock=clock)
    try:
        events = fresh.events_of(case_id)
    finally:
        fresh.close()
    assert [type(e) for e in events] == EXPECTED_EVENTS
    assert [e.originator_version for e in events] == list(range(1, len(EXPECTED_EVENTS) + 1))
    assert [e.at for e in events] == times
    assert all(e.at.utcoffset() == timedelta(hours=8) for e in events)
    actors = [e.actor for e in events]
    assert actors[0] == "clerk-01"
    assert actors[1:] == [build(case_id).actor for _, build in LIFECYCLE]
    stamps = [e.timestamp for e in events]
    assert all(isinstance(t, datetime) and t.tzinfo is not None for t in stamps)
    assert stamps == sorted(stamps)


def test_get_petition_at_a_version_is_the_state_as_of_that_version(lived_case, settings, clock):
    case_id, _, _, states = lived_case
    fresh = build_application(settings, clock=clock)
    try:
        for version, expected_status in enumerate(EXPECTED_STATUS, start=1):
            past = fresh.get_petition(case_id, version=version)
            assert past.version == version
            assert past.status is expected_status
            assert past == states[version]
    finally:
        fresh.close()
