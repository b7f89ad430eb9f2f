"""Clusters (聚集): petitions about the same place and the same matter in a period.

Two petitions are about the *same matter* when they share a category. They are about the *same
place* when both carry coordinates no more than ``radius_m`` apart (great-circle distance,
haversine), and a cluster is a connected group of such pairs — DBSCAN with one point per core,
so a cluster never depends on the order of the cases and adding a case can only merge
clusters. Petitions without coordinates are about the same place when they name the same
street. A cluster has at least ``MIN_CASES`` petitions: one case is not a cluster, and a single
case's point could be someone's door.

Pairs are found through a grid of cells at least ``radius_m`` wide in both directions (the
longitude cells widen with the data's highest latitude), so only the nine cells around a case
are searched; a brute-force recomputation checks it (tests/integration/test_place_clusters.py).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from domain.units import OrgChart
from projections.analysis_view import AnalysisView
from projections.indicators import Row, in_place
from projections.periods import Period

RADIUS_M = 300.0
MIN_RADIUS_M, MAX_RADIUS_M = 50.0, 5000.0
MIN_CASES = 2
EARTH_M = 6_371_008.8  # mean radius (IUGG)
Point = tuple[float, float]  # (lat, lon) in degrees


def haversine_m(a: Point, b: Point) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (math.sin((lat2 - lat1) / 2) ** 2
         + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_M * math.asin(min(1.0, math.sqrt(h)))


def linked(points: Sequence[Point], radius_m: float) -> list[list[int]]:
    """Indices of ``points`` grouped into connected components of "within ``radius_m``"."""
    parent = list(range(len(points)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    cells = _Grid(points, radius_m)
    for i, j in cells.candidate_pairs():
        if haversine_m(points[i], points[j]) <= radius_m:
            parent[root(i)] = root(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(points)):
        groups[root(i)].append(i)
    return sorted(groups.values())


class _Grid:
    """Cells no narrower than the radius: two points within it lie in neighbouring cells.

    Latitude: a great-circle distance d is at least the latitude difference, so cells of
    d/R radians suffice. Longitude: hav(d/R) ≥ cos φ1 cos φ2 hav(Δλ), so with c the cosine of
    the highest |latitude| present, Δλ ≤ 2 asin(√hav(d/R) / c); cells wrap at ±180°.
    """

    def __init__(self, points: Sequence[Point], radius_m: float):
        self.points = points
        angle = radius_m / EARTH_M
        self.lat_step = math.degrees(angle)
        c = min((math.cos(math.radians(lat)) for lat, _ in points), default=1.0)
        ratio = math.sin(angle / 2) / c if c > 0 else 2.0
        lon_width = math.degrees(2 * math.asin(ratio)) if ratio < 1 else 360.0
        self.columns = max(1, math.floor(360 / lon_width)) if lon_width < 120 else 1
        self.cells: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, p in enumerate(points):
            self.cells[self._cell(p)].append(i)

    def _cell(self, p: Point) -> tuple[int, int]:
        column = math.floor((p[1] + 180.0) / 360.0 * self.columns) % self.columns
        return math.floor(p[0] / self.lat_step), column

    def candidate_pairs(self) -> list[tuple[int, int]]:
        pairs = []
        for (row, column), members in self.cells.items():
            around = {(row + dr, (column + dc) % self.columns)
                      for dr in (-1, 0, 1) for dc in (-1, 0, 1)}
            for other in around:
                for i in members:
                    pairs.extend((i, j) for j in self.cells.get(other, ()) if i < j)
        return pairs


def _received(view: AnalysisView, period: Period, units: Collection[str] | None) -> list[Row]:
    return [r for r in view.facts_between(period.start, period.end)
            if period.contains(r["registered_at"]) and in_place(r, units)]


def clusters(org: OrgChart, view: AnalysisView, period: Period, unit: str | None, *,
             radius_m: float = RADIUS_M) -> dict[str, Any]:
    """Every cluster of the period's petitions in ``unit``'s subtree, largest first."""
    units = set(org.subtree(unit)) if unit else None
    by_matter: dict[str, list[Row]] = defaultdict(list)
    for row in _received(view, period, units):
        by_matter[row["category"]].append(row)
    items = []
    for category, rows in by_matter.items():
        located = [r for r in rows if r.get("lat") is not None and r.get("lon") is not None]
        points = [(r["lat"], r["lon"]) for r in located]
        for group in linked(points, radius_m):
            if len(group) >= MIN_CASES:
                items.append(_item(org, category, "coordinates", [located[i] for i in group]))
        by_street: dict[str, list[Row]] = defaultdict(list)
        for r in rows:
            if (r.get("lat") is None or r.get("lon") is None) and r["street"]:
                by_street[r["street"]].append(r)
        items.extend(_item(org, category, "street", group) for group in by_street.values()
                     if len(group) >= MIN_CASES)
    items.sort(key=lambda i: (-i["count"], i["category"], i["place"], i["cases"][0]))
    return {"period": period.label, "unit": unit, "from": period.start.isoformat(),
            "to": period.end.isoformat(), "radius_m": radius_m, "rule": rule(radius_m),
            "items": items}


def rule(radius_m: float) -> str:
    return (f"same category, and coordinates linked within {radius_m:g} m (haversine, "
            f"connected groups) or, without coordinates, the same street; at least "
            f"{MIN_CASES} cases")


def _item(org: OrgChart, category: str, basis: str, rows: list[Row]) -> dict[str, Any]:
    place = Counter(r["street"] or r["district"] for r in rows).most_common(1)[0][0]
    centre = extent = None
    if basis == "coordinates":
        lat = sum(r["lat"] for r in rows) / len(rows)
        lon = sum(r["lon"] for r in rows) / len(rows)
        centre = [round(lon, 3), round(lat, 3)]
        extent = round(max(haversine_m((lat, lon), (r["lat"], r["lon"])) for r in rows), -1)
    when = sorted(r["registered_at"] for r in rows)
    return {"basis": basis, "category": category, "count": len(rows), "place": place,
            "place_name": org.name_of(place),
            "centre": centre, "extent_m": extent, "first": when[0].isoformat(),
            "last": when[-1].isoformat(), "cases": sorted(str(r["case_id"]) for r in rows)}


def geojson_clusters(found: dict[str, Any]) -> dict[str, Any]:
    """The clusters as a GeoJSON FeatureCollection (RFC 7946: [lon, lat]); a street cluster,
    whose cases had no coordinates, has a null geometry."""
    features = [{
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": i["centre"]} if i["centre"] else None,
        "properties": {k: v for k, v in i.items() if k not in ("centre", "cases")}
        | {"case_count": i["count"]},
    } for i in found["items"]]
    return {"type": "FeatureCollection", "features": features,
            "properties": {k: found[k] for k in ("period", "unit", "radius_m", "rule")}}
