"""Video reception and leaders' reception days over HTTP, on both stores: staff publish slots;
the petitioner sees the open ones, books and cancels with the query code in the body; the
history shows each step, the envelope carries it without personal data, the reception held is
recorded by staff, and the leadership indicator counts it."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.e2e.conftest import DISTRICT, OTHER_DISTRICT, PETITIONER, Staff, appended, register_body
from workflows.clock import ManualClock


def test_publish_book_cancel_and_record(api: FastAPI, client: TestClient, staff: Staff,
                                        clock: ManualClock) -> None:
    intake = staff.headers("intake", DISTRICT)
    start = clock.now() + timedelta(days=2)
    slots = []
    for n, unit in enumerate((DISTRICT, DISTRICT, OTHER_DISTRICT)):
        body = {"actor": "x", "unit": unit, "leader": f"王区长{n}", "mode": "video",
                "starts_at": (start + timedelta(hours=n)).isoformat(),
                "ends_at": (start + timedelta(hours=n, minutes=30)).isoformat()}
        headers = intake if unit == DISTRICT else staff.headers("admin", OTHER_DISTRICT)
        published = client.post("/receptions/slots", json=body, headers=headers)
        assert published.status_code == 201, published.text
        slots.append(published.json()["slot_id"])
    again = client.post("/receptions/slots", json=body, headers=headers)
    assert again.status_code == 422 and again.json()["error"] == "rule_violated"

    registered = client.post("/petitions", json=register_body(), headers=intake).json()
    code, case_id = registered["query_code"], registered["case_id"]
    mine = client.post("/status/reception", json={"query_code": code})
    assert mine.status_code == 200 and mine.json()["booking"] is None
    assert [s["slot_id"] for s in mine.json()["open_slots"]] == slots[:2]  # not QH-D02's
    assert "case_id" not in mine.json()["open_slots"][0]  # no other petitioner's case

    booked = client.post("/status/reception/book", json={"query_code": code,
                                                         "slot_id": slots[0]})
    assert booked.status_code == 200, booked.text
    assert booked.json()["booking"]["slot_id"] == slots[0]
    before = appended(api)
    second = client.post("/status/reception/book", json={"query_code": code,
                                                         "slot_id": slots[1]})
    assert second.status_code == 409 and appended(api) == before  # one booking at a time
    listed = client.get("/receptions/slots", headers=intake).json()["items"]
    assert [(s["booked"], s["case_id"]) for s in listed] == [(True, case_id), (False, None)]

    other = client.post("/petitions", json=register_body(), headers=intake).json()["query_code"]
    taken = client.post("/status/reception/book", json={"query_code": other,
                                                        "slot_id": slots[0]})
    assert taken.status_code == 422 and "already booked" in taken.json()["message"]

    cancelled = client.post("/status/reception/cancel", json={"query_code": code,
                                                              "reason": "改期"})
    assert cancelled.status_code == 200 and cancelled.json()["booking"] is None
    assert client.post("/status/reception/book", json={"query_code": other,
                                                       "slot_id": slots[0]}).status_code == 200
    wrong = client.post("/status/reception", json={"query_code": "ABCD-EFGH-JKLM"})
    assert wrong.status_code == 404

    clock.advance(timedelta(days=2, minutes=10))
    held = client.post(f"/petitions/{case_id}/record-reception", headers=intake,
                       json={"leader": "王区长0", "mode": "video", "outcome": "当场协调"})
    assert held.status_code == 200, held.text
    history = client.get(f"/petitions/{case_id}/history", headers=intake).json()
    assert [e["type"] for e in history["entries"]][-3:] == [
        "ReceptionBooked", "ReceptionCancelled", "ReceptionHeld"]
    admin = staff.headers("admin", DISTRICT)
    feed = client.get("/events", headers=admin).text
    assert "ReceptionHeld" in feed and PETITIONER["phone"] not in feed
    assert PETITIONER["name"] not in feed

    # the petitioner's /status: the public parts of each step (unit, mode, start, outcome),
    # never the leader's name, the slot id or a cancellation's reason
    steps = client.post("/status", json={"query_code": code}).json()["steps"]
    assert [s["type"] for s in steps] == ["Registered", "ReceptionBooked",
                                          "ReceptionCancelled", "ReceptionHeld"]
    booked_step, cancelled_step, held_step = steps[1:]
    assert booked_step["fields"] == {"unit": DISTRICT, "mode": "video",
                                     "starts_at": start.isoformat()}
    assert cancelled_step["fields"] == {}
    assert held_step["fields"] == {"unit": DISTRICT, "mode": "video", "outcome": "当场协调"}
    assert held_step["at"] == clock.now().isoformat()
    shown = json.dumps(steps, ensure_ascii=False)
    assert "王区长" not in shown and slots[0] not in shown and "改期" not in shown
