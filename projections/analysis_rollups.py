"""Per-period roll-ups of the analysis facts: counts per place × local day, ISO week and month.

Why: an analytics read that scans its period's fact rows costs as many rows as the period has
cases — a month of a 1M-case store holds 100× a 10k one's. A roll-up row instead holds the
counts of every case of one *cohort* (registered, first answered, last rated, first rated
unsatisfied, review requested) that fell in one bucket (a local day, an ISO week or a month in
Asia/Shanghai) at one *place key* — the receiving unit, district and street, plus the category
(registrations) or the unit whose answer was rated (ratings) — so a read costs O(places ×
buckets), whatever the number of cases. A period is read as the fewest whole buckets that
tile it (months, then ISO weeks, then days: ``pieces``), so a month reads one month's rows.

Each counter is what an indicator counts (``indicators.py`` says which cohort): a case adds
its ``contributions`` — pure functions of its fact row — and when its row changes the view
subtracts the old row's contributions and adds the new one's, in the transaction that writes
the row and the tracking position (exactly once; a rebuild from the facts gives the same
counts: ``aggregate``). Days to answer are kept as a histogram of **whole days** (elapsed,
rounded down), so the median and p90 are exact at that granularity: a nearest-rank quantile
commutes with rounding down. The one figure that depends on the moment asked, acceptance on
time (an *undecided* case counts as late once its deadline has passed at ``as_of``), reads
the period's undecided cases from the facts through a partial index — the open backlog, not
the history.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from projections.indicators import (
    CHANNELS,
    DIMENSIONS,
    ONLINE_CHANNELS,
    REPEAT_WINDOW,
    UNSATISFIED,
    Figure,
    Row,
    in_place,
    satisfied,
)
from projections.periods import SHANGHAI, Period

GRAINS = ("d", "w", "m")  # local day, ISO week (its Monday), month (its first day)
KEY = ("cohort", "grain", "bucket", "received_by", "district", "street", "extra")
DAY_KEY = ("grain", "bucket", "received_by", "district", "street", "days")

COUNTERS: dict[str, tuple[str, ...]] = {
    # registered in the bucket; extra = category
    "received": ("n", *(f"ch_{c}" for c in CHANNELS), "decided", "decided_on_time", "grp",
                 "grp_leader", "leader", "keyed", "repeated", "escalated", "accepted",
                 "accepted_extended", "answered_ever", "answered_reopened", "proxied",
                 "proxied_kept", "suggested", "suggested_responded", "located", "lat_milli",
                 "lon_milli"),
    # first answered in the bucket
    "answered": ("n", "on_time", "rated_ever", "reviewed_ever"),
    # last rated in the bucket; extra = the unit whose answer the rating judged
    "rated": ("n", "sat_all", "sat_attitude", "sat_efficiency", "sat_quality", "commented",
              "negative"),
    # first rated in the bucket, unsatisfied on some dimension
    "first_unsat": ("n", "resolved"),
    # review (复查) requested in the bucket
    "reviewed": ("n", "decided", "revised", "re_requested", "re_decided", "re_revised"),
}
ALL_COUNTERS: tuple[str, ...] = tuple(dict.fromkeys(c for cs in COUNTERS.values() for c in cs))

Contribution = tuple[tuple[Any, ...], dict[str, int]]  # (KEY values, counters)
DayContribution = tuple[Any, ...]  # DAY_KEY values


def local_day(moment: datetime) -> date:
    """The day in Asia/Shanghai; the calendar's last day for the hours that would be year 10000
    there (after 9999-12-31 15:54 UTC) rather than an error that stalls the view."""
    try:
        return moment.astimezone(SHANGHAI).date()
    except OverflowError:
        return date.max  # Shanghai is ahead of UTC: only the end can overflow


@lru_cache(maxsize=4096)  # a batch's cases fall on few days
def buckets(day: date) -> tuple[tuple[str, str], ...]:
    """The (grain, bucket) of each grain a local day lies in."""
    return (("d", day.isoformat()), ("w", (day - timedelta(days=day.weekday())).isoformat()),
            ("m", day.replace(day=1).isoformat()))


def pieces(period: Period) -> list[tuple[str, str]]:
    """The fewest whole buckets that tile the period: whole months, else ISO weeks, else days."""
    out, day = [], period.first
    while day <= period.last:
        month_end = (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        if day.day == 1 and month_end <= period.last:
            out.append(("m", day.isoformat()))
            day = month_end + timedelta(days=1)
        elif day.weekday() == 0 and day + timedelta(days=6) <= period.last:
            out.append(("w", day.isoformat()))
            day += timedelta(days=7)
        else:
            out.append(("d", day.isoformat()))
            day += timedelta(days=1)
    return out


def whole_days(row: Row) -> int:
    """Days from registration to the first answer, elapsed and rounded down."""
    return (row["first_answered_at"] - row["registered_at"]) // timedelta(days=1)


def _place(row: Row) -> tuple[str, str, str]:
    return row["received_by"], row["district"], row["street"] or ""


def _at(cohort: str, moment: datetime, place: tuple[str, str, str], extra: str,
        counts: dict[str, int]) -> list[Contribution]:
    return [((cohort, grain, bucket, *place, extra), counts)
            for grain, bucket in buckets(local_day(moment))]


def contributions(row: Row) -> tuple[list[Contribution], list[DayContribution]]:
    """What one case's fact row adds to the roll-ups (and to the days-to-answer histogram)."""
    place = _place(row)
    out: list[Contribution] = []
    decided = row["decided_at"] is not None
    group = row["co_petitioners"] > 0
    leader = row["leader_received_at"] is not None
    accepted = row["accepted"] == 1
    answered = row["first_answered_at"] is not None
    located = row["lat"] is not None and row["lon"] is not None
    received = {
        "n": 1, f"ch_{row['channel']}": 1, "decided": int(decided),
        "decided_on_time": int(decided and row["decided_at"] < row["acceptance_expires_at"]),
        "grp": int(group), "grp_leader": int(group and leader), "leader": int(leader),
        "keyed": int(bool(row["petitioner_key"])),
        "repeated": int(bool(row["petitioner_key"]) and bool(row.get("repeated"))),
        "escalated": int(bool(row["escalated"])), "accepted": int(accepted),
        "accepted_extended": int(accepted and bool(row["extended"])),
        "answered_ever": int(answered),
        "answered_reopened": int(answered and row["reopen_count"] > 0),
        "proxied": int(bool(row["proxied"])),
        "proxied_kept": int(bool(row["proxied"]) and not row["proxy_missed_weeks"]),
        "suggested": int(row["suggestions"] > 0),
        "suggested_responded": int(row["suggestions"] > 0
                                   and row["suggestions_responded"] >= row["suggestions"]),
        "located": int(located),
        "lat_milli": round(row["lat"] * 1000) if located else 0,
        "lon_milli": round(row["lon"] * 1000) if located else 0,
    }
    out += _at("received", row["registered_at"], place, row["category"], received)
    days: list[DayContribution] = []
    if answered:
        on_time = row["first_answer_expires_at"] is not None \
            and row["first_answered_at"] < row["first_answer_expires_at"]
        out += _at("answered", row["first_answered_at"], place, "", {
            "n": 1, "on_time": int(on_time), "rated_ever": int(row["first_rated_at"] is not None),
            "reviewed_ever": int(row["review_requested_at"] is not None)})
        n = whole_days(row)
        days = [(grain, bucket, *place, n)
                for grain, bucket in buckets(local_day(row["first_answered_at"]))]
    if row["last_rated_at"] is not None:
        out += _at("rated", row["last_rated_at"], place, row["rated_unit"] or "", {
            "n": 1, "sat_all": int(satisfied(row, *DIMENSIONS)),
            "sat_attitude": int(satisfied(row, "attitude")),
            "sat_efficiency": int(satisfied(row, "efficiency")),
            "sat_quality": int(satisfied(row, "quality")),
            "commented": int(bool(row["comment_sentiment"])),
            "negative": int(row["comment_sentiment"] == "negative")})
    if row["first_rated_at"] is not None and UNSATISFIED in (
            row["first_attitude"], row["first_efficiency"], row["first_quality"]):
        out += _at("first_unsat", row["first_rated_at"], place, "", {
            "n": 1, "resolved": int(row["last_rated_at"] > row["first_rated_at"]
                                    and satisfied(row, *DIMENSIONS))})
    if row["review_requested_at"] is not None:
        reviewed = bool(row["review_outcome"])
        out += _at("reviewed", row["review_requested_at"], place, "", {
            "n": 1, "decided": int(reviewed),
            "revised": int(row["review_outcome"] == "revised"),
            "re_requested": int(reviewed and row["re_review_requested_at"] is not None),
            "re_decided": int(bool(row["re_review_outcome"])),
            "re_revised": int(row["re_review_outcome"] == "revised")})
    return out, days


class Deltas:
    """Roll-up changes summed over a batch: each row's new contributions minus its old ones."""

    def __init__(self) -> None:
        self.counts: dict[tuple[Any, ...], dict[str, int]] = {}
        self.days: dict[tuple[Any, ...], int] = {}

    def add(self, row: Row | None, sign: int) -> None:
        if row is None:
            return
        counted, days = contributions(row)
        all_counts, all_days = self.counts, self.days
        for key, counts in counted:
            mine = all_counts.get(key)
            if mine is None:  # a key is written even when only its row moved away
                mine = all_counts[key] = {"n": 0}
            for name, value in counts.items():
                if value:
                    mine[name] = mine.get(name, 0) + sign * value
        for key in days:
            all_days[key] = all_days.get(key, 0) + sign

    def repeated(self, row: Row, change: int) -> None:
        """A case's repeat flag moved by ``change`` (its registration buckets' counter)."""
        for grain, bucket in buckets(local_day(row["registered_at"])):
            mine = self.counts.setdefault(
                ("received", grain, bucket, *_place(row), row["category"]), {"n": 0})
            mine["repeated"] = mine.get("repeated", 0) + change

    def rows(self) -> list[tuple[tuple[Any, ...], list[int]]]:
        """(key, counters in ``ALL_COUNTERS`` order — 0 for another cohort's), leaving out keys
        that net zero: every cohort's rows go to the table in one statement."""
        return [(key, [counts.get(c, 0) for c in ALL_COUNTERS])
                for key, counts in self.counts.items() if any(counts.values())]


def aggregate(rows: Iterable[Row], deltas: Deltas | None = None) -> Deltas:
    """The roll-ups of fact rows from nothing (the bulk path: ``AnalysisView.rebuild_rollups``)."""
    deltas = deltas or Deltas()
    for row in rows:
        deltas.add(row, 1)
    return deltas


def _ratio(name: str, numerator: int, denominator: int) -> Figure:
    value = round(numerator / denominator, 6) if denominator else None
    return Figure(name, numerator, denominator, value)


def _quantile(name: str, histogram: Counter[int], q: float) -> Figure:
    total = sum(histogram.values())
    if not total:
        return Figure(name, 0, 0, None)
    rank, seen = max(1, math.ceil(q * total)), 0
    for days in sorted(histogram):
        seen += histogram[days]
        if seen >= rank:
            return Figure(name, seen, total, float(days))
    raise AssertionError("unreachable: the ranks add up to the total")


def figures(rows: list[Row], days: list[Row], late_undecided: int,
            units: Collection[str] | None) -> list[Figure]:
    """The indicators of ``indicators.compute`` from roll-up rows (no case lists: those come
    from the facts, ``with_cases``). ``late_undecided``: the period's undecided cases in scope
    whose acceptance deadline had passed at the moment asked."""
    sums: dict[str, Counter[str]] = defaultdict(Counter)
    credited: Counter[str] = Counter()  # rated, attitude / efficiency: the receiving organ
    quality: Counter[str] = Counter()  # rated, quality: the answering unit
    for r in rows:
        cohort = r["cohort"]
        if cohort == "rated":
            if units is None or r["received_by"] in units:
                credited.update({"n": r["n"], "attitude": r["sat_attitude"],
                                 "efficiency": r["sat_efficiency"]})
            if units is None or r["extra"] in units:
                quality.update({"n": r["n"], "quality": r["sat_quality"]})
        if in_place(r, units):
            mine = sums[cohort]
            for c in COUNTERS[cohort]:
                mine[c] += r[c]
    histogram: Counter[int] = Counter()
    for d in days:
        if in_place(d, units):
            histogram[d["days"]] += d["n"]
    rec, ans, rated = sums["received"], sums["answered"], sums["rated"]
    unsat, rev = sums["first_unsat"], sums["reviewed"]
    received = rec["n"]
    return [
        Figure("received", received, received, float(received)),
        *(_ratio(f"channel_{c}", rec[f"ch_{c}"], received) for c in CHANNELS),
        _ratio("online_share", sum(rec[f"ch_{c}"] for c in ONLINE_CHANNELS), received),
        _ratio("acceptance_on_time", rec["decided_on_time"], rec["decided"] + late_undecided),
        _ratio("group_share", rec["grp"], received),
        _ratio("leader_reception_group", rec["grp_leader"], rec["grp"]),
        _ratio("leader_reception_share", rec["leader"], received),
        _ratio("repeat_share", rec["repeated"], rec["keyed"]),
        _ratio("escalation_rate", rec["escalated"], received),
        _ratio("extension_rate", rec["accepted_extended"], rec["accepted"]),
        _ratio("reopen_rate", rec["answered_reopened"], rec["answered_ever"]),
        _ratio("answer_on_time", ans["on_time"], ans["n"]),
        _quantile("median_days_to_answer", histogram, 0.5),
        _quantile("p90_days_to_answer", histogram, 0.9),
        _ratio("rating_participation", ans["rated_ever"], ans["n"]),
        _ratio("satisfaction", rated["sat_all"], rated["n"]),
        _ratio("satisfaction_attitude", credited["attitude"], credited["n"]),
        _ratio("satisfaction_efficiency", credited["efficiency"], credited["n"]),
        _ratio("satisfaction_quality", quality["quality"], quality["n"]),
        _ratio("unsatisfied_resolved", unsat["resolved"], unsat["n"]),
        _ratio("review_rate", ans["reviewed_ever"], ans["n"]),
        _ratio("review_revised", rev["revised"], rev["decided"]),
        _ratio("re_review_rate", rev["re_requested"], rev["decided"]),
        _ratio("re_review_revised", rev["re_revised"], rev["re_decided"]),
        _ratio("complaint_sentiment", rated["negative"], rated["commented"]),
        _ratio("proxy_share", rec["proxied"], received),
        _ratio("proxy_contact_kept", rec["proxied_kept"], rec["proxied"]),
        _ratio("suggestion_rate", rec["suggested"], received),
        _ratio("suggestion_responded", rec["suggested_responded"], rec["suggested"]),
    ]


def late_undecided(undecided: list[Row], units: Collection[str] | None, as_of: datetime) -> int:
    return sum(1 for r in undecided if in_place(r, units) and r["acceptance_expires_at"] <= as_of)


def repeats(cases: Iterable[Row]) -> dict[str, int]:
    """Which cases are repeat petitions (最多访一次): another case of the same petitioner key
    and category registered before it (ties by case id) within ``REPEAT_WINDOW``. A pure
    function of the group of one petitioner's cases, recomputed when the group grows."""
    groups: dict[tuple[str, str], list[tuple[datetime, str]]] = defaultdict(list)
    out: dict[str, int] = {}
    for r in cases:
        if r["petitioner_key"]:
            groups[(r["petitioner_key"], r["category"])].append((r["registered_at"], r["case_id"]))
        else:
            out[r["case_id"]] = 0
    for members in groups.values():
        members.sort()
        for i, (at, case_id) in enumerate(members):
            out[case_id] = int(i > 0 and at - members[i - 1][0] <= REPEAT_WINDOW)
    return out
