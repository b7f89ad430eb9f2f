"""/analytics/…: indicators, index and ranking over HTTP, cut to the caller's reach."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import CITY, DISTRICT, OTHER_DISTRICT, STREET, register_body

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def _register(client, staff, n: int = 2, **overrides):
    headers = staff.headers("intake", DISTRICT)
    return [client.post("/petitions", json=register_body(**overrides), headers=headers)
            .json()["case_id"] for _ in range(n)]


def test_indicators_of_a_subtree_with_the_cases_behind_them(client, staff):
    ids = _register(client, staff, 2, channel="online")
    reply = client.get("/analytics/indicators", params={"period": "2026-03", "cases": "true"},
                       headers=staff.headers("supervisor", DISTRICT))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["unit"] == DISTRICT and body["period"] == "2026-03"
    figures = {f["name"]: f for f in body["indicators"]}
    assert figures["received"]["numerator"] == 2
    assert set(figures["online_share"]["cases"]) == set(ids)
    assert figures["online_share"]["value"] == 1.0
    other = client.get("/analytics/indicators", params={"period": "2026-03", "unit": STREET},
                       headers=staff.headers("supervisor", DISTRICT)).json()
    assert {f["name"]: f for f in other["indicators"]}["received"]["numerator"] == 2
    april = client.get("/analytics/indicators", params={"period": "2026-04"},
                       headers=staff.headers("admin", CITY)).json()
    assert {f["name"]: f for f in april["indicators"]}["received"]["numerator"] == 0


@pytest.mark.parametrize(("params", "status", "error"), [
    ({"period": "2026-13"}, 422, "invalid_command"),
    ({"period": "2026-10-05..2026-10-01"}, 422, "invalid_command"),
    ({"period": "2026-10", "unit": "NOPE"}, 422, "invalid_command"),
    ({}, 422, "invalid_request"),
    ({"period": "2026-10", "unit": OTHER_DISTRICT}, 403, "forbidden"),
])
def test_bad_periods_units_and_reach_are_refused_in_the_usual_shape(client, staff, params,
                                                                     status, error):
    for path in ("/analytics/indicators", "/analytics/index", "/analytics/ranking"):
        query = dict(params)
        if path == "/analytics/ranking" and "unit" in query:
            query["within"] = query.pop("unit")
        reply = client.get(path, params=query, headers=staff.headers("supervisor", DISTRICT))
        assert reply.status_code == status, (path, reply.text)
        assert set(reply.json()) >= {"error", "message"}


def test_handlers_do_not_read_analytics(client, staff):
    reply = client.get("/analytics/indicators", params={"period": "2026-03"},
                       headers=staff.headers("handler", STREET))
    assert reply.status_code == 403


def test_index_and_ranking(client, staff):
    _register(client, staff, 6)
    index = client.get("/analytics/index", params={"period": "2026-03", "unit": STREET},
                       headers=staff.headers("supervisor", DISTRICT)).json()
    assert index["received"] == 6 and index["grade"] in ("优秀", "良好", "合格", "不合格")
    assert [d["name"] for d in index["dimensions"]][3] == "建议征集"
    assert index["previous_period"] == "2026-02" and index["previous_score"] is None
    ranking = client.get("/analytics/ranking", params={"period": "2026-03", "level": "street"},
                         headers=staff.headers("supervisor", DISTRICT)).json()
    streets = {row["unit"]: row for row in ranking["items"]}
    assert all(unit.startswith(DISTRICT) for unit in streets)
    assert streets[STREET]["rank"] == 1 and streets[STREET]["score"] == index["score"]
    assert all(row["grade"] == "不参评" for unit, row in streets.items() if unit != STREET)


def test_hotspots_and_similar_over_http(client, staff):
    ids = _register(client, staff, 3, category="噪音")
    listed = client.get("/analytics/hotspots", params={"period": "2026-03", "cases": "true"},
                        headers=staff.headers("supervisor", DISTRICT)).json()["items"][0]
    assert listed["count"] == 3 and set(listed["cases"]) == {str(i) for i in ids}
    reply = client.get("/analytics/hotspots", params={"period": "2026-03", "format": "geojson"},
                       headers=staff.headers("supervisor", DISTRICT))
    assert reply.status_code == 200, reply.text
    feature = reply.json()["features"][0]
    assert feature["properties"]["count"] == 3 and feature["properties"]["category"] == "噪音"
    found = client.post("/analytics/similar", json={"text": "路灯坏了"},
                        headers=staff.headers("handler", STREET))
    assert found.status_code == 200 and found.json() == {"unit": STREET, "items": []}
    refused = client.post("/analytics/similar", json={"text": "x", "unit": OTHER_DISTRICT},
                          headers=staff.headers("handler", STREET))
    assert refused.status_code == 403
    assert client.post("/analytics/similar", json={"text": ""},
                       headers=staff.headers("handler", STREET)).status_code == 422


def test_clusters_over_http_with_geojson_and_bounds(client, staff):
    near = {"district": DISTRICT, "street": STREET, "lat": 36.651, "lon": 117.012}
    ids = _register(client, staff, 3, category="噪音", location=near)
    _register(client, staff, 1, category="物业", location=near)  # another matter: alone
    headers = staff.headers("supervisor", DISTRICT)
    reply = client.get("/analytics/hotspots/clusters", params={"period": "2026-03"},
                       headers=headers)
    assert reply.status_code == 200, reply.text
    (cluster,) = reply.json()["items"]
    assert (cluster["basis"], cluster["category"], set(cluster["cases"])) == (
        "coordinates", "噪音", set(ids))
    geo = client.get("/analytics/hotspots/clusters",
                     params={"period": "2026-03", "format": "geojson", "radius_m": 50},
                     headers=headers).json()
    assert geo["type"] == "FeatureCollection" and geo["properties"]["radius_m"] == 50
    assert geo["features"][0]["geometry"] == {"type": "Point",
                                              "coordinates": [117.012, 36.651]}
    for bad in ({"period": "2026-03", "radius_m": 10}, {"period": "2026-03", "radius_m": 1e9},
                {"period": "2026-13"}):
        assert client.get("/analytics/hotspots/clusters", params=bad,
                          headers=headers).status_code == 422
    assert client.get("/analytics/hotspots/clusters", params={"period": "2026-03"},
                      headers=staff.headers("handler", STREET)).status_code == 403
    outside = client.get("/analytics/hotspots/clusters",
                         params={"period": "2026-03", "unit": OTHER_DISTRICT}, headers=headers)
    assert outside.status_code == 403


def test_the_composition_root_owns_the_one_similar_cases_index(settings, clock):
    """The root builds the index once and hands it to the routes and to the follower that
    keeps it warm (no copy stashed on the application); readiness reports the follower."""
    import dataclasses

    from fastapi.testclient import TestClient

    from adapters.http.app import create_app
    from adapters.wiring import Root
    from tests.e2e.conftest import Staff
    from tests.processes import wait_until

    root = Root(dataclasses.replace(settings, supervision_interval=0), clock=clock)
    api = create_app(root=root, run_projections=True)
    engine = api.state.engine
    try:
        assert engine.similar is root.similar_cases() is root.similar_cases()
        with TestClient(api) as client:
            follower = engine.loops["similar_cases"]
            assert follower.index is engine.similar and follower.is_running
            _register(client, Staff(api), 1)
            end = engine.app.recorder.max_notification_id()
            wait_until(lambda: engine.similar.position == end, 30, "the follower caught up")
            ready = client.get("/readyz").json()
            assert ready["status"] == "ready" and ready["similar_cases"] == {
                "state": "following", "caught_up_to": end, "behind": 0}
        assert not follower.is_running and "similar_cases" not in engine.loops
        assert not any("similar" in key for key in vars(engine.app))
    finally:
        engine.app.close()
