"""Over HTTP and the CLI: business time out of bounds, a self-declared approver and an unknown
proxy agent are refused (422 / exit 2–3) and append nothing; the approver is the token's actor.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.settings import Settings
from domain.proxy_roster import ProxyAgent
from tests.e2e.conftest import CITY, DISTRICT, STREET, Staff, appended, register_body
from tests.e2e.test_cli import run
from workflows.clock import ManualClock
from workflows.proxy_agents import enrol_generated_agent, load_roster

GRID = STREET + "-C01-G01"

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


def refused(api: FastAPI, client: TestClient, path: str, body: dict[str, Any],
            headers: dict[str, str]) -> dict[str, Any]:
    before = appended(api)
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 422, response.text
    assert appended(api) == before
    return response.json()


def in_handling(client: TestClient, intake: dict[str, str]) -> str:
    case_id = client.post("/petitions", json=register_body(), headers=intake).json()["case_id"]
    for action, body in (("accept", {"handling_track": "claim", "speed_track": "complex"}),
                         ("delegate", {"unit": STREET})):
        assert client.post(f"/petitions/{case_id}/{action}", json=body,
                           headers=intake).status_code == 200
    return case_id


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
                                "1900-01-01T00:00:00+08:00"])
def test_registration_at_an_extreme_time_is_422(api: FastAPI, client: TestClient,
                                                 staff: Staff, at: str) -> None:
    intake = staff.headers("intake", DISTRICT)
    out = refused(api, client, "/petitions", register_body(at=at), intake)
    assert out["error"] == "rule_violated" and "business time" in out["message"]
    assert client.get("/readyz").status_code == 200


def test_backdating_beyond_the_policy_is_422(api: FastAPI, client: TestClient, staff: Staff,
                                             clock: ManualClock) -> None:
    intake = staff.headers("intake", DISTRICT)
    too_old = (clock.now() - timedelta(days=91)).isoformat()
    out = refused(api, client, "/petitions", register_body(at=too_old), intake)
    assert "90 days" in out["message"]
    letter = (clock.now() - timedelta(days=89)).isoformat()
    assert client.post("/petitions", json=register_body(at=letter),
                       headers=intake).status_code == 201


def test_extend_records_the_approving_token_s_actor(api: FastAPI, client: TestClient,
                                                    staff: Staff) -> None:
    intake, supervisor = staff.headers("intake", DISTRICT), staff.headers("supervisor", CITY)
    case_id = in_handling(client, intake)
    out = refused(api, client, f"/petitions/{case_id}/extend",
                  {"days": 10, "reason": "同意", "approved_by": "市长 the mayor"}, supervisor)
    assert "approved_by" in out["message"]

    assert client.post(f"/petitions/{case_id}/extend", json={"days": 10, "reason": "同意"},
                       headers=supervisor).status_code == 200

    (extended,) = [e for e in api.state.engine.app.events_of(UUID(case_id))
                   if type(e).__name__ == "DeadlineExtended"]
    assert extended.approved_by == extended.actor
    assert extended.actor.startswith("supervisor:") and extended.actor.endswith("@QH")


def test_assign_proxy_takes_only_an_active_registered_agent(api: FastAPI, client: TestClient,
                                                            staff: Staff) -> None:
    intake = staff.headers("intake", DISTRICT)
    case_id = in_handling(client, intake)
    app = api.state.engine.app
    retired = enrol_generated_agent(app, "retired", STREET, app.clock.now())
    load_roster(app, [ProxyAgent("JY-001", "李红", (GRID,))], app.org, source="roster.csv")
    path = f"/petitions/{case_id}/assign-proxy"
    terms = {"form": "entrusted", "grid": GRID, "scope": ["follow"],
             "valid_until": "2099-01-01T00:00:00+08:00"}

    for agent in ("市长 the mayor", retired, "jy-001"):
        out = refused(api, client, f"/petitions/{case_id}/entrust", {"agent": agent, **terms},
                      intake)
        assert out["error"] == "rule_violated" and "proxy agent" in out["message"]
        out = refused(api, client, path, {"agent": agent}, intake)
        assert out["error"] == "rule_violated" and "entrustment" in out["message"]
    refused(api, client, "/petitions", register_body(proxy_agent="agent-1"), intake)
    out = refused(api, client, f"/petitions/{case_id}/entrust",
                  {"agent": "JY-001", **terms, "grid": STREET + "-C02-G01"}, intake)
    assert "does not serve grid" in out["message"]

    assert client.post(f"/petitions/{case_id}/entrust", json={"agent": "JY-001", **terms},
                       headers=intake).status_code == 200
    assert client.post(path, json={"agent": "JY-001"}, headers=intake).status_code == 200
    shown = client.get(f"/petitions/{case_id}", headers=intake).json()
    assert shown["proxy_agent"] == "JY-001"


def test_cli_extend_needs_the_approver_and_refuses_a_free_text_one(
        settings: Settings, tmp_path: Path) -> None:
    body = {"actor": "intake:QH-D01", **register_body()}
    (tmp_path / "p.json").write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    case = json.loads(run(settings, "register", str(tmp_path / "p.json"), "--json").stdout)
    case_id = case["case_id"]
    run(settings, "act", case_id, "accept", "handling_track=claim", "speed_track=complex")
    run(settings, "act", case_id, "delegate", f"unit={STREET}")

    done = run(settings, "act", case_id, "extend", "days=5", "reason=r", expect=2)
    assert "--actor" in done.stderr
    run(settings, "act", case_id, "extend", "days=5", "reason=r", "approved_by=市长",
        "--actor", "supervisor:wang@QH", expect=2)
    run(settings, "act", case_id, "extend", "days=5", "reason=r", "--actor", "supervisor:wang@QH")
    history = json.loads(run(settings, "history", case_id, "--json").stdout)
    assert history[-1]["data"]["approved_by"] == "supervisor:wang@QH"

    (tmp_path / "old.json").write_text(json.dumps(
        {**body, "at": "0001-01-01T00:00:00+14:00"}, ensure_ascii=False), encoding="utf-8")
    done = run(settings, "register", str(tmp_path / "old.json"), expect=3)
    assert "business time" in done.stderr
