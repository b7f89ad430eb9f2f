"""Statutory rest days of mainland China, and which years of them are settled.

Each day is answered by the first source that knows it:

1. the operator's days: the policy file's ``[calendar]`` section, then the holiday files
   imported with ``petition calendar import`` (the State Council's yearly 调休 arrangement);
2. the ``chinese-calendar`` package, for the years it ships (the published schedules);
3. the rule itself (adapters/holidays/statutory_rule.py) for later years: the statutory
   festival days and their 补假, plus weekends — but not the yearly swaps, which nobody can
   derive.

A year is *settled* when the package ships it or the operator entered days of it; a deadline
that depends on an unsettled year is provisional (``Deadline.provisional``). The first use of an
unsettled year logs one warning per process; ``petition info`` and ``/readyz`` list the
unsettled years from this configuration, whatever was computed so far.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import date
from importlib.metadata import version as package_version

import chinese_calendar
import structlog

from adapters.holidays.statutory_rule import derivable, statutory_days

log = structlog.get_logger("petition.calendar")

PACKAGE_YEARS = range(min(d.year for d in chinese_calendar.holidays),
                      max(d.year for d in chinese_calendar.holidays) + 1)
"""The years whose published schedule the pinned ``chinese-calendar`` ships."""

PACKAGE_VERSION = f"chinese-calendar {package_version('chinese-calendar')}"

_warned_years: set[int] = set()  # per process: warn once per unsettled year


class ChineseRestDays:
    """A ``RestDayCalendar`` (see domain/deadlines.py) that also says which days are provisional."""

    def __init__(self, extra_rest_days: Iterable[date] = (),
                 extra_working_days: Iterable[date] = (),
                 imported: Mapping[date, bool] | None = None):
        self.policy_days: dict[date, bool] = dict.fromkeys(extra_rest_days, True)
        self.policy_days.update(dict.fromkeys(extra_working_days, False))
        self._known: dict[date, bool] = {}
        self.use_imported(imported or {})

    @property
    def extra_rest_days(self) -> frozenset[date]:
        return frozenset(d for d, rest in self.policy_days.items() if rest)

    @property
    def extra_working_days(self) -> frozenset[date]:
        return frozenset(d for d, rest in self.policy_days.items() if not rest)

    def use_imported(self, imported: Mapping[date, bool]) -> None:
        """Puts imported days (``True`` = rest) in force; the policy file's days still win."""
        self.overrides = {**imported, **self.policy_days}
        self.operator_years = frozenset(d.year for d in self.overrides)
        self._known = {}
        # Recorded with each deadline (``Deadline.calendar``): the package release and a digest
        # of the operator's days, so an auditor can tell which calendar rolled a date.
        days = ",".join(f"{d.isoformat()}={int(rest)}" for d, rest in sorted(self.overrides.items()))
        self.version = PACKAGE_VERSION + (
            f"+operator:{hashlib.sha256(days.encode()).hexdigest()[:12]}" if days else "")

    def __call__(self, day: date) -> bool:
        """Memoised: the package validates every date against its whole table (slow)."""
        known = self._known.get(day)
        if known is None:
            known = self._known[day] = self._lookup(day)
        return known

    def is_settled(self, year: int) -> bool:
        return year in PACKAGE_YEARS or year in self.operator_years

    def is_provisional(self, day: date) -> bool:
        """Does the answer for ``day`` still wait for the State Council's arrangement?"""
        return not self.is_settled(day.year)

    def uncovered_years(self, through: int) -> list[int]:
        """Unsettled years from the package's first year up to ``through`` (from configuration)."""
        return [y for y in range(PACKAGE_YEARS.start, through + 1) if not self.is_settled(y)]

    def _lookup(self, day: date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year in PACKAGE_YEARS:
            return not chinese_calendar.is_workday(day)
        if not self.is_settled(day.year):
            _warn_once(day.year)
        return day in statutory_days(day.year) or day.weekday() >= 5


def _warn_once(year: int) -> None:
    if year in _warned_years:
        return
    _warned_years.add(year)
    log.warning("calendar_year_not_covered", year=year,
                rule="statutory rule, no 调休 swaps" if derivable(year) else "weekends only",
                action="import the State Council's arrangement: petition calendar import FILE")


def years_not_covered(rest_days: object, today: date) -> list[int]:
    """The unsettled years up to next year, for ``petition info`` and ``/readyz``.

    Next year is the horizon because deadlines run weeks to a few months: by December, cases
    already have deadlines in the next year. A calendar that cannot tell (tests' plain
    weekends) reports none.
    """
    uncovered = getattr(rest_days, "uncovered_years", None)
    return uncovered(today.year + 1) if callable(uncovered) else []
