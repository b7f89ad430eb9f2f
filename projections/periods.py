"""Reporting periods: a day, ISO week, month, quarter, year or any range of days, in local time.

A period is a half-open range of instants [start, end) from local midnight to local midnight
in the policy's zone (Asia/Shanghai), so a case registered at 23:59 on 31 October local time
counts in October although it is 15:59 UTC. Labels: ``2026``, ``2026-Q4``, ``2026-10``,
``2026-W40``, ``2026-10-05``, or ``2026-10-01..2026-10-15`` (both days included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.errors import InvalidCommand

SHANGHAI = ZoneInfo("Asia/Shanghai")
MAX_RANGE_DAYS = 3 * 366 + 1


@dataclass(frozen=True)
class Period:
    kind: str  # day | week | month | quarter | year | range
    first: date  # first local day
    last: date  # last local day (included)
    zone: ZoneInfo = SHANGHAI

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), tzinfo=self.zone)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), tzinfo=self.zone)

    @property
    def label(self) -> str:
        f = self.first
        if self.kind == "year":
            return f"{f.year}"
        if self.kind == "quarter":
            return f"{f.year}-Q{(f.month - 1) // 3 + 1}"
        if self.kind == "month":
            return f"{f.year}-{f.month:02d}"
        if self.kind == "week":
            year, week, _ = f.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind == "day":
            return f.isoformat()
        return f"{f.isoformat()}..{self.last.isoformat()}"

    def previous(self) -> Period:
        """The period of the same kind right before (a range: the same number of days)."""
        if self.kind in ("month", "quarter", "year"):
            months = {"month": 1, "quarter": 3, "year": 12}[self.kind]
            first = _add_months(self.first, -months)
            return Period(self.kind, first, _add_months(first, months) - timedelta(days=1),
                          self.zone)
        days = (self.last - self.first).days + 1
        return Period(self.kind, self.first - timedelta(days=days),
                      self.first - timedelta(days=1), self.zone)

    def year_before(self) -> Period:
        """The same period one year earlier (a week: the same ISO week number)."""
        if self.kind == "week":
            year, week, _ = self.first.isocalendar()
            return parse_period(f"{year - 1}-W{min(week, _weeks_in(year - 1)):02d}", self.zone)
        first = _add_months(self.first, -12)
        if self.kind in ("month", "quarter", "year"):
            months = {"month": 1, "quarter": 3, "year": 12}[self.kind]
            return Period(self.kind, first, _add_months(first, months) - timedelta(days=1),
                          self.zone)
        return Period(self.kind, first, _add_months(self.last, -12), self.zone)

    def contains(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= moment < self.end


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    try:
        return day.replace(year=year, month=month + 1)
    except ValueError:  # 29 February in a common year, 31st of a short month
        return date(year, month + 1, 28)


def _weeks_in(year: int) -> int:
    return date(year, 12, 28).isocalendar()[1]


_PATTERNS = (
    (re.compile(r"^(\d{4})$"), "year"),
    (re.compile(r"^(\d{4})-Q([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})-(\d{2})$"), "month"),
    (re.compile(r"^(\d{4})-W(\d{2})$"), "week"),
    (re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), "day"),
)


def parse_period(label: str, zone: ZoneInfo = SHANGHAI) -> Period:
    """A period from its label; ``InvalidCommand`` naming the problem for anything else."""
    text = (label or "").strip()
    if ".." in text:
        return _range(text, zone)
    for pattern, kind in _PATTERNS:
        found = pattern.match(text)
        if found:
            try:
                return _build(kind, [int(g) for g in found.groups()], zone)
            except ValueError:
                break
    raise InvalidCommand(f"bad period '{label[:40]}': use 2026, 2026-Q4, 2026-10, 2026-W40, "
                         "2026-10-05 or 2026-10-01..2026-10-15")


def _build(kind: str, parts: list[int], zone: ZoneInfo) -> Period:
    year = parts[0]
    if not 1970 <= year <= 2999:
        raise ValueError(year)
    if kind == "year":
        return Period(kind, date(year, 1, 1), date(year, 12, 31), zone)
    if kind == "quarter":
        first = date(year, 3 * parts[1] - 2, 1)
        return Period(kind, first, _add_months(first, 3) - timedelta(days=1), zone)
    if kind == "month":
        first = date(year, parts[1], 1)
        return Period(kind, first, _add_months(first, 1) - timedelta(days=1), zone)
    if kind == "week":
        first = date.fromisocalendar(year, parts[1], 1)
        return Period(kind, first, first + timedelta(days=6), zone)
    day = date(year, parts[1], parts[2])
    return Period(kind, day, day, zone)


def _range(text: str, zone: ZoneInfo) -> Period:
    head, _, tail = text.partition("..")
    try:
        first, last = date.fromisoformat(head.strip()), date.fromisoformat(tail.strip())
    except ValueError:
        raise InvalidCommand(f"bad range '{text[:40]}': use 2026-10-01..2026-10-15") from None
    if last < first:
        raise InvalidCommand(f"bad range '{text[:40]}': it ends before it starts")
    if (last - first).days >= MAX_RANGE_DAYS or not 1970 <= first.year <= last.year <= 2999:
        raise InvalidCommand(f"bad range '{text[:40]}': at most {MAX_RANGE_DAYS} days, "
                             "years 1970 to 2999")
    return Period("range", first, last, zone)
