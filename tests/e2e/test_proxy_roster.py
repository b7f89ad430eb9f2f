"""The proxy-agent roster (代办员名册): loaded from a file by the CLI, listed by the CLI and
over HTTP within the caller's reach; a roster naming something that is not a grid is refused
whole, with one line on stderr and nothing loaded; an intake token that is not the named
agent cannot log that agent's contacts (403, nothing appended)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.settings import Settings
from domain.proxy_roster import ProxyAgent
from tests.e2e.conftest import DISTRICT, OTHER_DISTRICT, STREET, Staff, appended, register_body
from tests.e2e.test_cli import run
from workflows import commands as c
from workflows.access import Role
from workflows.proxy_agents import load_roster

GRID, OTHER_GRID = STREET + "-C01-G01", "QH-D02-S01-C01-G01"
ROSTER = ("id,name,grids,token\n"
          f"JY-001,李红,{GRID};{STREET}-C02-G01,\n"
          f"JY-002,张军,{OTHER_GRID},\n")


def test_cli_loads_and_lists_the_roster(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    run(settings, "proxies", "load", str(tmp_path / "roster.csv"))
    listed = json.loads(run(settings, "proxies", "list", "--json").stdout)
    assert [(a["id"], a["grids"]) for a in listed] == [
        ("JY-001", [GRID, f"{STREET}-C02-G01"]), ("JY-002", [OTHER_GRID])]

    (tmp_path / "bad.csv").write_text(f"id,name,grids,token\nJY-003,王,{STREET},\n",
                                      encoding="utf-8")
    refused = run(settings, "proxies", "load", str(tmp_path / "bad.csv"), expect=3)
    assert "not a grid" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert len(json.loads(run(settings, "proxies", "list", "--json").stdout)) == 2


@pytest.mark.parametrize("backend", ["sqlite"])
def test_http_lists_agents_in_reach(api: FastAPI, client: TestClient, staff: Staff) -> None:
    app = api.state.engine.app
    load_roster(app, [ProxyAgent("JY-001", "李红", (GRID,)),
                      ProxyAgent("JY-002", "张军", (OTHER_GRID,))], app.org, "roster.csv")

    def seen(role: str, unit: str) -> list[str]:
        response = client.get("/proxies", headers=staff.headers(role, unit))
        return [a["id"] for a in response.json()["items"]]

    assert seen("handler", STREET) == ["JY-001"]
    assert seen("supervisor", OTHER_DISTRICT) == ["JY-002"]
    assert seen("auditor", STREET) == ["JY-001", "JY-002"]
    assert client.get("/proxies", params={"jurisdiction": OTHER_DISTRICT},
                      headers=staff.headers("intake", STREET)).status_code == 403


@pytest.mark.parametrize("backend", ["sqlite"])
def test_only_the_named_agent_logs_its_contacts(api: FastAPI, client: TestClient,
                                                staff: Staff) -> None:
    app, tokens = api.state.engine.app, api.state.engine.tokens
    mine, other = tokens.issue(Role.INTAKE, DISTRICT, proxy=True), tokens.issue(
        Role.INTAKE, DISTRICT, proxy=True)
    load_roster(app, [ProxyAgent("JY-001", "李红", (GRID,), str(mine.token_id)),
                      ProxyAgent("JY-002", "张军", (GRID,), str(other.token_id))],
                app.org, "roster.csv")
    case_id = app.register(c.RegisterPetition(actor="prep", **register_body())).case_id
    app.execute(c.Entrust(case_id=case_id, actor="prep", agent="JY-001", form="designated",
                          grid=GRID, scope=["follow"], valid_until="2099-01-01T00:00:00+08:00"))
    app.execute(c.AssignProxy(case_id=case_id, actor="prep", agent="JY-001"))
    path, body = f"/petitions/{case_id}/log-proxy-contact", {"agent": "JY-001", "mode": "visit"}

    plain = staff.headers("intake", DISTRICT)["Authorization"].removeprefix("Bearer ")
    before = appended(api)
    for token in (other.token, plain):
        response = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403 and "JY-001" in response.json()["message"]
    assert appended(api) == before
    assert client.post(path, json=body, headers={
        "Authorization": f"Bearer {mine.token}"}).status_code == 200
