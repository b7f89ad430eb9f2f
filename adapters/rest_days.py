"""Statutory rest days from the ``chinese-calendar`` package, with the operator's corrections.

The package knows each year only after the State Council publishes its holiday schedule
(usually in November). For a year it does not know yet, weekends are rest days and the year
is recorded in ``uncovered_years`` so operators can see it (``petition info``); the policy
file's ``[calendar]`` section can add or remove days until the package is upgraded.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import chinese_calendar


class ChineseRestDays:
    def __init__(self, extra_rest_days: Iterable[date] = (), extra_working_days: Iterable[date] = ()):
        self.extra_rest_days = frozenset(extra_rest_days)
        self.extra_working_days = frozenset(extra_working_days)
        self.uncovered_years: set[int] = set()
        self._known: dict[date, bool] = {}

    def __call__(self, day: date) -> bool:
        """Memoised: the package validates every date against its whole table (slow)."""
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._lookup(day)
        return known

    def _lookup(self, day: date) -> bool:
        if day in self.extra_working_days:
            return False
        if day in self.extra_rest_days:
            return True
        try:
            return not chinese_calendar.is_workday(day)
        except NotImplementedError:
            self.uncovered_years.add(day.year)
            return day.weekday() >= 5
