"""The clusters' linking against an independent recomputation: every pair compared by the
chord between unit vectors (not the haversine), components found by a plain search — on random
points near a few centres (so clusters happen), anywhere on the globe, at the poles and across
the ±180° meridian."""

from __future__ import annotations

import math

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from projections.place_clusters import EARTH_M, haversine_m, linked


def chord_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    def vector(p: tuple[float, float]) -> tuple[float, float, float]:
        lat, lon = math.radians(p[0]), math.radians(p[1])
        return (math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat))

    gap = math.dist(vector(a), vector(b))
    return 2 * EARTH_M * math.asin(min(1.0, gap / 2))


def components(points: list[tuple[float, float]], radius: float) -> set[frozenset[int]]:
    seen: set[int] = set()
    out = set()
    for start in range(len(points)):
        if start in seen:
            continue
        group, todo = {start}, [start]
        while todo:
            i = todo.pop()
            for j in range(len(points)):
                if j not in group and chord_m(points[i], points[j]) <= radius:
                    group.add(j)
                    todo.append(j)
        seen |= group
        out.add(frozenset(group))
    return out


def near(centre: tuple[float, float], spread: float) -> st.SearchStrategy[tuple[float, float]]:
    lat = st.floats(max(-90, centre[0] - spread), min(90, centre[0] + spread))
    lon = st.floats(centre[1] - spread, centre[1] + spread).map(
        lambda x: (x + 180) % 360 - 180)
    return st.tuples(lat, lon)


CENTRES = st.sampled_from([(36.65, 117.01), (31.23, 121.47), (0.0, 179.999), (89.999, 0.0),
                           (-89.999, 45.0), (60.0, -179.999)])


@st.composite
def scattered(draw: st.DrawFn) -> list[tuple[float, float]]:
    centres = draw(st.lists(CENTRES, min_size=1, max_size=3))
    spread = draw(st.sampled_from([0.001, 0.005, 0.02]))
    return draw(st.lists(st.one_of(*[near(c, spread) for c in centres]), max_size=40))


@settings(max_examples=300, deadline=None)
@given(points=scattered(), radius=st.sampled_from([50.0, 300.0, 1000.0, 5000.0]))
def test_linked_groups_are_the_connected_components(points, radius):
    for i, a in enumerate(points):  # a pair on the boundary may round either way
        for b in points[i + 1:]:
            assume(abs(chord_m(a, b) - radius) > 1e-6 * radius)
    found = {frozenset(g) for g in linked(points, radius)}
    assert found == components(points, radius)


@settings(max_examples=200, deadline=None)
@given(a=st.tuples(st.floats(-90, 90), st.floats(-180, 180)),
       b=st.tuples(st.floats(-90, 90), st.floats(-180, 180)))
def test_haversine_agrees_with_the_chord(a, b):
    assert math.isclose(haversine_m(a, b), chord_m(a, b), rel_tol=1e-6, abs_tol=1e-3)


def test_known_distances():
    assert haversine_m((36.651, 117.012), (36.651, 117.012)) == 0
    one_degree = haversine_m((0.0, 0.0), (1.0, 0.0))
    assert math.isclose(one_degree, 111_195, rel_tol=1e-4)
    assert linked([(0.0, 179.9999), (0.0, -179.9999)], 50) == [[0, 1]]  # across ±180°
    assert linked([], 300) == []
