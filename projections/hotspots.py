"""Hotspots (热点): cases by street × category in a period, against the trailing periods and the
same period last year, with rising ones flagged by a stated rule.

The rule: a street × category is *rising* when it has at least ``MIN_CASES`` cases in the period
and the chance of at least that many under a Poisson law whose mean is the trailing mean of the
``TRAILING`` previous periods (at least ``FLOOR``, so a matter never seen before needs three
cases, not one) is below ``ALPHA``. Poisson because counts of independent arrivals are; the
trailing mean because seasonality over a few weeks is small next to a burst, and the same
period last year is shown beside it for the seasonal reading a person makes.

Counts come from the roll-ups (``analysis_rollups.py``), so a read costs O(places × periods)
rows; the case ids behind a hotspot (``with_cases``) from the period's fact rows.

Map points: the mean of the cases' own coordinates where the registrations carried them
(rounded to 3 decimals, about 100 m); the organisation chart has no coordinates of streets, so
a hotspot whose cases had none has a ``null`` geometry and says so.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection
from typing import Any

from domain.units import OrgChart
from projections.analysis_view import AnalysisView
from projections.indicators import Row, in_place
from projections.periods import SHANGHAI, Period

TRAILING = 4
MIN_CASES = 3
FLOOR = 0.5
ALPHA = 0.05


def poisson_tail(count: int, mean: float) -> float:
    """P(X ≥ count) for X ~ Poisson(mean)."""
    if count <= 0:
        return 1.0
    term, below = math.exp(-mean), 0.0
    for k in range(count):
        below += term
        term *= mean / (k + 1)
    return max(0.0, 1.0 - below)


def _place(row: Row) -> str:
    return row["street"] or row["district"]


Tally = dict[tuple[str, str], Counter[str]]  # (place, category) → n, located, lat/lon sums


def _tally(view: AnalysisView, period: Period, units: Collection[str] | None) -> Tally:
    """Cases received in the period by place × category, from the roll-ups (O(places ×
    buckets) rows, whatever the number of cases); from the fact rows if the period is not in
    the roll-ups' zone."""
    out: Tally = defaultdict(Counter)
    if period.zone != SHANGHAI:
        for r in _received(view, period, units):
            located = r["lat"] is not None and r["lon"] is not None
            out[(_place(r), r["category"])].update({
                "n": 1, "located": int(located),
                "lat_milli": round(r["lat"] * 1000) if located else 0,
                "lon_milli": round(r["lon"] * 1000) if located else 0})
        return out
    for r in view.rollups(period, cohort="received")[0]:
        if in_place(r, units):
            out[(_place(r), r["extra"])].update(
                {k: r[k] for k in ("n", "located", "lat_milli", "lon_milli")})
    return out


def _received(view: AnalysisView, period: Period, units: Collection[str] | None) -> list[Row]:
    return [r for r in view.facts_between(period.start, period.end)
            if period.contains(r["registered_at"]) and in_place(r, units)]


def hotspots(org: OrgChart, view: AnalysisView, period: Period,
             unit: str | None, *, with_cases: bool = False) -> dict[str, Any]:
    """Every street × category with cases in the period, most cases first; with the case ids
    behind each (read from the period's fact rows) when asked."""
    units = set(org.subtree(unit)) if unit else None
    groups = {k: v for k, v in _tally(view, period, units).items() if v["n"]}
    trailing, before = [], period
    for _ in range(TRAILING):
        before = before.previous()
        trailing.append(_counts(view, before, units))
    last_year = _counts(view, period.year_before(), units)
    cases: dict[tuple[str, str], list[str]] = defaultdict(list)
    if with_cases:
        for r in _received(view, period, units):
            cases[(_place(r), r["category"])].append(r["case_id"])
    items = []
    for (place, category), tally in groups.items():
        count = tally["n"]
        mean = sum(c[(place, category)] for c in trailing) / TRAILING
        p = poisson_tail(count, max(mean, FLOOR))
        item = {
            "place": place, "place_name": org.name_of(place),
            "category": category, "count": count,
            "previous": trailing[0][(place, category)], "trailing_mean": round(mean, 3),
            "same_period_last_year": last_year[(place, category)],
            "p_value": round(p, 6), "rising": count >= MIN_CASES and p < ALPHA,
            "point": _point(tally)}
        if with_cases:
            item["cases"] = sorted(cases[(place, category)])
        items.append(item)
    items.sort(key=lambda i: (-i["count"], i["place"], i["category"]))
    return {"period": period.label, "unit": unit, "from": period.start.isoformat(),
            "to": period.end.isoformat(), "rule": RULE, "items": items}


def _counts(view: AnalysisView, period: Period, units: Collection[str] | None) -> Counter:
    return Counter({k: v["n"] for k, v in _tally(view, period, units).items()})


RULE = (f"rising: at least {MIN_CASES} cases and P(X ≥ count) < {ALPHA} for X ~ Poisson(max("
        f"mean of the {TRAILING} previous periods, {FLOOR}))")


def _point(tally: Counter[str]) -> list[float] | None:
    """The mean of the cases' points (kept in thousandths of a degree, summed as integers so
    every store and every order of summing gives the same mean)."""
    if not tally["located"]:
        return None
    return [round(tally["lon_milli"] / tally["located"] / 1000, 3),
            round(tally["lat_milli"] / tally["located"] / 1000, 3)]


def geojson(found: dict[str, Any]) -> dict[str, Any]:
    """The hotspots as a GeoJSON FeatureCollection (RFC 7946; coordinates are [lon, lat])."""
    features = [{
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": i["point"]} if i["point"] else None,
        "properties": {k: v for k, v in i.items() if k not in ("point", "cases")}
        | {"located": "cases' coordinates" if i["point"] else "none: no coordinates"},
    } for i in found["items"]]
    return {"type": "FeatureCollection", "features": features,
            "properties": {k: found[k] for k in ("period", "unit", "rule")}}
