"""Statutory rest days for years the calendar package lacks, and which deadlines are provisional.

The rule (全国年节及纪念日放假办法, 2024 amendment) must agree with the State Council's
published schedules of 2025 and 2026 (the package) on the statutory days themselves; 2027 is
then derived from the rule alone, and an operator's imported arrangement wins over both.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import structlog
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from adapters import rest_days as rest_days_module
from adapters.holidays.statutory_rule import festival_days, statutory_days
from adapters.rest_days import PACKAGE_YEARS, ChineseRestDays, years_not_covered
from domain.deadlines import DeadlineKind, DeadlinePolicy, PolicyRules, weekends

CST = ZoneInfo("Asia/Shanghai")


def landing_on(target: date, days: int = 15) -> datetime:
    return datetime.combine(target - timedelta(days=days), time(10), CST)


def due(calendar, target: date):
    return DeadlinePolicy(PolicyRules(), calendar).deadline(
        DeadlineKind.ANSWER, landing_on(target), 15)


# ------------------------------------------------------------------ the rule against the package
PUBLISHED = [(day, name) for year in (2025, 2026)
             for day, name in sorted(statutory_days(year).items())]


@pytest.mark.parametrize(("day", "name"), PUBLISHED, ids=str)
def test_rule_agrees_with_the_published_schedule(day: date, name: str) -> None:
    """Every day the rule gives (festival days and their 补假) is a holiday of that festival."""
    assert chinese_calendar.get_holiday_detail(day) == (True, name)


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_published_festival_holds_its_statutory_days(year: int) -> None:
    published = {n for d, n in chinese_calendar.holidays.items() if d.year == year}
    derived = {n for _, n in festival_days(year)}
    assert derived == {str(n) for n in published}
    assert len(festival_days(year)) == 13  # 1 + 4 + 1 + 2 + 1 + 1 + 3 days by the rule


def test_make_up_days_of_2025_and_2026_are_the_ones_the_state_council_gave() -> None:
    """Article 6 补假: a festival day on a weekend is made up on the next free weekday."""
    weekday_only = {d for y in (2025, 2026) for d in statutory_days(y)
                    if d not in {f for f, _ in festival_days(y)}}
    assert weekday_only == {date(2025, 6, 2), date(2026, 4, 6), date(2026, 5, 4),
                            date(2026, 10, 5)}


def test_spring_festival_2027_starts_on_new_years_eve() -> None:
    days = [d for d, n in festival_days(2027) if n == "Spring Festival"]
    assert days == [date(2027, 2, 5), date(2027, 2, 6), date(2027, 2, 7), date(2027, 2, 8)]


# ------------------------------------------------------------------ 2027 from the rule
CASES_2027 = [  # (a deadline landing on, rolls to)
    (date(2027, 1, 1), date(2027, 1, 4)),  # New Year's Day, a Friday
    (date(2027, 1, 9), date(2027, 1, 11)),  # an ordinary Saturday
    (date(2027, 2, 5), date(2027, 2, 11)),  # 除夕; 初一 and 初二 on the weekend: 补假 9, 10 Feb
    (date(2027, 2, 8), date(2027, 2, 11)),  # 初三
    (date(2027, 3, 10), date(2027, 3, 10)),  # an ordinary Wednesday
    (date(2027, 4, 5), date(2027, 4, 6)),  # 清明, a Monday
    (date(2027, 5, 1), date(2027, 5, 5)),  # Labour Day on Saturday and Sunday: 补假 3, 4 May
    (date(2027, 6, 9), date(2027, 6, 10)),  # 端午
    (date(2027, 9, 15), date(2027, 9, 16)),  # 中秋
    (date(2027, 10, 1), date(2027, 10, 6)),  # National Day: 2, 3 Oct on the weekend
]


@pytest.mark.parametrize(("landing", "expected"), CASES_2027, ids=str)
def test_2027_deadlines_roll_by_the_rule_and_are_provisional(landing: date, expected: date
                                                            ) -> None:
    deadline = due(ChineseRestDays(), landing)
    assert deadline.due_on == expected
    assert deadline.provisional


@pytest.mark.parametrize("landing", [date(2026, 10, 1), date(2026, 3, 17), date(2025, 1, 28)])
def test_deadlines_in_published_years_are_not_provisional(landing: date) -> None:
    assert not due(ChineseRestDays(), landing).provisional


def test_a_roll_into_an_unpublished_year_is_provisional() -> None:
    calendar = ChineseRestDays(extra_rest_days=[date(2026, 12, 31)])
    deadline = due(calendar, date(2026, 12, 31))
    assert deadline.due_on == date(2027, 1, 4) and deadline.provisional


def test_unrolled_deadlines_never_depend_on_the_calendar() -> None:
    policy = DeadlinePolicy(PolicyRules(), ChineseRestDays())
    deadline = policy.deadline(DeadlineKind.PROXY_CONTACT, landing_on(date(2027, 1, 1)), 15,
                               roll=False)
    assert deadline.due_on == date(2027, 1, 1) and not deadline.provisional


def test_a_plain_calendar_never_marks_deadlines_provisional() -> None:
    assert not due(weekends, date(2027, 1, 1)).provisional


# ------------------------------------------------------------------ the operator's days win
ARRANGEMENT_2027 = {date(2027, 2, 11): True, date(2027, 2, 12): True,  # bridging days off
                    date(2027, 2, 20): False}  # a 调休 Saturday


def test_imported_days_win_and_settle_the_year() -> None:
    calendar = ChineseRestDays(imported=ARRANGEMENT_2027)
    eve = due(calendar, date(2027, 2, 5))
    assert eve.due_on == date(2027, 2, 15) and not eve.provisional
    saturday = due(calendar, date(2027, 2, 20))
    assert saturday.due_on == date(2027, 2, 20) and not saturday.provisional
    assert not due(calendar, date(2027, 10, 1)).provisional  # the whole year is entered
    assert due(calendar, date(2027, 10, 1)).due_on == date(2027, 10, 6)  # the rule still applies


def test_an_imported_working_day_wins_over_the_rule_and_the_package() -> None:
    calendar = ChineseRestDays(imported={date(2027, 2, 9): False, date(2026, 10, 1): False})
    assert due(calendar, date(2027, 2, 5)).due_on == date(2027, 2, 9)
    assert due(calendar, date(2026, 10, 1)).due_on == date(2026, 10, 1)


def test_the_policy_file_wins_over_an_imported_file() -> None:
    calendar = ChineseRestDays(extra_working_days=[date(2027, 2, 11)], imported=ARRANGEMENT_2027)
    assert due(calendar, date(2027, 2, 5)).due_on == date(2027, 2, 11)


def test_importing_later_replaces_what_was_in_force() -> None:
    calendar = ChineseRestDays()
    assert calendar(date(2027, 2, 10)) and calendar.is_provisional(date(2027, 2, 10))
    calendar.use_imported({date(2027, 2, 10): False})
    assert not calendar(date(2027, 2, 10)) and not calendar.is_provisional(date(2027, 2, 10))


# ------------------------------------------------------------------ which years are uncovered
def test_uncovered_years_come_from_configuration_not_from_use() -> None:
    """A fresh calendar that computed nothing still names the year it cannot settle."""
    assert range(2004, 2027) == PACKAGE_YEARS
    assert ChineseRestDays().uncovered_years(2027) == [2027]
    assert ChineseRestDays().uncovered_years(2026) == []
    assert ChineseRestDays(imported={date(2027, 5, 6): True}).uncovered_years(2028) == [2028]
    assert ChineseRestDays(extra_working_days=[date(2027, 2, 20)]).uncovered_years(2027) == []


def test_years_not_covered_look_up_to_next_year() -> None:
    assert years_not_covered(ChineseRestDays(), date(2026, 11, 29)) == [2027]
    assert years_not_covered(ChineseRestDays(), date(2025, 6, 1)) == []
    assert years_not_covered(weekends, date(2026, 11, 29)) == []


def test_first_use_of_an_uncovered_year_warns_once_per_process(monkeypatch) -> None:
    monkeypatch.setattr(rest_days_module, "_warned_years", set())
    with structlog.testing.capture_logs() as logs:
        for calendar in (ChineseRestDays(), ChineseRestDays()):
            for day in (date(2027, 1, 1), date(2027, 6, 9), date(2026, 10, 1)):
                calendar(day)
        ChineseRestDays(imported={date(2028, 1, 3): False})(date(2028, 1, 1))
    warnings = [e for e in logs if e["event"] == "calendar_year_not_covered"]
    assert [(w["log_level"], w["year"]) for w in warnings] == [("warning", 2027)]


def test_years_the_rule_cannot_reach_fall_back_to_weekends() -> None:
    calendar = ChineseRestDays()
    assert not calendar(date(2003, 10, 1)) and calendar(date(2003, 10, 4))
    assert not calendar(date(9999, 1, 1)) and calendar.is_provisional(date(9999, 1, 1))


# ------------------------------------------------------------------ property
@settings(max_examples=300, deadline=None)
@given(start=st.datetimes(min_value=datetime(2026, 9, 1), max_value=datetime(2099, 12, 1),
                          timezones=st.just(CST)),
       days=st.integers(min_value=0, max_value=400))
def test_the_derived_calendar_never_makes_a_deadline_earlier_than_weekends_only(
        start: datetime, days: int) -> None:
    assume((start.date() + timedelta(days=days)).year not in PACKAGE_YEARS)
    derived = DeadlinePolicy(PolicyRules(), ChineseRestDays()).deadline(
        DeadlineKind.ANSWER, start, days)
    plain = DeadlinePolicy(PolicyRules(), weekends).deadline(DeadlineKind.ANSWER, start, days)
    assert derived.due_on >= plain.due_on
    assert derived.provisional
