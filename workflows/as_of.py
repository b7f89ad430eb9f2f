"""A case as it stood at an instant: the aggregate rebuilt from the events up to then.

``recorded`` (the default) cuts at the library's ``timestamp`` — what the system knew at that
instant, the auditor's question. ``business`` cuts at each event's ``at`` — what had happened
in the world by then, as far as was later recorded.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from domain.petition import Petition
from workflows.application import PetitionApplication
from workflows.errors import CaseNotFound

Cut = Literal["recorded", "business"]

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC)
"""The instants a query may name. Far enough apart for any real question, and far enough from
the calendar's ends (years 1 and 9999) that converting between time zones or adding a year of
days to one never overflows."""


def check_instant(moment: datetime) -> datetime:
    """``moment`` if it carries a timezone and lies in [EARLIEST, LATEST]; ValueError if not."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("the instant must carry a timezone, e.g. 2026-03-20T09:00+08:00")
    try:
        in_utc = moment.astimezone(UTC)
    except (OverflowError, ValueError):
        in_utc = None
    if in_utc is None or not EARLIEST <= in_utc <= LATEST:
        raise ValueError(f"the instant must lie between {EARLIEST:%Y-%m-%d} and "
                         f"{LATEST:%Y-%m-%d} (UTC)")
    return moment


RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d(:\d\d(\.\d{1,6})?)?([Zz]|[+-]\d\d:\d\d)")
"""RFC 3339 date-time (seconds may be left out, as in 2026-03-20T09:00+08:00)."""


def parse_instant(text: str) -> datetime:
    """An RFC 3339 instant with a timezone within the bounds above (ValueError if not): the one
    parser behind every ``as_of``, time filter and cursor, on the command line and over HTTP."""
    if not isinstance(text, str) or not RFC3339.fullmatch(text):
        raise ValueError("not an RFC 3339 instant with a timezone, e.g. 2026-03-20T09:00+08:00")
    try:
        moment = datetime.fromisoformat(text.upper().replace(" ", "T"))
    except (TypeError, ValueError):
        raise ValueError(f"not an ISO 8601 instant: {text[:40]!r}") from None
    return check_instant(moment)


def events_as_of(app: PetitionApplication, case_id: UUID, instant: datetime,
                 *, cut: Cut = "recorded") -> list[Any]:
    check_instant(instant)
    events = app.events_of(case_id)
    return [e for e in events if (e.timestamp if cut == "recorded" else e.at) <= instant]


def petition_as_of(app: PetitionApplication, case_id: UUID, instant: datetime,
                   *, cut: Cut = "recorded") -> Petition:
    """The Petition after its last event at or before ``instant`` (CaseNotFound if none)."""
    petition: Any = None
    for event in events_as_of(app, case_id, instant, cut=cut):
        petition = event.mutate(petition)
    if not isinstance(petition, Petition):
        raise CaseNotFound(case_id)
    return petition
