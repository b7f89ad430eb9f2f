"""Imported holiday arrangements are events in the store: every process, after any restart,
uses them; a later import of a year replaces that year and keeps the others."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from adapters.holidays.holiday_file import parse_holidays
from adapters.holidays.stored_arrangement import import_arrangement, stored_arrangement
from adapters.settings import Settings
from adapters.wiring import build_application
from domain.deadlines import DeadlineKind
from workflows.application import PetitionApplication

CST = ZoneInfo("Asia/Shanghai")
FILE_2027 = "date,kind,name\n2027-02-11,holiday,春节\n2027-02-12,holiday,春节\n" \
            "2027-02-20,workday,春节调休\n"


def eve_deadline(application: PetitionApplication):
    start = datetime.combine(date(2027, 2, 5) - timedelta(days=15), time(10), CST)
    return application.policy.deadline(DeadlineKind.ANSWER, start, 15)


def test_an_import_survives_a_restart_and_wins(app: PetitionApplication, settings: Settings
                                               ) -> None:
    before = eve_deadline(app)
    assert (before.due_on, before.provisional) == (date(2027, 2, 11), True)

    import_arrangement(app, parse_holidays(FILE_2027), source="2027.csv")
    assert (eve_deadline(app).due_on, eve_deadline(app).provisional) == (date(2027, 2, 15), False)

    restarted = build_application(settings)  # another process, or the same one restarted
    try:
        after = eve_deadline(restarted)
        assert (after.due_on, after.provisional) == (date(2027, 2, 15), False)
        assert not restarted.policy.rest_days(date(2027, 2, 20))
        assert restarted.policy.rest_days.uncovered_years(2028) == [2028]
    finally:
        restarted.close()


def test_a_later_import_replaces_its_years_and_keeps_the_others(app: PetitionApplication,
                                                                settings: Settings) -> None:
    import_arrangement(app, parse_holidays(FILE_2027), source="2027.csv")
    import_arrangement(app, parse_holidays("date,kind,name\n2028-01-31,holiday,x\n"), "2028.csv")
    import_arrangement(app, parse_holidays("date,kind,name\n2027-02-11,holiday,春节\n"),
                       source="2027-corrected.csv")
    record = stored_arrangement(app)
    assert record is not None and record.years == [2027, 2028]
    assert [d["date"] for d in record.days] == ["2027-02-11", "2028-01-31"]
    assert record.source == "2027-corrected.csv"
    restarted = build_application(settings)
    try:
        assert eve_deadline(restarted).due_on == date(2027, 2, 12)  # 12 Feb is no longer off
        assert restarted.policy.rest_days.uncovered_years(2028) == []
    finally:
        restarted.close()
