"""Refusals over HTTP, for every action route: each has its status code, says why, appends nothing.

Also lost races (409, retry succeeds) and Idempotency-Key retries, including across a restart.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.http.app import create_app
from adapters.settings import Settings
from adapters.wiring import build_application
from tests.e2e.conftest import (
    CITY,
    DISTRICT,
    PROXY_AGENT,
    STREET,
    Staff,
    appended,
    register_body,
)
from workflows import commands as c
from workflows.clock import ManualClock

# A body each action accepts when the case's state allows it (the server fills in the rest).
VALID_BODIES: dict[str, dict[str, Any]] = {
    "accept": {"handling_track": "claim", "speed_track": "general"},
    "decline": {"reason": "属诉讼事项", "redirect_to": "litigation"},
    "concluded-matter": {"decision": "accept_anyway", "reason": "有新的事实"},
    "delegate": {"unit": STREET},
    "escalate": {"unit": CITY, "reason": "跨区事项"},
    "extend-request": {"days": 10, "reason": "需要勘查"},
    "extend": {"days": 10, "reason": "同意"},
    "supervise": {"level": "reminder", "reason": "进度缓慢"},
    "entrust": {"agent": PROXY_AGENT, "form": "entrusted", "grid": STREET + "-C01-G01",
                "scope": ["follow"], "valid_until": "2099-01-01T00:00:00+08:00"},
    "revoke-entrustment": {"reason": "信访人撤销委托"},
    "chase-proxy-contact": {"rung": "agent_reminder"},
    "suggest": {"kind": "improve_work", "unit": STREET, "text": "建议改进工作方法"},
    "respond-suggestion": {"number": 1, "unit": STREET, "response": "已改进"},
    "assign-proxy": {"agent": PROXY_AGENT},
    "log-proxy-contact": {"agent": PROXY_AGENT, "mode": "phone"},
    "add-co-petitioner": {"name": "李四", "id_number": "440305198706230016",
                          "phone": "13900001111", "representative": True},
    "record-reception": {"leader": "王区长", "outcome": "当面听取诉求", "unit": DISTRICT},
    "remind-reception": {},
    "answer": {"answer": "已答复", "unit": STREET},
    "deliver": {"channel": "post"},
    "rate": {"attitude": "satisfied", "efficiency": "satisfied", "quality": "satisfied"},
    "confirm-answer": {"reason": "答复并无不当"},
    "review": {"reason": "不服"},
    "review-decision": {"outcome": "upheld", "opinion": "维持", "unit": DISTRICT},
    "re-review": {"reason": "仍不服"},
    "re-review-decision": {"outcome": "upheld", "opinion": "维持", "unit": CITY},
    "close": {"summary": "办结"},
    "reopen": {"reason": "重新办理"},
    "withdraw": {"reason": "已自行解决"},
}
ACTIONS = sorted(VALID_BODIES)
# A field of each body with a value of the wrong kind, and what the 422 must name.
BAD_FIELD: dict[str, tuple[str, Any]] = {
    "accept": ("speed_track", "gossip"), "decline": ("redirect_to", "nowhere"),
    "concluded-matter": ("decision", "maybe"),
    "delegate": ("unit", ""), "escalate": ("reason", ""), "extend-request": ("days", 0),
    "extend": ("days", 1000), "supervise": ("level", "shout"), "assign-proxy": ("agent", ""),
    "entrust": ("form", "whim"), "revoke-entrustment": ("reason", ""),
    "chase-proxy-contact": ("rung", "shout"), "suggest": ("kind", "praise"),
    "respond-suggestion": ("number", 0),
    "log-proxy-contact": ("mode", "pigeon"), "answer": ("answer", ""),
    "add-co-petitioner": ("id_number", "123"), "record-reception": ("mode", "hologram"),
    "remind-reception": ("slot_id", ""),
    "rate": ("quality", "meh"), "confirm-answer": ("reason", "  "), "deliver": ("channel", "owl"),
    "review": ("reason", "x" * 501),
    "review-decision": ("outcome", "maybe"), "re-review": ("reason", ""),
    "re-review-decision": ("outcome", 3), "close": ("summary", ""), "reopen": ("reason", []),
    "withdraw": ("reason", None),
}


def test_every_action_route_is_covered(api: FastAPI) -> None:
    paths = api.openapi()["paths"]
    actions = {path.rsplit("/", 1)[1] for path, methods in paths.items()
               if path.startswith("/petitions/{case_id}/") and "post" in methods}
    from tests.e2e.test_later_attachments import UPLOAD_ROLES  # multipart: covered there
    from workflows.command_table import COMMANDS

    assert set(UPLOAD_ROLES) == {spec.action for spec in COMMANDS if spec.upload}
    assert actions == set(ACTIONS) | set(UPLOAD_ROLES)


@pytest.fixture
def admin(staff: Staff) -> dict[str, str]:
    return staff.headers("admin", CITY)


def register(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post("/petitions", json=register_body(), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["case_id"]


def same_answer(again: Any, first: Any) -> None:
    """A replay answers as the first call did; only ``position`` may have moved on (it is the
    log's end at the retry, still enough to wait for the first call's writes)."""
    assert again.status_code == first.status_code
    assert {**again.json(), "position": 0} == {**first.json(), "position": 0}
    assert again.json()["position"] >= first.json()["position"]


def refused(api: FastAPI, client: TestClient, path: str, body: Any, headers: dict[str, str],
            status: int) -> dict[str, Any]:
    before = appended(api)
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == status, (path, response.status_code, response.text)
    assert appended(api) == before, f"{path} appended on a {status}"
    return response.json()


@pytest.fixture
def withdrawn(client: TestClient, admin: dict[str, str], clock: ManualClock) -> str:
    """A withdrawn case: no action is legal on it any more."""
    case_id = register(client, admin)
    clock.advance(timedelta(hours=1))
    response = client.post(f"/petitions/{case_id}/withdraw", json={"reason": "撤回"},
                           headers=admin)
    assert response.status_code == 200, response.text
    return case_id


@pytest.mark.parametrize("backend", ["sqlite"])
def test_invalid_bodies_are_422_naming_field_and_reason(
    api: FastAPI, client: TestClient, admin: dict[str, str], staff: Staff
) -> None:
    case_id = register(client, admin)
    for action in ACTIONS:
        path = f"/petitions/{case_id}/{action}"
        field, value = BAD_FIELD[action]
        out = refused(api, client, path, {**VALID_BODIES[action], field: value}, admin, 422)
        assert out["error"] == "invalid_request"
        assert field in {p["field"] for p in out["problems"]}, out
        assert all(p["reason"] for p in out["problems"])
        out = refused(api, client, path, {**VALID_BODIES[action], "surprise": 1}, admin, 422)
        assert {"field": "surprise", "reason": "Extra inputs are not permitted"} in out["problems"]
        refused(api, client, path, "not an object", admin, 422)
    out = refused(api, client, "/petitions", register_body(petitioner={
        "name": "张三", "id_number": "110105194912310021", "phone": "13800000000"}), admin, 422)
    assert out["problems"][0]["field"] == "petitioner.id_number"
    assert "GB 11643" in out["problems"][0]["reason"]


def test_illegal_transitions_are_409_naming_state_and_allowed_actions(
    api: FastAPI, client: TestClient, admin: dict[str, str], withdrawn: str
) -> None:
    fresh = register(client, admin)
    for action in ACTIONS:
        out = refused(api, client, f"/petitions/{withdrawn}/{action}", VALID_BODIES[action],
                      admin, 409)
        assert out["error"] == "illegal_transition"
        assert out["state"] == "withdrawn" and out["allowed_actions"] == []
        assert "withdrawn" in out["message"]
    for action in sorted(set(ACTIONS) - {"accept", "decline", "supervise", "assign-proxy",
                                         "log-proxy-contact", "add-co-petitioner", "withdraw",
                                         "entrust", "revoke-entrustment", "chase-proxy-contact",
                                         "suggest", "respond-suggestion", "record-reception",
                                         "remind-reception"}):
        out = refused(api, client, f"/petitions/{fresh}/{action}", VALID_BODIES[action],
                      admin, 409)
        assert out["state"] == "registered"
        assert {"accept", "decline", "withdraw"} <= set(out["allowed_actions"])
        assert action not in out["allowed_actions"]


def test_unknown_cases_are_404(api: FastAPI, client: TestClient, admin: dict[str, str]) -> None:
    missing = uuid4()
    for action in ACTIONS:
        out = refused(api, client, f"/petitions/{missing}/{action}", VALID_BODIES[action],
                      admin, 404)
        assert out["error"] == "not_found" and str(missing) in out["message"]
    for path in (f"/petitions/{missing}", f"/petitions/{missing}/history"):
        assert client.get(path, headers=admin).status_code == 404
    not_a_case = client.get("/petitions/not-a-uuid", headers=admin)
    assert not_a_case.status_code == 422


@pytest.mark.parametrize("backend", ["sqlite"])
def test_wrong_role_is_403_and_appends_nothing(
    api: FastAPI, client: TestClient, admin: dict[str, str], staff: Staff
) -> None:
    case_id = register(client, admin)
    auditor = staff.headers("auditor", CITY, pii=True)  # reads everything, changes nothing
    for action in ACTIONS:
        out = refused(api, client, f"/petitions/{case_id}/{action}", VALID_BODIES[action],
                      auditor, 403)
        assert out["error"] == "forbidden"
    refused(api, client, "/petitions", register_body(), auditor, 403)


def _race_the_other_worker(api: FastAPI, settings: Settings, clock: ManualClock,
                           case_id: str, wins: int) -> tuple[Any, dict[str, int]]:
    """Another worker on the same store appends to the case just before each of this
    process's next ``wins`` saves (a reminder each time); returns it and what it saw."""
    other = build_application(settings, clock=clock)
    engine_app = api.state.engine.app
    real_save = engine_app.save
    seen = {"other_wrote": 0}

    def save_after_the_other_worker(*objects: Any, **kwargs: Any) -> Any:
        if seen["other_wrote"] < wins:
            other.execute(c.IssueSupervision(case_id=UUID(case_id), actor="other-worker",
                                               level="reminder", reason="催办"))
            seen["other_wrote"] += 1
            seen["after_other"] = appended(api)
        return real_save(*objects, **kwargs)

    engine_app.save = save_after_the_other_worker
    return other, seen


def test_a_race_lost_once_is_decided_again_on_the_stored_case(
    api: FastAPI, client: TestClient, admin: dict[str, str], settings: Settings,
    clock: ManualClock
) -> None:
    """The command decided on this process's cached case loses to the other worker's write;
    it is decided once more on the stored case (as a fresh read would have) and succeeds."""
    case_id = register(client, admin)
    clock.advance(timedelta(hours=1))
    other, seen = _race_the_other_worker(api, settings, clock, case_id, wins=1)
    try:
        response = client.post(f"/petitions/{case_id}/accept", json=VALID_BODIES["accept"],
                               headers=admin)
        assert response.status_code == 200, response.text
        assert seen["other_wrote"] == 1
        stored = [type(e).__name__ for e in api.state.engine.app.events.get(UUID(case_id))]
        assert stored == ["Registered", "SupervisionIssued", "Accepted"], stored
        assert response.json()["version"] == 3
    finally:
        del api.state.engine.app.save
        other.close()


def test_a_lost_race_is_409_appends_nothing_and_the_retry_succeeds(
    api: FastAPI, client: TestClient, admin: dict[str, str], settings: Settings,
    clock: ManualClock
) -> None:
    """Lost twice (on the cached case, then on the stored one): 409, nothing appended by this
    request; the client's retry succeeds."""
    case_id = register(client, admin)
    clock.advance(timedelta(hours=1))
    other, seen = _race_the_other_worker(api, settings, clock, case_id, wins=2)
    try:
        response = client.post(f"/petitions/{case_id}/accept", json=VALID_BODIES["accept"],
                               headers=admin)
        assert response.status_code == 409, response.text
        assert response.json()["error"] == "concurrent_modification"
        assert response.json()["retry"] is True
        assert seen["other_wrote"] == 2
        assert appended(api) == seen["after_other"]  # only the other worker's events
        retried = client.post(f"/petitions/{case_id}/accept", json=VALID_BODIES["accept"],
                              headers=admin)
        assert retried.status_code == 200, retried.text
        assert retried.json()["version"] == 4  # registered, two reminders, accepted
        assert retried.json()["case"]["status"] == "accepted"
    finally:
        del api.state.engine.app.save
        other.close()


class TestIdempotencyKey:
    def test_a_retried_registration_returns_the_first_response_and_appends_nothing(
        self, api: FastAPI, client: TestClient, staff: Staff
    ) -> None:
        intake = {**staff.headers("intake", DISTRICT), "Idempotency-Key": "reg-0001"}
        first = client.post("/petitions", json=register_body(), headers=intake)
        assert first.status_code == 201, first.text
        before = appended(api)
        again = client.post("/petitions", json=register_body(), headers=intake)
        same_answer(again, first)  # the same case and the same query code
        assert appended(api) == before
        other_key = client.post("/petitions", json=register_body(),
                                headers={**intake, "Idempotency-Key": "reg-0002"})
        assert other_key.json()["case_id"] != first.json()["case_id"]

    def test_a_retried_action_returns_the_first_response_and_appends_nothing(
        self, api: FastAPI, client: TestClient, admin: dict[str, str], clock: ManualClock
    ) -> None:
        case_id = register(client, admin)
        keyed = {**admin, "Idempotency-Key": "accept-1"}
        path = f"/petitions/{case_id}/accept"
        first = client.post(path, json=VALID_BODIES["accept"], headers=keyed)
        assert first.status_code == 200, first.text
        before = appended(api)
        again = client.post(path, json=VALID_BODIES["accept"], headers=keyed)
        same_answer(again, first)
        assert appended(api) == before

        # the case moves on; the retry still answers with the case as the first call left it
        clock.advance(timedelta(hours=1))
        client.post(f"/petitions/{case_id}/delegate", json=VALID_BODIES["delegate"],
                    headers=admin)
        before = appended(api)
        late = client.post(path, json=VALID_BODIES["accept"], headers=keyed)
        assert late.status_code == 200 and appended(api) == before
        assert late.json()["version"] == 2 and late.json()["case"]["version"] == 2
        assert late.json()["case"]["status"] == "accepted"

    def test_the_same_key_with_another_body_is_422(
        self, api: FastAPI, client: TestClient, admin: dict[str, str]
    ) -> None:
        keyed = {**admin, "Idempotency-Key": "k-1"}
        case_id = register(client, keyed)
        out = refused(api, client, "/petitions", register_body(subject="别的事"), keyed, 422)
        assert out["error"] == "idempotency_key_reused"
        keyed_action = {**admin, "Idempotency-Key": "k-2"}
        path = f"/petitions/{case_id}/accept"
        assert client.post(path, json=VALID_BODIES["accept"], headers=keyed_action
                           ).status_code == 200
        out = refused(api, client, path, {**VALID_BODIES["accept"], "speed_track": "simple"},
                      keyed_action, 422)
        assert out["error"] == "idempotency_key_reused"

    def test_keys_survive_a_restart(self, settings: Settings, clock: ManualClock) -> None:
        settings = dataclasses.replace(settings, supervision_interval=0)
        first_api = create_app(settings, clock=clock, run_projections=True)
        token = first_api.state.engine.tokens.issue("intake", DISTRICT).token
        keyed = {"Authorization": f"Bearer {token}", "Idempotency-Key": "restart-1"}
        keyed_action = {**keyed, "Idempotency-Key": "restart-2"}
        with TestClient(first_api) as client:
            registered = client.post("/petitions", json=register_body(), headers=keyed)
            case_id = registered.json()["case_id"]
            accepted = client.post(f"/petitions/{case_id}/accept", json=VALID_BODIES["accept"],
                                   headers=keyed_action)
            assert accepted.status_code == 200, accepted.text
        first_api.state.engine.app.close()

        second_api = create_app(settings, clock=clock, run_projections=True)
        try:
            with TestClient(second_api) as client:
                before = appended(second_api)
                same_answer(client.post("/petitions", json=register_body(), headers=keyed),
                            registered)
                again = client.post(f"/petitions/{case_id}/accept",
                                    json=VALID_BODIES["accept"], headers=keyed_action)
                same_answer(again, accepted)
                assert appended(second_api) == before
        finally:
            second_api.state.engine.app.close()

