"""A petition's whole life over HTTP (httpx against uvicorn), on SQLite and PostgreSQL.

Staff act with tokens of the right role at the right unit of the demo city; the petitioner only
ever uses the query code printed at registration.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.e2e.conftest import (
    CITY,
    DISTRICT,
    PETITIONER,
    STREET,
    Staff,
    appended,
    register_body,
)
from workflows.clock import ManualClock


def ok(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()


@pytest.fixture
def http(live_url: str) -> httpx.Client:
    with httpx.Client(base_url=live_url, timeout=30) as client:
        yield client


def test_whole_lifecycle_over_http(api: FastAPI, http: httpx.Client, staff: Staff,
                                   clock: ManualClock) -> None:
    intake = staff.headers("intake", DISTRICT)
    handler = staff.headers("handler", STREET)
    supervisor = staff.headers("supervisor", DISTRICT)
    auditor = staff.headers("auditor", CITY)
    responses: list[str] = []  # every staff response body, to look for the query code

    def act(case_id: str, action: str, body: dict[str, Any], who: dict[str, str]
            ) -> dict[str, Any]:
        clock.advance(timedelta(hours=2))
        response = http.post(f"/petitions/{case_id}/{action}", json=body, headers=who)
        responses.append(response.text)
        return ok(response)

    # 登记: the query code is in this response and nowhere else
    registered = ok(http.post("/petitions", json=register_body(), headers=intake), 201)
    case_id, code = registered["case_id"], registered["query_code"]
    assert registered["status"] == "registered"
    assert registered["deadline"]["kind"] == "acceptance"

    accepted = act(case_id, "accept", {"handling_track": "claim", "speed_track": "general"},
                   intake)
    assert accepted["case"]["status"] == "accepted" and accepted["position"] > 0
    after_accept = datetime.now(UTC)
    delegated = act(case_id, "delegate", {"unit": STREET, "note": "请核实"}, intake)
    assert delegated["case"]["responsible_unit"] == STREET
    answer_due = delegated["case"]["deadline"]["due_on"]

    act(case_id, "extend-request", {"days": 15, "reason": "需要现场勘查"}, handler)
    extended = act(case_id, "extend", {"days": 15, "reason": "同意延期"}, supervisor)
    assert extended["case"]["deadline"]["due_on"] > answer_due
    answered = act(case_id, "answer", {"answer": "已安排维修。"}, handler)
    assert answered["case"]["status"] == "answered"

    # the petitioner follows the case with the query code only
    clock.advance(timedelta(days=1))
    mine = ok(http.post("/status", json={"query_code": code}))
    assert mine["status"] == "answered" and mine["answer"] == "已安排维修。"
    assert mine["unit"]["id"] == STREET
    # 网上送达: the first opening delivered the answer; the review window runs from it
    assert mine["answer_delivered_at"] is not None
    assert mine["review_window"]["starts_at"] == mine["answer_delivered_at"]
    again = ok(http.post("/status", json={"query_code": code}))
    assert again["answer_delivered_at"] == mine["answer_delivered_at"]  # once only
    # Art. 32: the petitioner is told the extension and its reason
    assert mine["extension"] == {"days": 15, "reason": "同意延期",
                                 "extended_at": mine["extension"]["extended_at"]}
    assert not {"actor", "petitioner", "content", "note", "query_code_hash"} & mine.keys()
    rated = ok(http.post("/status/rate", json={
        "query_code": code, "attitude": "satisfied", "efficiency": "unsatisfied",
        "quality": "basically_satisfied"}))
    assert rated["ratings"]
    clock.advance(timedelta(days=10))  # well inside the 30-day window
    reviewing = ok(http.post("/status/review", json={"query_code": code, "reason": "仍未修好"}))
    assert reviewing["status"] == "under_review"

    decided = act(case_id, "review-decision", {"outcome": "revised", "opinion": "责令重修"},
                  supervisor)
    assert decided["case"]["status"] == "reviewed"

    # the audit trail: every event, in order, hash chain intact
    history = ok(http.get(f"/petitions/{case_id}/history", headers=auditor))
    types = [entry["type"] for entry in history["entries"]]
    assert types == ["Registered", "Accepted", "Delegated", "ExtensionRequested",
                     "DeadlineExtended", "Answered", "Delivered", "Rated", "ReviewRequested",
                     "ReviewDecided"]
    assert [entry["version"] for entry in history["entries"]] == list(range(1, 11))
    assert history["chain_valid"] is True and history["findings"] == []
    responses.append(json.dumps(history))

    # the case as the system knew it just after acceptance
    then = ok(http.get(f"/petitions/{case_id}/state",
                       params={"as_of": after_accept.isoformat()}, headers=auditor))
    assert then["case"]["status"] == "accepted" and then["case"]["version"] == 2
    now = ok(http.get(f"/petitions/{case_id}", headers=supervisor))
    assert now["status"] == "reviewed"
    responses.append(json.dumps(now))

    # a second case that nobody answers turns up in the overdue queue once its time is up
    late = ok(http.post("/petitions", json=register_body(subject="噪音扰民"), headers=intake),
              201)["case_id"]
    act(late, "accept", {"handling_track": "claim", "speed_track": "general"}, intake)
    act(late, "delegate", {"unit": STREET}, intake)
    queue = ok(http.get("/supervision/overdue", headers=supervisor))
    assert late not in {item["case_id"] for item in queue["items"]}
    clock.advance(timedelta(days=90))
    queue = ok(http.get("/supervision/overdue", headers=supervisor))
    assert late in {item["case_id"] for item in queue["items"]}
    assert case_id not in {item["case_id"] for item in queue["items"]}

    # the global feed: ordered envelopes, no personal data, no query code
    feed = ok(http.get("/events", params={"limit": 1000}, headers=auditor))
    positions = [item["position"] for item in feed["items"]]
    assert positions == sorted(positions) and len(set(positions)) == len(positions)
    assert [i["type"] for i in feed["items"] if i["case_id"] == case_id] == types
    assert feed["next_after"] == positions[-1] <= appended(api)
    text = json.dumps(feed, ensure_ascii=False)
    for secret in (*PETITIONER.values(), code):
        assert secret not in text
    assert all(item["data"].get("petitioner", "<redacted>") == "<redacted>"
               for item in feed["items"])
    more = ok(http.get("/events", params={"after": feed["next_after"]}, headers=auditor))
    assert more["items"] == []

    for body in responses:
        assert code not in body
        assert PETITIONER["id_number"] not in body and PETITIONER["phone"] not in body

    assert ok(http.get("/healthz")) == {"status": "ok"}
    ready = ok(http.get("/readyz"))
    assert ready["status"] == "ready" and ready["events"] == appended(api)
    assert {p["name"] for p in ready["projections"]} == {
        "case_view", "audit_trail", "supervision_queue", "analysis_facts"}


def test_petitioner_can_re_review_and_staff_list_their_cases(
    api: FastAPI, http: httpx.Client, staff: Staff, clock: ManualClock
) -> None:
    intake = staff.headers("intake", DISTRICT)
    handler = staff.headers("handler", STREET)
    city_supervisor = staff.headers("supervisor", CITY)
    registered = ok(http.post("/petitions", json=register_body(), headers=intake), 201)
    case_id, code = registered["case_id"], registered["query_code"]
    steps = [
        ("accept", {"handling_track": "claim", "speed_track": "simple"}, intake),
        ("delegate", {"unit": STREET}, intake),
        ("answer", {"answer": "已答复"}, handler),
    ]
    for action, body, who in steps:
        clock.advance(timedelta(hours=1))
        ok(http.post(f"/petitions/{case_id}/{action}", json=body, headers=who))
    clock.advance(timedelta(days=1))
    ok(http.post("/status/review", json={"query_code": code, "reason": "不服"}))
    ok(http.post(f"/petitions/{case_id}/review-decision",
                 json={"outcome": "upheld", "opinion": "维持", "unit": DISTRICT},
                 headers=city_supervisor))
    clock.advance(timedelta(days=1))
    again = ok(http.post("/status/review", json={"query_code": code, "reason": "仍不服"}))
    assert again["status"] == "under_re_review"
    final = ok(http.post(f"/petitions/{case_id}/re-review-decision",
                         json={"outcome": "upheld", "opinion": "终结"}, headers=city_supervisor))
    assert final["case"]["status"] == "re_reviewed"
    assert ok(http.post("/status", json={"query_code": code}))["status"] == "re_reviewed"

    listed = ok(http.get("/petitions", params={"status": "re_reviewed"}, headers=intake))
    assert [item["case_id"] for item in listed["items"]] == [case_id]
