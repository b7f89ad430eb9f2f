"""Business-time bounds and derived times, as pure rules (no store)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.policy_file import load_business_time
from domain.business_time import BusinessTimeRules
from domain.deadlines import PolicyRules
from domain.derived_times import check_derivable, derived_times
from domain.errors import InvalidCommand
from domain.supervision_ladder import LadderRules
from domain.values import SpeedTrack, Status
from tests.unit.builders import Case, plain_policy

PLUS14, MINUS14 = timezone(timedelta(hours=14)), timezone(timedelta(hours=-14))
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_packaged_policy_file_has_the_documented_business_time_defaults() -> None:
    assert load_business_time() == BusinessTimeRules()
    assert (BusinessTimeRules().max_backdate_days, BusinessTimeRules().clock_skew_minutes) == (
        90, 5)


def test_policy_file_business_time_section_is_read_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("[business_time]\nmax_backdate_days = 400\nclock_skew_minutes = 0\n")
    assert load_business_time(path) == BusinessTimeRules(400, 0)
    path.write_text("[business_time]\nmax_backdate_dayz = 4\n")
    with pytest.raises(InvalidCommand, match="max_backdate_dayz"):
        load_business_time(path)
    for bad in (-1, 3651, True, "90"):
        with pytest.raises(InvalidCommand, match="max_backdate_days"):
            BusinessTimeRules(max_backdate_days=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize(("at", "ok"), [
    (NOW - timedelta(days=90), True), (NOW - timedelta(days=90, microseconds=1), False),
    (NOW + timedelta(minutes=5), True), (NOW + timedelta(minutes=5, microseconds=1), False),
    (NOW.astimezone(PLUS14), True), (NOW.astimezone(MINUS14), True),
    (datetime(1, 1, 1, tzinfo=PLUS14), False), (datetime(9999, 12, 31, 23, tzinfo=MINUS14), False),
])
def test_bounds_around_now(at: datetime, ok: bool) -> None:
    rules = BusinessTimeRules()
    if ok:
        assert rules.check(at, NOW) == at
    else:
        with pytest.raises(InvalidCommand):
            rules.check(at, NOW)


@given(now=st.datetimes(timezones=st.sampled_from([UTC, PLUS14, MINUS14])),
       at=st.datetimes(timezones=st.sampled_from([UTC, PLUS14, MINUS14])))
def test_check_never_fails_but_by_refusing(now: datetime, at: datetime) -> None:
    """Any pair of representable times: an answer or an InvalidCommand, never an overflow."""
    earliest, latest = BusinessTimeRules().bounds(now)
    try:
        at.astimezone(UTC)
        in_utc = True
    except OverflowError:
        in_utc = False
    try:
        BusinessTimeRules().check(at, now)
    except InvalidCommand:
        assert not (in_utc and earliest <= at <= latest)
    else:
        assert in_utc and earliest <= at <= latest


def test_naive_time_is_refused() -> None:
    with pytest.raises(InvalidCommand, match="timezone"):
        BusinessTimeRules().check(datetime(2026, 3, 1), NOW)


@given(start=st.datetimes(timezones=st.sampled_from([UTC, PLUS14, MINUS14])),
       status=st.sampled_from(list(Status)), extension=st.integers(0, 30),
       suggested=st.booleans())
def test_derivable_is_an_answer_or_a_refusal(start: datetime, status: Status,
                                               extension: int, suggested: bool) -> None:
    """Whatever the times, the check either passes — and then every reader can compute every
    derived time — or refuses; it never lets an OverflowError through."""
    case = Case(status=status, received_at=start, speed_track=SpeedTrack.COMPLEX,
                handling_started_at=start, extension_days=extension, answered_at=start,
                review_decided_at=start, proxy_agent="a", proxy_contact_due_from=start,
                open_suggestions={1: ("QH", start)} if suggested else {})
    policy, ladder = plain_policy(), LadderRules()
    try:
        check_derivable(case, policy, ladder)
    except InvalidCommand as refused:
        assert "outside the calendar" in str(refused)
    else:
        assert all(t.tzinfo is UTC for t in derived_times(case, policy, ladder))
        policy.open_deadlines(case)  # what the views compute


def test_policy_day_numbers_are_bounded() -> None:
    with pytest.raises(InvalidCommand, match="answer_days"):
        PolicyRules(answer_days=3651)
    with pytest.raises(InvalidCommand, match="fast track"):
        PolicyRules(fast_tracks={"general": 10**6})
    with pytest.raises(InvalidCommand, match="escalation"):
        LadderRules.from_mapping({"escalation": 10**6})


EDGES = st.one_of(
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(1, 3, 1)),
    st.datetimes(min_value=datetime(9999, 10, 1), max_value=datetime(9999, 12, 31)),
    st.datetimes())
LADDERS = st.builds(LadderRules, reminder=st.sampled_from([None, -3, -3650]),
                    supervision_letter=st.sampled_from([None, 0]),
                    accountability=st.sampled_from([None, 10]),
                    interview=st.sampled_from([None, 20]),
                    escalation=st.sampled_from([None, 30, 3650]))


@given(start=EDGES, zone=st.sampled_from([UTC, PLUS14, MINUS14]),
       status=st.sampled_from(list(Status)), extension=st.integers(0, 30), ladder=LADDERS,
       requested=st.booleans(), suggested=st.none() | EDGES)
def test_check_reaches_the_reference_verdict(start: datetime, zone: timezone, status: Status,
                                              extension: int, ladder: LadderRules,
                                              requested: bool, suggested: datetime | None
                                              ) -> None:
    """The per-command check (each deadline once, a ladder by its two ends) refuses exactly
    when computing every derived time one by one fails, near both ends of the calendar."""
    start = start.replace(tzinfo=zone)
    case = Case(status=status, received_at=start, speed_track=SpeedTrack.COMPLEX,
                handling_started_at=start, extension_days=extension, answered_at=start,
                review_decided_at=start, review_requested_at=start if requested else None,
                re_review_requested_at=start if requested else None, proxy_agent="a",
                proxy_contact_due_from=start,
                open_suggestions={} if suggested is None else {
                    1: ("QH", suggested.replace(tzinfo=zone))})
    policy = plain_policy()
    try:
        derived_times(case, policy, ladder)
        policy.open_deadlines(case)  # what the views compute: the reference includes it
        reference_ok = True
    except (OverflowError, ValueError):
        reference_ok = False
    try:
        current = check_derivable(case, policy, ladder)
    except InvalidCommand:
        assert not reference_ok
    else:
        assert reference_ok and current == policy.current(case)


@pytest.mark.parametrize("now", [datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)])
def test_a_utc_now_at_the_calendars_ends_clamps_its_bounds(now: datetime) -> None:
    """The UTC quick path falls back to the clamped bounds where a bound leaves the calendar."""
    rules = BusinessTimeRules()
    assert rules.check(now, now) == now
    earliest, latest = rules.bounds(now)
    assert (earliest, latest) == ((now - timedelta(days=90), now) if now.year == 9999
                                  else (now, now + timedelta(minutes=5)))
