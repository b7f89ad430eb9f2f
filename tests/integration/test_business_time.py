"""Business time is bounded by the policy, and a command is decided completely before it appends.

A registration at 0001-01-01T00:00+14:00 used to be stored and then fail while its deadline was
computed — after the append, so every view stopped on that event for good. Now every `at` lies
within [now − max_backdate_days, now + clock skew], and every deadline and ladder date of the
state a command leads to is computed before anything is appended: what cannot be computed is a
refusal (InvalidCommand: HTTP 422, CLI exit 3) that changes no byte of the store.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.wiring import build_application
from domain.errors import InvalidCommand
from tests.integration.helpers import dump_store, register_command, register_sample
from workflows import commands as c
from workflows.clock import ManualClock

EXTREMES = ["0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00-14:00", "0001-01-01T00:00:00Z",
            "1900-01-01T00:00:00+08:00", "9999-12-31T23:59:59-14:00",
            "9999-12-31T23:59:59+14:00"]


def accept(case_id, at=None) -> c.AcceptPetition:
    return c.AcceptPetition(case_id=case_id, actor="i", handling_track="claim",
                            speed_track="complex", at=at)


@pytest.mark.parametrize("at", EXTREMES)
def test_registration_at_an_extreme_time_is_refused_and_appends_nothing(app, settings, at):
    register_sample(app)
    before = dump_store(settings)

    with pytest.raises(InvalidCommand, match="business time"):
        app.register(register_command(at=at))

    assert dump_store(settings) == before


@pytest.mark.parametrize("at", EXTREMES)
def test_case_command_at_an_extreme_time_is_refused_and_appends_nothing(app, settings, at):
    case_id = register_sample(app).case_id
    before = dump_store(settings)

    with pytest.raises(InvalidCommand, match="business time"):
        app.execute(accept(case_id, at))

    assert dump_store(settings) == before


def test_backdating_is_allowed_up_to_the_policy_limit_and_no_further(app, clock, settings):
    now = clock.now()
    app.register(register_command(at=now - timedelta(days=90)))  # 补登 of an old letter
    before = dump_store(settings)

    with pytest.raises(InvalidCommand, match="more than 90 days in the past"):
        app.register(register_command(at=now - timedelta(days=90, seconds=1)))

    assert dump_store(settings) == before


def test_a_fast_client_clock_is_tolerated_up_to_the_skew(app, clock, settings):
    now = clock.now()
    case_id = app.register(register_command(at=now + timedelta(minutes=5))).case_id
    before = dump_store(settings)

    with pytest.raises(InvalidCommand, match="in the future"):
        app.execute(accept(case_id, now + timedelta(minutes=5, seconds=1)))
    assert dump_store(settings) == before

    # without an `at`, the next command happens "now" — but never before the case's last event
    result = app.execute(accept(case_id))
    assert app.get_petition(case_id, result.version).last_at == now + timedelta(minutes=5)


def test_a_command_may_not_go_back_before_the_case_s_last_event(app, clock, settings):
    case_id = register_sample(app).case_id
    before = dump_store(settings)

    with pytest.raises(InvalidCommand, match="before the case's last event"):
        app.execute(accept(case_id, clock.now() - timedelta(minutes=1)))

    assert dump_store(settings) == before


@pytest.fixture
def app_at():
    """An application on the test's store whose clock reads ``moment``."""
    opened = []

    def build(settings, moment: datetime):
        application = build_application(settings, clock=ManualClock(moment))
        opened.append(application)
        return application

    yield build
    for application in opened:
        application.close()


def test_a_deadline_beyond_the_calendar_refuses_the_registration(app_at, settings):
    app = app_at(settings, datetime(9999, 12, 20, tzinfo=UTC))
    before = dump_store(settings)

    with pytest.raises(InvalidCommand, match="outside the calendar"):
        app.register(register_command())  # the acceptance deadline would be in year 10000

    assert dump_store(settings) == before


def test_a_ladder_date_beyond_the_calendar_refuses_the_command(app_at, settings):
    app = app_at(settings, datetime(9999, 10, 20, tzinfo=UTC))
    case_id = app.register(register_command()).case_id  # ladder ends 30 days after 11-04
    before = dump_store(settings)

    with pytest.raises(InvalidCommand, match="outside the calendar"):
        app.execute(accept(case_id))  # 60 days to answer, escalation 30 days after that

    assert dump_store(settings) == before


def test_a_time_that_is_year_zero_in_utc_is_refused_at_the_calendar_s_start(app_at, settings):
    app = app_at(settings, datetime(1, 1, 2, tzinfo=UTC))
    before = dump_store(settings)

    with pytest.raises(InvalidCommand, match="outside the calendar in UTC"):
        app.register(register_command(at="0001-01-01T12:00:00+14:00"))
    assert dump_store(settings) == before

    registered = app.register(register_command(at="0001-01-01T12:00:00+00:00"))
    assert registered.deadline is not None and registered.deadline.due_on.year == 1
