"""Indicators per unit subtree and period, from the analysis view's fact rows.

Every figure carries its numerator, its denominator and the case ids behind both, so a unit
judged by a number can see the cases that made it. Each indicator counts one cohort of cases
(docs/analytics.md says which): cases registered in the period, first answered in it, whose
last rating fell in it, first rated in it, or whose review was requested in it. A case is in a
unit's scope when the unit's subtree holds its street, its district or the unit that received
it; satisfaction with attitude and efficiency is credited to the receiving organ, with quality
to the unit whose answer was rated (as Jinan does).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from projections.periods import Period

Row = dict[str, Any]
ONLINE_CHANNELS = frozenset({"online", "email", "app", "ywtb"})  # 网上信访: the non-visit, non-paper ones
CHANNELS = ("letter", "visit", "online", "phone", "email", "app", "hotline", "ywtb")
REPEAT_WINDOW = timedelta(days=365)  # 最多访一次: the same matter again within 12 months
UNSATISFIED = "unsatisfied"


@dataclass
class Figure:
    name: str
    numerator: int
    denominator: int
    value: float | None  # the ratio (or the statistic, for median and p90 days)
    cases: list[str] = field(default_factory=list)  # behind the numerator
    base: list[str] = field(default_factory=list)  # behind the denominator

    def plain(self, with_cases: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "numerator": self.numerator,
                               "denominator": self.denominator, "value": self.value}
        if with_cases:
            out |= {"cases": self.cases, "base": self.base}
        return out


def ratio(name: str, base: Iterable[Row], hit: Callable[[Row], bool]) -> Figure:
    rows = list(base)
    hits = [r["case_id"] for r in rows if hit(r)]
    value = round(len(hits) / len(rows), 6) if rows else None
    return Figure(name, len(hits), len(rows), value, hits, [r["case_id"] for r in rows])


def count(name: str, rows: list[Row]) -> Figure:
    """A plain count: value = numerator = denominator = the number of cases."""
    ids = [r["case_id"] for r in rows]
    return Figure(name, len(ids), len(ids), float(len(ids)), ids, ids)


def quantile(name: str, rows: list[Row], measure: Callable[[Row], float], q: float) -> Figure:
    """Nearest-rank quantile (the smallest value with at least ``q`` of the cases at or below
    it); numerator = cases at or below it, denominator = cases measured."""
    measured = sorted((measure(r), r["case_id"]) for r in rows)
    if not measured:
        return Figure(name, 0, 0, None)
    value = measured[max(1, math.ceil(q * len(measured))) - 1][0]
    within = [cid for v, cid in measured if v <= value]
    return Figure(name, len(within), len(measured), round(value, 6), within,
                  [cid for _, cid in measured])


def in_place(row: Row, units: Collection[str] | None) -> bool:
    return units is None or row["received_by"] in units or row["district"] in units \
        or row["street"] in units


def days_to_answer(row: Row) -> float:
    """Whole days (elapsed, rounded down): the granularity the roll-ups keep exactly."""
    return float((row["first_answered_at"] - row["registered_at"]) // timedelta(days=1))


def satisfied(row: Row, *dimensions: str) -> bool:
    return all(row[f"last_{d}"] != UNSATISFIED for d in dimensions)


DIMENSIONS = ("attitude", "efficiency", "quality")


def repeat_cases(rows: list[Row], history: list[Row]) -> set[str]:
    """Cases with an earlier case of the same petitioner and category within 12 months."""
    by_key: dict[tuple[str, str], list[tuple[datetime, str]]] = defaultdict(list)
    for r in history:
        if r["petitioner_key"]:
            by_key[(r["petitioner_key"], r["category"])].append((r["registered_at"], r["case_id"]))
    out = set()
    for r in rows:
        mine = (r["registered_at"], r["case_id"])
        for earlier in by_key.get((r["petitioner_key"], r["category"]), ()):
            if earlier < mine and r["registered_at"] - earlier[0] <= REPEAT_WINDOW:
                out.add(r["case_id"])
                break
    return out


def compute(rows: list[Row], history: list[Row], period: Period,
            units: Collection[str] | None, as_of: datetime) -> list[Figure]:
    """Every indicator for the cases of ``rows`` in scope; ``history`` holds the cases of the
    same petitioners in the 12 months before (for repeat petitions)."""
    place = [r for r in rows if in_place(r, units)]
    received = [r for r in place if period.contains(r["registered_at"])]
    answered = [r for r in place if period.contains(r["first_answered_at"])]
    rated_all = [r for r in rows if period.contains(r["last_rated_at"])]
    rated = [r for r in rated_all if in_place(r, units)]
    first_rated = [r for r in place if period.contains(r["first_rated_at"])]
    reviewed = [r for r in place if period.contains(r["review_requested_at"])]
    repeats = repeat_cases([r for r in received if r["petitioner_key"]], history)
    return [
        count("received", received),
        *(ratio(f"channel_{c}", received, lambda r, c=c: r["channel"] == c) for c in CHANNELS),
        ratio("online_share", received, lambda r: r["channel"] in ONLINE_CHANNELS),
        ratio("acceptance_on_time",
              [r for r in received if r["decided_at"] or r["acceptance_expires_at"] <= as_of],
              lambda r: bool(r["decided_at"]) and r["decided_at"] < r["acceptance_expires_at"]),
        ratio("group_share", received, lambda r: r["co_petitioners"] > 0),
        ratio("leader_reception_group", [r for r in received if r["co_petitioners"] > 0],
              lambda r: r["leader_received_at"] is not None),
        ratio("leader_reception_share", received, lambda r: r["leader_received_at"] is not None),
        ratio("repeat_share", [r for r in received if r["petitioner_key"]],
              lambda r: r["case_id"] in repeats),
        ratio("escalation_rate", received, lambda r: bool(r["escalated"])),
        ratio("extension_rate", [r for r in received if r["accepted"] == 1],
              lambda r: bool(r["extended"])),
        ratio("reopen_rate", [r for r in received if r["first_answered_at"]],
              lambda r: r["reopen_count"] > 0),
        ratio("answer_on_time", answered,
              lambda r: r["first_answer_expires_at"] is not None
              and r["first_answered_at"] < r["first_answer_expires_at"]),
        quantile("median_days_to_answer", answered, days_to_answer, 0.5),
        quantile("p90_days_to_answer", answered, days_to_answer, 0.9),
        ratio("rating_participation", answered, lambda r: r["first_rated_at"] is not None),
        ratio("satisfaction", rated, lambda r: satisfied(r, *DIMENSIONS)),
        ratio("satisfaction_attitude",
              [r for r in rated_all if units is None or r["received_by"] in units],
              lambda r: satisfied(r, "attitude")),
        ratio("satisfaction_efficiency",
              [r for r in rated_all if units is None or r["received_by"] in units],
              lambda r: satisfied(r, "efficiency")),
        ratio("satisfaction_quality",
              [r for r in rated_all if units is None or r["rated_unit"] in units],
              lambda r: satisfied(r, "quality")),
        ratio("unsatisfied_resolved",
              [r for r in first_rated if UNSATISFIED in
               (r["first_attitude"], r["first_efficiency"], r["first_quality"])],
              lambda r: r["last_rated_at"] > r["first_rated_at"] and satisfied(r, *DIMENSIONS)),
        ratio("review_rate", answered, lambda r: r["review_requested_at"] is not None),
        ratio("review_revised", [r for r in reviewed if r["review_outcome"]],
              lambda r: r["review_outcome"] == "revised"),
        ratio("re_review_rate", [r for r in reviewed if r["review_outcome"]],
              lambda r: r["re_review_requested_at"] is not None),
        ratio("re_review_revised", [r for r in reviewed if r["re_review_outcome"]],
              lambda r: r["re_review_outcome"] == "revised"),
        ratio("complaint_sentiment", [r for r in rated if r["comment_sentiment"]],
              lambda r: r["comment_sentiment"] == "negative"),
        ratio("proxy_share", received, lambda r: bool(r["proxied"])),
        ratio("proxy_contact_kept", [r for r in received if r["proxied"]],
              lambda r: not r["proxy_missed_weeks"]),
        ratio("suggestion_rate", received, lambda r: r["suggestions"] > 0),
        ratio("suggestion_responded", [r for r in received if r["suggestions"]],
              lambda r: r["suggestions_responded"] >= r["suggestions"]),
    ]


INDICATORS = (
    "received", *(f"channel_{c}" for c in CHANNELS), "online_share", "acceptance_on_time",
    "group_share", "leader_reception_group", "leader_reception_share", "repeat_share",
    "escalation_rate", "extension_rate", "reopen_rate",
    "answer_on_time", "median_days_to_answer", "p90_days_to_answer", "rating_participation",
    "satisfaction", "satisfaction_attitude", "satisfaction_efficiency", "satisfaction_quality",
    "unsatisfied_resolved", "review_rate", "review_revised", "re_review_rate",
    "re_review_revised", "complaint_sentiment", "proxy_share", "proxy_contact_kept",
    "suggestion_rate", "suggestion_responded",
)
