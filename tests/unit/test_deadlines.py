"""Legal time limits: the default numbers, day counting, rest-day rolling and the policy file."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from adapters.policy_file import load_policy
from adapters.rest_days import ChineseRestDays
from domain.deadlines import Deadline, DeadlineKind, DeadlinePolicy, PolicyRules, weekends
from domain.errors import InvalidCommand
from domain.values import SpeedTrack, Status
from tests.unit.builders import CST, T0, Case, plain_policy

SHANGHAI = ZoneInfo("Asia/Shanghai")


def days_after(start: datetime, n: int) -> date:
    return start.astimezone(SHANGHAI).date() + timedelta(days=n)


def first_workday_from(day: date) -> date:
    """Independent of the code under test: asks chinese_calendar directly."""
    while not chinese_calendar.is_workday(day):
        day += timedelta(days=1)
    return day


# ------------------------------------------------------------------ default numbers
def test_packaged_policy_file_has_the_documented_defaults() -> None:
    """policy.toml and PolicyRules() agree, so the code defaults describe production."""
    assert load_policy().rules == PolicyRules()
    rules = PolicyRules()
    assert (rules.acceptance_days, rules.answer_days, rules.max_extension_days) == (15, 60, 30)
    assert dict(rules.fast_tracks) == {"simple": 0, "general": 10}
    assert (rules.review_request_days, rules.review_decision_days) == (30, 30)
    assert (rules.re_review_request_days, rules.re_review_decision_days) == (30, 30)
    assert rules.proxy_contact_days == 7 and rules.timezone == "Asia/Shanghai"


def test_acceptance_due_15_days_after_receipt() -> None:
    d = plain_policy().current(Case(status=Status.REGISTERED))
    assert (d.kind, d.starts_at, d.due_on) == (DeadlineKind.ACCEPTANCE, T0, date(2026, 3, 17))


@pytest.mark.parametrize(("track", "days"), [
    (None, 60), (SpeedTrack.COMPLEX, 60), (SpeedTrack.GENERAL, 10), (SpeedTrack.SIMPLE, 0)])
@pytest.mark.parametrize("status", [Status.ACCEPTED, Status.IN_HANDLING])
def test_answer_days_by_speed_track(status, track, days) -> None:
    """60 days from acceptance by default; the general track 10; the simple track same day."""
    started = T0 + timedelta(days=1)
    d = plain_policy().current(Case(status=status, speed_track=track, handling_started_at=started))
    assert (d.kind, d.starts_at, d.due_on) == (DeadlineKind.ANSWER, started, days_after(started, days))


def test_simple_track_is_due_the_same_day() -> None:
    d = plain_policy().current(Case(status=Status.ACCEPTED, speed_track=SpeedTrack.SIMPLE,
                                    handling_started_at=T0))
    assert d.due_on == T0.date()
    assert d.expires_at == datetime.combine(T0.date() + timedelta(days=1), time(), SHANGHAI)


def test_extension_adds_days_to_the_answer_deadline() -> None:
    d = plain_policy().current(Case(status=Status.IN_HANDLING, speed_track=SpeedTrack.GENERAL,
                                    handling_started_at=T0, extension_days=25))
    assert d.due_on == days_after(T0, 35)


@pytest.mark.parametrize(("case", "kind", "start"), [
    (Case(status=Status.ANSWERED, answered_at=T0, answer_delivered_at=T0),
     DeadlineKind.REVIEW_REQUEST, T0),
    (Case(status=Status.UNDER_REVIEW, answered_at=T0, review_requested_at=T0 + timedelta(1)),
     DeadlineKind.REVIEW_DECISION, T0 + timedelta(1)),
    (Case(status=Status.REVIEWED, answered_at=T0, review_requested_at=T0,
          review_decided_at=T0 + timedelta(2), opinion_delivered_at=T0 + timedelta(2)),
     DeadlineKind.RE_REVIEW_REQUEST, T0 + timedelta(2)),
    (Case(status=Status.UNDER_RE_REVIEW, re_review_requested_at=T0 + timedelta(3)),
     DeadlineKind.RE_REVIEW_DECISION, T0 + timedelta(3)),
])
def test_review_deadlines_are_30_days(case, kind, start) -> None:
    d = plain_policy().current(case)
    assert (d.kind, d.starts_at, d.due_on) == (kind, start, days_after(start, 30))


@pytest.mark.parametrize("status", [Status.CLOSED, Status.DECLINED, Status.WITHDRAWN,
                                    Status.RE_REVIEWED])
def test_finished_statuses_run_no_deadline(status) -> None:
    case = Case(status=status, answered_at=T0, proxy_agent="a", proxy_contact_due_from=T0)
    assert plain_policy().current(case) is None
    assert plain_policy().open_deadlines(case) == []


def test_review_window_closes_once_a_review_is_asked() -> None:
    case = Case(status=Status.ANSWERED, answered_at=T0, review_requested_at=T0)
    assert plain_policy().review_window(case) is None
    assert plain_policy().review_window(Case(status=Status.ANSWERED)) is None


def test_proxy_contact_is_weekly_and_does_not_roll() -> None:
    """A Monday start is due the next Monday; on a weekend-only calendar a Saturday stays."""
    policy = DeadlinePolicy(PolicyRules(), weekends)
    saturday_due = datetime(2026, 3, 7, 9, tzinfo=CST) - timedelta(days=7)
    case = Case(status=Status.IN_HANDLING, handling_started_at=T0, proxy_agent="a",
                proxy_contact_due_from=saturday_due)
    kinds = {d.kind: d for d in policy.open_deadlines(case)}
    assert set(kinds) == {DeadlineKind.ANSWER, DeadlineKind.PROXY_CONTACT}
    assert kinds[DeadlineKind.PROXY_CONTACT].due_on == date(2026, 3, 7)


# ------------------------------------------------------------------ counting
def test_start_day_is_not_counted() -> None:
    """One day after a start late at night is the next calendar day, not the same one."""
    late = datetime(2026, 3, 2, 23, 59, tzinfo=CST)
    assert plain_policy().deadline(DeadlineKind.ANSWER, late, 1).due_on == date(2026, 3, 3)
    assert plain_policy().deadline(DeadlineKind.ANSWER, late, 0).due_on == date(2026, 3, 2)


def test_days_count_from_the_local_date_not_the_utc_date() -> None:
    """17:30 UTC on 2 March is already 3 March in Shanghai."""
    start = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)
    assert plain_policy().deadline(DeadlineKind.ANSWER, start, 1).due_on == date(2026, 3, 4)


def test_expires_at_local_midnight_after_due_on() -> None:
    d = plain_policy().deadline(DeadlineKind.ACCEPTANCE, T0, 15)
    assert d.expires_at == datetime(2026, 3, 18, 0, 0, tzinfo=SHANGHAI)
    assert d.expires_at.utcoffset() == timedelta(hours=8)
    assert d.expires_at == datetime(2026, 3, 17, 16, 0, tzinfo=UTC)


def test_is_overdue_from_expiry_on() -> None:
    d = plain_policy().deadline(DeadlineKind.ACCEPTANCE, T0, 15)
    assert not d.is_overdue(d.expires_at - timedelta(microseconds=1))
    assert not d.is_overdue(datetime(2026, 3, 17, 23, 59, 59, tzinfo=SHANGHAI))
    assert d.is_overdue(d.expires_at)
    assert d.is_overdue(datetime(2026, 3, 17, 16, 0, 1, tzinfo=UTC))


def test_deadline_is_a_value() -> None:
    one = plain_policy().deadline(DeadlineKind.ANSWER, T0, 3)
    assert one == Deadline(DeadlineKind.ANSWER, T0, date(2026, 3, 5),
                           datetime(2026, 3, 6, tzinfo=SHANGHAI), days=3,
                           calendar="no_rest_days")


# ------------------------------------------------------------------ rolling on the real calendar
def chinese_policy(**kw) -> DeadlinePolicy:
    return DeadlinePolicy(PolicyRules(), ChineseRestDays(**kw))


def start_landing_on(target: date, days: int = 15) -> datetime:
    return datetime.combine(target - timedelta(days=days), time(10), CST)


@pytest.mark.parametrize("landing", [date(2026, 10, 1) + timedelta(n) for n in range(7)])
def test_national_day_rolls_to_the_first_working_day_after(landing) -> None:
    """Whatever day of the 2026 National Day holiday it lands on, it rolls past the holiday."""
    expected = first_workday_from(date(2026, 10, 1))
    assert expected > date(2026, 10, 7)  # the package's schedule: 1–7 October rest
    d = chinese_policy().deadline(DeadlineKind.ACCEPTANCE, start_landing_on(landing), 15)
    assert d.due_on == expected
    assert d.expires_at == datetime.combine(expected + timedelta(1), time(), SHANGHAI)


def test_ordinary_weekend_rolls_to_monday() -> None:
    saturday = date(2026, 3, 7)
    assert not chinese_calendar.is_workday(saturday)
    assert chinese_calendar.is_workday(date(2026, 3, 9))
    d = chinese_policy().deadline(DeadlineKind.ACCEPTANCE, start_landing_on(saturday), 15)
    assert d.due_on == date(2026, 3, 9)


def test_adjusted_working_weekend_day_does_not_roll() -> None:
    """A 调休 Saturday or Sunday is a working day, so a deadline on it stays there."""
    working_weekends = sorted(d for d in chinese_calendar.workdays
                              if d.year == 2026 and d.weekday() >= 5)
    assert working_weekends, "the package lists 调休 weekend working days for 2026"
    for day in working_weekends:
        d = chinese_policy().deadline(DeadlineKind.ACCEPTANCE, start_landing_on(day), 15)
        assert d.due_on == day


def test_a_working_day_does_not_roll() -> None:
    d = chinese_policy().deadline(DeadlineKind.ACCEPTANCE, T0, 15)
    assert d.due_on == date(2026, 3, 17)


def test_roll_can_be_disabled() -> None:
    d = chinese_policy().deadline(DeadlineKind.PROXY_CONTACT, start_landing_on(date(2026, 10, 1)),
                                  15, roll=False)
    assert d.due_on == date(2026, 10, 1)


def test_uncovered_year_uses_the_rule_and_is_listed() -> None:
    """2027 is not in the package: weekends and the statutory days by the rule still rest."""
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 9))
    calendar = ChineseRestDays()
    policy = DeadlinePolicy(PolicyRules(), calendar)
    saturday = date(2027, 1, 9)
    assert policy.deadline(DeadlineKind.ANSWER, start_landing_on(saturday), 15).due_on == \
        date(2027, 1, 11)
    new_year = policy.deadline(DeadlineKind.ANSWER, start_landing_on(date(2027, 1, 1)), 15)
    assert new_year.due_on == date(2027, 1, 4) and new_year.provisional
    assert calendar.uncovered_years(2027) == [2027]


def test_covered_years_are_not_listed_as_uncovered() -> None:
    calendar = ChineseRestDays()
    calendar(date(2026, 10, 1))
    assert calendar.uncovered_years(2026) == []


def test_extra_rest_and_working_days_override_the_package() -> None:
    calendar = ChineseRestDays(extra_rest_days=[date(2027, 1, 1), date(2026, 3, 17)],
                               extra_working_days=[date(2026, 10, 1)])
    assert calendar(date(2027, 1, 1)) and calendar(date(2026, 3, 17))
    assert not calendar(date(2026, 10, 1))
    policy = DeadlinePolicy(PolicyRules(), calendar)
    assert policy.deadline(DeadlineKind.ANSWER, start_landing_on(date(2027, 1, 1)), 15).due_on \
        == date(2027, 1, 4)
    assert policy.deadline(DeadlineKind.ANSWER, start_landing_on(date(2026, 10, 1)), 15).due_on \
        == date(2026, 10, 1)


def test_policy_file_calendar_section_is_applied(tmp_path: Path) -> None:
    """Operators correct the calendar in the policy file until the package catches up."""
    path = tmp_path / "policy.toml"
    path.write_text(
        'answer_days = 20\n[fast_tracks]\ngeneral = 5\n'
        '[calendar]\nextra_rest_days = ["2027-01-01", 2027-01-04]\n'
        'extra_working_days = ["2026-10-01"]\n'
    )
    policy = load_policy(path)
    assert policy.rules.answer_days == 20 and dict(policy.rules.fast_tracks) == {"general": 5}
    assert policy.rest_days(date(2027, 1, 1)) and policy.rest_days(date(2027, 1, 4))
    assert not policy.rest_days(date(2026, 10, 1))
    assert policy.deadline(DeadlineKind.ANSWER, start_landing_on(date(2027, 1, 1)), 15).due_on \
        == date(2027, 1, 5)


@pytest.mark.parametrize(("section", "message"), [
    ('extra_rest_days = ["2027-02-30"]', "ISO dates"),
    ("extra_working_days = [5]", "ISO dates"),
    ('extra_holidays = ["2027-02-11"]', "unknown \\[calendar\\] setting.*extra_holidays"),
])
def test_policy_file_calendar_section_is_checked(tmp_path: Path, section: str, message: str
                                                 ) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(f"[calendar]\n{section}\n")
    with pytest.raises(InvalidCommand, match=message):
        load_policy(path)


def test_policy_file_calendar_days_settle_their_year(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[calendar]\nextra_working_days = ["2027-02-20"]\n')
    policy = load_policy(path)
    assert policy.rest_days.uncovered_years(2027) == []
    start = start_landing_on(date(2027, 2, 20))
    deadline = policy.deadline(DeadlineKind.ANSWER, start, 15)
    assert deadline.due_on == date(2027, 2, 20) and not deadline.provisional


def test_policy_file_with_bad_toml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text("answer_days = = 3\n")
    with pytest.raises(InvalidCommand, match="policy file"):
        load_policy(path)


# ------------------------------------------------------------------ rules validation
def test_from_mapping_rejects_unknown_keys_by_name() -> None:
    with pytest.raises(InvalidCommand, match="answer_dayz, foo"):
        PolicyRules.from_mapping({"answer_dayz": 3, "foo": 1, "acceptance_days": 5})


def test_from_mapping_builds_rules() -> None:
    rules = PolicyRules.from_mapping({"acceptance_days": 5, "fast_tracks": {"simple": 1}})
    assert (rules.acceptance_days, dict(rules.fast_tracks), rules.answer_days) == (
        5, {"simple": 1}, 60)


@pytest.mark.parametrize("key", ["acceptance_days", "answer_days", "max_extension_days",
                                 "review_request_days", "proxy_contact_days"])
def test_negative_numbers_refused(key) -> None:
    with pytest.raises(InvalidCommand, match=key):
        PolicyRules.from_mapping({key: -1})


@pytest.mark.parametrize("tracks", [{"simple": -1}, {"express": 3}])
def test_bad_fast_tracks_refused(tracks) -> None:
    with pytest.raises(InvalidCommand, match="fast track"):
        PolicyRules.from_mapping({"fast_tracks": tracks})


def test_zero_days_allowed() -> None:
    assert PolicyRules.from_mapping({"acceptance_days": 0}).acceptance_days == 0


@pytest.mark.parametrize("data, message", [
    ({"timezone": "Mars/Base"}, "unknown timezone"),
    ({"answer_days": "60"}, "answer_days must be a whole number"),
    ({"acceptance_days": 1.5}, "acceptance_days must be a whole number"),
    ({"fast_tracks": {"general": "10"}}, "bad fast track"),
])
def test_policy_values_of_the_wrong_type_are_refused_at_load(data, message) -> None:
    """A typo in the operator's TOML fails at start with its name, not later in a deadline."""
    with pytest.raises(InvalidCommand, match=message):
        PolicyRules.from_mapping(data)


@pytest.mark.parametrize("group", [False, True])
@pytest.mark.parametrize("speed", [None, *SpeedTrack])
def test_days_for_each_kind_is_its_policy_setting(group: bool, speed: SpeedTrack | None) -> None:
    """``days_for`` looks the plain settings up instead of computing all eight each call: every
    kind still gets its own setting (distinct numbers here, so a mix-up shows)."""
    rules = PolicyRules(acceptance_days=11, answer_days=55, review_request_days=21,
                        review_decision_days=22, re_review_request_days=23,
                        re_review_decision_days=24, proxy_contact_days=6,
                        suggestion_response_days=26, group={"acceptance_days": 9,
                                                            "answer_days": 33})
    policy = DeadlinePolicy(rules)
    expected = {
        DeadlineKind.ACCEPTANCE: rules.acceptance_days_for(group),
        DeadlineKind.ANSWER: rules.answer_days_for(speed, group),
        DeadlineKind.REVIEW_REQUEST: 21, DeadlineKind.REVIEW_DECISION: 22,
        DeadlineKind.RE_REVIEW_REQUEST: 23, DeadlineKind.RE_REVIEW_DECISION: 24,
        DeadlineKind.PROXY_CONTACT: 6, DeadlineKind.SUGGESTION_RESPONSE: 26,
    }
    assert set(expected) == set(DeadlineKind)
    for kind, days in expected.items():
        assert policy.days_for(kind, speed, group) == days
        assert policy.days_for(DeadlineKind(kind.value), speed, group) == days
