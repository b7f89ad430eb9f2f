"""Clusters of petitions about the same place and matter, on both stores: from the analysis
view, equal to a recomputation from the raw Registered events (hypothesis); GeoJSON; reach."""

from __future__ import annotations

import math
from datetime import timedelta, timezone

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from domain import events as ev
from projections import runner as r
from projections.periods import parse_period
from projections.place_clusters import MIN_CASES, clusters, geojson_clusters
from tests.integration.helpers import DISTRICT, STREET, register_command
from tests.unit.test_place_clusters import chord_m
from tests.views import views_of

CST = timezone(timedelta(hours=8))
STREET2 = "QH-D01-S02"
CENTRE = (36.651, 117.012)
RADIUS = 300.0

cases = st.lists(st.tuples(
    st.sampled_from(["噪音", "物业"]),
    st.sampled_from([STREET, STREET2, None]),
    st.one_of(st.none(), st.tuples(st.integers(-12, 12), st.integers(-12, 12)))),
    min_size=0, max_size=12)


def _register(app, at, category, street, offset):
    location = {"district": DISTRICT, "street": street}
    if offset is not None:
        location |= {"lat": CENTRE[0] + offset[0] * 0.001, "lon": CENTRE[1] + offset[1] * 0.001}
    return app.register(register_command(at=at, category=category, location=location)).case_id


def _expected(app, period, radius):
    """From the raw events: every case registered in the period, grouped by the stated rule."""
    registered = []
    for notification in app.recorder.select_notifications(start=1, limit=10_000):
        event = app.mapper.to_domain_event(notification)
        if isinstance(event, ev.Registered) and period.contains(event.at):
            registered.append(event)
    found = set()
    for category in {e.category for e in registered}:
        same = [e for e in registered if e.category == category]
        located = [e for e in same if e.location.lat is not None]
        points = [(round(e.location.lat, 3), round(e.location.lon, 3)) for e in located]
        left = set(range(len(points)))
        while left:
            group, todo = set(), [left.pop()]
            while todo:
                i = todo.pop()
                group.add(i)
                near = {j for j in left if chord_m(points[i], points[j]) <= radius}
                left -= near
                todo.extend(near)
            if len(group) >= MIN_CASES:
                found.add(("coordinates", category,
                           frozenset(str(located[i].originator_id) for i in group)))
        for street in {e.location.street for e in same if e.location.lat is None} - {None}:
            group = frozenset(str(e.originator_id) for e in same
                              if e.location.lat is None and e.location.street == street)
            if len(group) >= MIN_CASES:
                found.add(("street", category, group))
    return found, registered


@hsettings(max_examples=15, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=cases)
def test_clusters_match_a_recomputation_from_the_events(app, clock, history):
    local = clock.now().astimezone(CST)  # each example at noon of a day of its own
    noon = (local + timedelta(days=1)).replace(hour=12, minute=0, second=0, microsecond=0)
    clock.advance(noon - local)
    day = clock.now()
    for n, (category, street, offset) in enumerate(history):
        _register(app, day - timedelta(minutes=n), category, street, offset)
    period = parse_period(day.astimezone(CST).date().isoformat())
    want, registered = _expected(app, period, RADIUS)
    located = [(round(e.location.lat, 3), round(e.location.lon, 3)) for e in registered
               if e.location.lat is not None]
    for i, a in enumerate(located):  # a pair exactly on the radius may round either way
        for b in located[i + 1:]:
            if abs(chord_m(a, b) - RADIUS) < 1e-6 * RADIUS:
                return
    r.catch_up(app, views_of(app), "analysis_facts")
    found = clusters(app.org, r.analysis_facts(views_of(app)), period, DISTRICT, radius_m=RADIUS)
    got = {(i["basis"], i["category"], frozenset(i["cases"])) for i in found["items"]}
    assert got == want
    assert all(i["count"] == len(i["cases"]) >= MIN_CASES for i in found["items"])


def test_geojson_and_reach(app, clock):
    at = clock.now()
    near = [_register(app, at + timedelta(minutes=m), "噪音", STREET, (0, m)) for m in range(3)]
    far = _register(app, at, "噪音", STREET, (50, 50))  # 5.5 km away: alone
    other = [_register(app, at, "物业", STREET2, None) for _ in range(2)]
    r.catch_up(app, views_of(app), "analysis_facts")
    period = parse_period(at.astimezone(CST).date().isoformat())
    found = clusters(app.org, r.analysis_facts(views_of(app)), period, DISTRICT)
    by_basis = {i["basis"]: i for i in found["items"]}
    assert set(by_basis["coordinates"]["cases"]) == {str(c) for c in near}
    assert str(far) not in by_basis["coordinates"]["cases"]
    assert set(by_basis["street"]["cases"]) == {str(c) for c in other}
    assert by_basis["coordinates"]["place"] == STREET
    assert by_basis["coordinates"]["extent_m"] <= 100
    features = geojson_clusters(found)["features"]
    points = [f["geometry"] for f in features if f["geometry"]]
    assert points == [{"type": "Point", "coordinates": [117.013, 36.651]}]
    assert [f["properties"]["case_count"] for f in features] == [3, 2]
    assert math.isclose(found["radius_m"], 300)
    assert clusters(app.org, r.analysis_facts(views_of(app)), period, "QH-D02")["items"] == []
