"""How far a command's business time (``at``) may stray from the server's clock.

A letter can be registered days after it arrived (补登), so ``at`` may lie in the past — but
only back to ``max_backdate_days``: an older date is a typo or an attack, and would make the
supervision ladder issue every rung at once. A caller's clock may run a little ahead of the
server's, so ``at`` may lie up to ``clock_skew_minutes`` in the future, no further. Pure: the
caller passes ``now``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from domain.deadlines import MAX_POLICY_DAYS, reject_unknown_keys
from domain.errors import InvalidCommand

EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class BusinessTimeRules:
    """The ``[business_time]`` section of the policy file."""

    max_backdate_days: int = 90
    clock_skew_minutes: int = 5

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if type(value) is not int or not 0 <= value <= MAX_POLICY_DAYS:
                raise InvalidCommand(
                    f"policy: business_time.{f.name} must be a whole number in "
                    f"0…{MAX_POLICY_DAYS}, got {value!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> BusinessTimeRules:
        reject_unknown_keys(cls, data, "business_time setting")
        return cls(**data)

    def bounds(self, now: datetime) -> tuple[datetime, datetime]:
        """(earliest, latest) business time allowed at ``now``, clamped to the calendar."""
        return shifted(now, -self._backdate), shifted(now, self._skew)

    @cached_property
    def _backdate(self) -> timedelta:
        return timedelta(days=self.max_backdate_days)

    @cached_property
    def _skew(self) -> timedelta:
        return timedelta(minutes=self.clock_skew_minutes)

    def check(self, at: datetime, now: datetime) -> datetime:
        """``at`` if it lies within the bounds at ``now``; a refusal naming them otherwise."""
        if at.tzinfo is None or at.utcoffset() is None:
            raise InvalidCommand("business time 'at' must carry a timezone")
        if now.tzinfo is UTC:  # the system clock's: the bounds need no conversion (every command)
            try:
                if now - self._backdate <= at <= now + self._skew:
                    return at  # between two instants of the calendar, so in it in UTC too
            except OverflowError:
                pass  # a bound beyond the calendar: clamped below
        earliest, latest = self.bounds(now)
        try:
            at.astimezone(UTC)
        except OverflowError:
            raise InvalidCommand(
                f"business time {at.isoformat()} lies outside the calendar in UTC") from None
        if at > latest:
            raise InvalidCommand(
                f"business time {at.isoformat()} is in the future (latest allowed: "
                f"{latest.isoformat()}, the server's clock plus {self.clock_skew_minutes} min)")
        if at < earliest:
            raise InvalidCommand(
                f"business time {at.isoformat()} is more than {self.max_backdate_days} days in "
                f"the past (earliest allowed: {earliest.isoformat()})")
        return at


def shifted(moment: datetime, delta: timedelta) -> datetime:
    """``moment + delta``, stopped at the calendar's first or last instant."""
    try:
        return (moment.astimezone(UTC) + delta).astimezone(moment.tzinfo)
    except OverflowError:
        return EARLIEST if delta < timedelta(0) else LATEST
