"""Hotspots (热点): cases by street × category in a period, against the trailing periods and the
same period last year, with rising ones flagged by a stated rule.

The rule: a street × category is *rising* when it has at least ``MIN_CASES`` cases in the period
and the chance of at least that many under a Poisson law whose mean is the trailing mean of the
``TRAILING`` previous periods (at least ``FLOOR``, so a matter never seen before needs three
cases, not one) is below ``ALPHA``. Poisson because counts of independent arrivals are; the
trailing mean because seasonality over a few weeks is small next to a burst, and the same
period last year is shown beside it for the seasonal reading a person makes.

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
from projections.periods import Period

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


def _counts(view: AnalysisView, period: Period, units: Collection[str] | None) -> Counter:
    return Counter((_place(r), r["category"]) for r in _received(view, period, units))


def _received(view: AnalysisView, period: Period, units: Collection[str] | None) -> list[Row]:
    return [r for r in view.facts_between(period.start, period.end)
            if period.contains(r["registered_at"]) and in_place(r, units)]


def hotspots(org: OrgChart, view: AnalysisView, period: Period,
             unit: str | None) -> dict[str, Any]:
    """Every street × category with cases in the period, most cases first."""
    units = set(org.subtree(unit)) if unit else None
    rows = _received(view, period, units)
    groups: dict[tuple[str, str], list[Row]] = defaultdict(list)
    for r in rows:
        groups[(_place(r), r["category"])].append(r)
    trailing, before = [], period
    for _ in range(TRAILING):
        before = before.previous()
        trailing.append(_counts(view, before, units))
    last_year = _counts(view, period.year_before(), units)
    items = []
    for (place, category), cases in groups.items():
        mean = sum(c[(place, category)] for c in trailing) / TRAILING
        p = poisson_tail(len(cases), max(mean, FLOOR))
        items.append({
            "place": place, "place_name": org.get(place).name if place in org else place,
            "category": category, "count": len(cases),
            "previous": trailing[0][(place, category)], "trailing_mean": round(mean, 3),
            "same_period_last_year": last_year[(place, category)],
            "p_value": round(p, 6), "rising": len(cases) >= MIN_CASES and p < ALPHA,
            "point": _point(cases), "cases": sorted(r["case_id"] for r in cases)})
    items.sort(key=lambda i: (-i["count"], i["place"], i["category"]))
    return {"period": period.label, "unit": unit, "from": period.start.isoformat(),
            "to": period.end.isoformat(), "rule": RULE, "items": items}


RULE = (f"rising: at least {MIN_CASES} cases and P(X ≥ count) < {ALPHA} for X ~ Poisson(max("
        f"mean of the {TRAILING} previous periods, {FLOOR}))")


def _point(cases: list[Row]) -> list[float] | None:
    points = [(r["lon"], r["lat"]) for r in cases if r.get("lat") is not None
              and r.get("lon") is not None]
    if not points:
        return None
    return [round(sum(p[0] for p in points) / len(points), 3),
            round(sum(p[1] for p in points) / len(points), 3)]


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
