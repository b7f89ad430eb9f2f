"""Over HTTP: a petition on a matter the same petitioner already took through re-review (复核,
终结) is registered with the flag and the registration's answer says so, naming the earlier
case; intake then decides it (不再受理) with ``concluded-matter``."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.e2e.conftest import DISTRICT, PETITIONER, Staff, register_body
from tests.integration.helpers import register_command, run_steps
from workflows.clock import ManualClock

AGAIN = {"subject": "路灯还是不亮", "content": "文昌街道第一社区的路灯已经坏了两个月，仍未修好。"}


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    return response.json()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_registration_names_the_concluded_matter_and_intake_declines_it(
        api: FastAPI, client: TestClient, staff: Staff, clock: ManualClock) -> None:
    app = api.state.engine.app
    earlier = app.register(register_command(petitioner=dict(PETITIONER))).case_id
    run_steps(app, clock, earlier, until="re-review-decision")
    intake = staff.headers("intake", DISTRICT)

    other = ok(client.post("/petitions", json=register_body(
        subject="噪音扰民", category="environment", content="夜间施工噪音。"), headers=intake), 201)
    assert other["concluded_flag"] is None
    again = ok(client.post("/petitions", json=register_body(**AGAIN), headers=intake), 201)
    assert again["concluded_flag"] == str(earlier) and again["status"] == "registered"
    case_id = again["case_id"]
    shown = ok(client.get(f"/petitions/{case_id}", headers=intake))
    assert shown["concluded_flag"] == str(earlier)
    assert "concluded-matter" in shown["allowed_commands"]
    waiting = ok(client.get("/petitions", params={"concluded_flag": "true"}, headers=intake))
    assert [(row["case_id"], row["concluded_flag"]) for row in waiting["items"]] == [
        (case_id, str(earlier))]  # intake's queue of flags to decide

    refused = client.post(f"/petitions/{case_id}/accept", headers=intake,
                          json={"handling_track": "claim", "speed_track": "general"})
    assert refused.status_code == 409 and "concluded" in refused.text
    declined = ok(client.post(f"/petitions/{case_id}/concluded-matter", headers=intake,
                              json={"decision": "decline_concluded",
                                    "reason": "复核终结，不再受理"}))
    assert declined["case"]["status"] == "declined"
    waiting = ok(client.get("/petitions", params={"concluded_flag": "true"}, headers=intake))
    assert waiting["items"] == []
    history = ok(client.get(f"/petitions/{case_id}/history", headers=intake))["entries"]
    assert [h["type"] for h in history] == ["Registered", "ConcludedMatterFlagged",
                                            "ConcludedMatterDecided"]
