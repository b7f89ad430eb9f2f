"""Over HTTP: a deadline in a year the calendar package lacks is marked provisional wherever a
deadline is shown, and /readyz names the years not covered."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.holidays.holiday_file import parse_holidays
from adapters.holidays.stored_arrangement import import_arrangement
from tests.e2e.conftest import DISTRICT, Staff, register_body
from tests.e2e.pages_client import Citizen
from workflows.clock import ManualClock
from workflows.deadline_revision import revise_deadlines

CST = ZoneInfo("Asia/Shanghai")


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_deadlines_in_an_uncovered_year_are_provisional_everywhere(
        api: FastAPI, client: TestClient, staff: Staff, clock: ManualClock) -> None:
    clock.set(datetime(2026, 12, 20, 10, tzinfo=CST))  # acceptance due 4 Jan 2027 (1 Jan rests)
    intake = staff.headers("intake", DISTRICT)
    ready = ok(client.get("/readyz"))
    assert ready["calendar_years_not_covered"] == [2027]

    registered = ok(client.post("/petitions", json=register_body(), headers=intake), 201)
    assert registered["deadline"]["due_on"] == "2027-01-04"
    assert registered["deadline"]["provisional"] is True
    case_id, code = registered["case_id"], registered["query_code"]
    case = ok(client.get(f"/petitions/{case_id}", headers=intake))
    assert case["deadline"]["provisional"] is True
    assert all(d["provisional"] for d in case["open_deadlines"])
    mine = ok(client.post("/status", json={"query_code": code}))
    assert mine["deadline"]["provisional"] is True
    listed = ok(client.get("/petitions", headers=intake))["items"]
    assert [row["deadline_provisional"] for row in listed] == [True]
    supervisor = staff.headers("supervisor", DISTRICT)
    soon = ok(client.get("/supervision/due-soon", params={"within_days": 30},
                         headers=supervisor))["items"]
    assert [(row["kind"], row["provisional"]) for row in soon] == [("acceptance", True)]

    import_arrangement(api.state.engine.app, parse_holidays(
        "date,kind,name\n2027-01-04,holiday,元旦\n"), source="2027.csv")
    assert ok(client.get("/readyz"))["calendar_years_not_covered"] == []
    mine = ok(client.post("/status", json={"query_code": code}))
    assert mine["deadline"]["provisional"] is True  # recorded: told to the petitioner, kept
    assert mine["deadline"]["due_on"] == "2027-01-04"
    revise_deadlines(api.state.engine.app, [UUID(case_id)], reason="2027 arrangement imported")
    mine = ok(client.post("/status", json={"query_code": code}))
    assert mine["deadline"]["provisional"] is False and mine["deadline"]["due_on"] == "2027-01-05"
    (step,) = [s for s in mine["steps"] if s["type"] == "DeadlineRevised"]  # told, not silent
    assert set(step["fields"]) == {"deadline", "previous"}  # the operator's reason stays inside
    assert (step["fields"]["previous"]["due_on"], step["fields"]["deadline"]["due_on"]) == (
        "2027-01-04", "2027-01-05")
    history = ok(client.get(f"/petitions/{case_id}/history", headers=intake))["entries"]
    assert history[-1]["type"] == "DeadlineRevised"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_deadlines_in_published_years_are_not_provisional(
        client: TestClient, staff: Staff) -> None:
    intake = staff.headers("intake", DISTRICT)
    registered = ok(client.post("/petitions", json=register_body(), headers=intake), 201)
    assert registered["deadline"]["provisional"] is False
    listed = ok(client.get("/petitions", headers=intake))["items"]
    assert [row["deadline_provisional"] for row in listed] == [False]
    soon = ok(client.get("/supervision/due-soon", params={"within_days": 30},
                         headers=staff.headers("supervisor", DISTRICT)))["items"]
    assert [row["provisional"] for row in soon] == [False]


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_petitioners_pages_say_a_deadline_is_provisional_until_revised(
        api: FastAPI, client: TestClient, clock: ManualClock) -> None:
    """The receipt and the case page mark the provisional date (暂定), keep it after an import,
    and show the revised, settled date once the operator revises it."""
    clock.set(datetime(2026, 12, 20, 10, tzinfo=CST))  # acceptance due 4 Jan 2027 (1 Jan rests)
    citizen = Citizen(client, api)
    receipt = citizen.verify(citizen.start())
    assert receipt.status_code == 200
    assert "2027-01-04 （暂定：节假日安排尚未公布）" in receipt.text
    code = re.search(r'id="query-code">([^<]+)<', receipt.text).group(1)  # type: ignore[union-attr]
    assert "2027-01-04 （暂定：节假日安排尚未公布）" in citizen.follow(code).text

    app = api.state.engine.app
    import_arrangement(app, parse_holidays("date,kind,name\n2027-01-04,holiday,元旦\n"),
                       source="2027.csv")
    assert "2027-01-04 （暂定" in citizen.follow(code).text  # recorded: what they were told
    revise_deadlines(app, [app.case_id_for_query_code(code)], reason="2027 arrangement")
    page = citizen.follow(code).text
    assert "2027-01-05" in page and "暂定" not in page
    timeline = page[page.index('id="timeline"'):]
    assert "期限调整" in timeline and "2027-01-04" in timeline and "2027-01-05" in timeline
    assert "2027 arrangement" not in page  # the operator's reason is not shown
