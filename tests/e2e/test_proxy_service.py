"""The proxy service and the suggestion rights over HTTP, on both stores (issue 15).

A registered agent files a case for the petitioner under a signed entrustment (委托书), starts
the service and reports its meetings; each step is an event in the history and in the
subscribers' feed, without the petitioner's personal data. A revoked or expired entrustment
stops the agent (422, nothing appended); an agent acting outside its entrustment's scope is
403. A suggestion (三项建议权) waits on the supervision queue, owed by the addressed unit,
until that unit responds.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from domain.proxy_roster import ProxyAgent
from tests.e2e.conftest import DISTRICT, PETITIONER, STREET, Staff, appended, register_body
from workflows.access import Role
from workflows.clock import ManualClock
from workflows.proxy_agents import load_roster

GRID = STREET + "-C01-G01"
COMMUNITY = STREET + "-C01"


def entrustment(clock: ManualClock, days: int = 90, scope: tuple[str, ...] = ("file", "follow")
                ) -> dict[str, Any]:
    return {"form": "active", "grid": GRID, "scope": list(scope),
            "valid_until": (clock.now() + timedelta(days=days)).isoformat()}


def as_agent(api: FastAPI) -> dict[str, str]:
    """A roster agent JY-001 serving GRID, and its bearer header."""
    app, tokens = api.state.engine.app, api.state.engine.tokens
    issued = tokens.issue(Role.INTAKE, DISTRICT, proxy=True)
    load_roster(app, [ProxyAgent("JY-001", "李红", (GRID,), str(issued.token_id))], app.org,
                "roster.csv")
    return {"Authorization": f"Bearer {issued.token}"}


def test_an_agent_files_starts_and_follows_a_case(api: FastAPI, client: TestClient,
                                                  staff: Staff, clock: ManualClock) -> None:
    agent = as_agent(api)
    auditor = staff.headers("auditor", "QH")
    assert client.post("/petitions", headers=agent, json=register_body(
        proxy_agent="JY-002", entrustment=entrustment(clock))).status_code == 403
    filed = client.post("/petitions", headers=agent, json=register_body(
        proxy_agent="JY-001", entrustment=entrustment(clock, days=30)))
    assert filed.status_code == 201, filed.text
    case = filed.json()["case_id"]
    clock.advance(timedelta(days=2))
    path = f"/petitions/{case}/log-proxy-contact"
    assert client.post(path, headers=agent, json={"agent": "JY-001", "mode": "video",
                                                   "note": "视频见面"}).status_code == 200
    before = appended(api)
    assert client.post(f"/petitions/{case}/withdraw", headers=agent,
                       json={"reason": "不想办了"}).status_code == 403  # not in its scope
    assert appended(api) == before

    history = client.get(f"/petitions/{case}/history", headers=auditor).json()
    types = [e["type"] for e in history["entries"]]
    assert types == ["Registered", "EntrustmentSigned", "ProxyContactLogged"]
    feed = client.get("/events", headers=auditor).json()["items"]
    mine = [e for e in feed if e["case_id"] == case]
    assert [e["type"] for e in mine] == types
    assert mine[1]["data"] | {"valid_until": None, "actor": None} == {
        "agent": "JY-001", "form": "active", "grid": GRID, "scope": ["file", "follow"],
        "valid_until": None, "actor": None}
    assert PETITIONER["name"] not in str(feed) and PETITIONER["id_number"] not in str(feed)

    clock.advance(timedelta(days=29))  # past the entrustment's period
    before = appended(api)
    out = client.post(path, headers=agent, json={"agent": "JY-001", "mode": "visit"})
    assert out.status_code == 422 and "not in force" in out.json()["message"]
    assert appended(api) == before


def test_a_revoked_entrustment_stops_the_agent(api: FastAPI, client: TestClient,
                                               staff: Staff, clock: ManualClock) -> None:
    agent, intake = as_agent(api), staff.headers("intake", DISTRICT)
    case = client.post("/petitions", headers=intake, json=register_body()).json()["case_id"]
    for action, body in (("entrust", {"agent": "JY-001", **entrustment(clock)}),
                         ("assign-proxy", {"agent": "JY-001"})):
        clock.advance(timedelta(minutes=5))
        assert client.post(f"/petitions/{case}/{action}", headers=intake,
                           json=body).status_code == 200
    clock.advance(timedelta(minutes=5))
    assert client.post(f"/petitions/{case}/revoke-entrustment", headers=intake,
                       json={"reason": "信访人撤销委托"}).status_code == 200
    shown = client.get(f"/petitions/{case}", headers=intake).json()
    assert shown["proxy_agent"] is None and shown["entrustment"]["revoked_at"] is not None
    clock.advance(timedelta(minutes=5))
    before = appended(api)
    for action, body in (("assign-proxy", {"agent": "JY-001"}),
                         ("log-proxy-contact", {"agent": "JY-001", "mode": "visit"})):
        out = client.post(f"/petitions/{case}/{action}", headers=agent, json=body)
        assert out.status_code in (409, 422), out.text
    assert appended(api) == before


def test_a_suggestion_waits_on_the_queue_until_the_unit_responds(
        api: FastAPI, client: TestClient, staff: Staff, clock: ManualClock) -> None:
    intake, supervisor = staff.headers("intake", DISTRICT), staff.headers("supervisor", DISTRICT)
    handler = staff.headers("handler", STREET)
    case = client.post("/petitions", headers=intake, json=register_body()).json()["case_id"]
    for action, body in (("accept", {"handling_track": "claim", "speed_track": "complex"}),
                         ("delegate", {"unit": STREET})):
        assert client.post(f"/petitions/{case}/{action}", headers=intake,
                           json=body).status_code == 200
    assert client.post(f"/petitions/{case}/suggest", headers=handler, json={
        "kind": "accountability", "unit": STREET, "text": "建议追究责任"}).status_code == 403
    made = client.post(f"/petitions/{case}/suggest", headers=supervisor, json={
        "kind": "accountability", "unit": STREET, "text": "建议追究责任"})
    assert made.status_code == 200
    clock.advance(timedelta(days=40))
    overdue = client.get("/supervision/overdue", headers=supervisor,
                         params={"as_of": clock.now().isoformat()}).json()["items"]
    assert [(o["kind"], o["unit"]) for o in overdue if o["case_id"] == case] == [
        ("suggestion_response", STREET)]
    out = client.post(f"/petitions/{case}/respond-suggestion", headers=handler,
                      json={"number": 2, "response": "已处理"})
    assert out.status_code == 409
    assert client.post(f"/petitions/{case}/respond-suggestion", headers=handler,
                       json={"number": 1, "response": "已追责"}).status_code == 200
    overdue = client.get("/supervision/overdue", headers=supervisor,
                         params={"as_of": clock.now().isoformat()}).json()["items"]
    assert [o for o in overdue if o["case_id"] == case and o["kind"] == "suggestion_response"] \
        == []
