"""Statutory holidays derived from the rule itself (全国年节及纪念日放假办法, 2024 amendment).

State Council Decree No. 795 (国务院令第795号) amended the rule with effect from 2025: New
Year's Day 1 day; Spring Festival 4 days (New Year's Eve 除夕 and the 1st–3rd of the first lunar
month); Qingming 1 day (the 清明 solar term); Labour Day 2 days (1–2 May); Dragon Boat 1 day (5th
of the 5th lunar month); Mid-Autumn 1 day (15th of the 8th lunar month); National Day 3 days
(1–3 October). Article 6: a holiday for all citizens that falls on a Saturday or Sunday is made up
on a working day (补假). The yearly 调休 swaps (bridging days off and make-up working weekends)
are decided by the State Council each year and cannot be derived: operators import them.

Lunar dates and solar terms come from ``lunar_python`` (see docs/dependencies.md).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from lunar_python import Lunar

FIRST_YEAR = 2025  # the amended rule is in force from 1 January 2025
LAST_YEAR = 2100  # beyond this the lunar tables are extrapolation: no derivation

NEW_YEAR = "New Year's Day"  # 元旦 (the package's names, so the two can be compared)
SPRING_FESTIVAL = "Spring Festival"  # 春节
QINGMING = "Tomb-sweeping Day"  # 清明节
LABOUR_DAY = "Labour Day"  # 劳动节
DRAGON_BOAT = "Dragon Boat Festival"  # 端午节
MID_AUTUMN = "Mid-autumn Festival"  # 中秋节
NATIONAL_DAY = "National Day"  # 国庆节


def derivable(year: int) -> bool:
    return FIRST_YEAR <= year <= LAST_YEAR


def _lunar(year: int, month: int, day: int) -> date:
    solar = Lunar.fromYmd(year, month, day).getSolar()
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def _qingming(year: int) -> date:
    solar = Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"]
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


def festival_days(year: int) -> list[tuple[date, str]]:
    """The statutory days off of ``year`` by the rule, one entry per (day, festival)."""
    new_year = _lunar(year, 1, 1)
    return [
        (date(year, 1, 1), NEW_YEAR),
        *((new_year + timedelta(days=n), SPRING_FESTIVAL) for n in (-1, 0, 1, 2)),
        (_qingming(year), QINGMING),
        (date(year, 5, 1), LABOUR_DAY),
        (date(year, 5, 2), LABOUR_DAY),
        (_lunar(year, 5, 5), DRAGON_BOAT),
        (_lunar(year, 8, 15), MID_AUTUMN),
        *((date(year, 10, d), NATIONAL_DAY) for d in (1, 2, 3)),
    ]


@lru_cache(maxsize=64)
def statutory_days(year: int) -> dict[date, str]:
    """Every rest day the rule itself gives in ``year``: festival days and their 补假 days.

    A festival day on a weekend, or on a day another festival already holds (Mid-Autumn on
    1 October), is made up on the next weekday that is not already a day off. Ordinary weekends
    are not listed: every calendar rests on them anyway.
    """
    if not derivable(year):
        return {}
    days: dict[date, str] = {}
    make_up: list[tuple[date, str]] = []
    for day, name in festival_days(year):
        if day.weekday() >= 5 or day in days:
            make_up.append((day, name))
        days.setdefault(day, name)
    for day, name in make_up:
        free = day + timedelta(days=1)
        while free.weekday() >= 5 or free in days:
            free += timedelta(days=1)
        days[free] = name
    return days
