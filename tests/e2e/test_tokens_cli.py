"""`petition token issue|revoke|list` as an operator runs them, and the tokens at the API."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.http.app import create_app
from adapters.settings import Settings
from domain.api_token import ApiToken
from tests.e2e.conftest import DISTRICT, bearer, register_body
from tests.e2e.test_cli import run
from workflows.access import Role
from workflows.clock import ManualClock


def test_issue_use_list_and_revoke(settings: Settings) -> None:
    issued = json.loads(run(settings, "token", "issue", "--role", "intake", "--unit", DISTRICT,
                            "--label", "窗口 3", "--json").stdout)
    token, token_id = issued["token"], issued["token_id"]
    assert token.startswith("pt_") and len(token) > 40
    assert issued["role"] == "intake" and issued["unit"] == DISTRICT
    readable = run(settings, "token", "issue", "--role", "auditor", "--unit", "QH", "--pii")
    assert "shown once" in readable.stdout and "pt_" in readable.stdout

    api = create_app(dataclasses.replace(settings, supervision_interval=0))
    try:
        with TestClient(api) as client:
            assert client.post("/petitions", json=register_body(),
                               headers=bearer(token)).status_code == 201

            listed = json.loads(run(settings, "token", "list", "--json").stdout)
            assert [(t["role"], t["unit"], t["revoked"]) for t in listed] == [
                ("intake", DISTRICT, False), ("auditor", "QH", False)]
            assert listed[0]["label"] == "窗口 3" and listed[1]["pii"] is True
            assert token not in json.dumps(listed)  # only the hash was kept

            done = run(settings, "token", "revoke", token_id)
            assert token_id in done.stdout
            refused = client.post("/petitions", json=register_body(), headers=bearer(token))
            assert refused.status_code == 401 and refused.json()["message"] == "token revoked"
            listed = json.loads(run(settings, "token", "list", "--json").stdout)
            assert [t["revoked"] for t in listed] == [True, False]
    finally:
        api.state.engine.app.close()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_refused_issues_and_revokes(settings: Settings) -> None:
    unknown = run(settings, "token", "issue", "--role", "intake", "--unit", "XX-99", expect=3)
    assert "XX-99" in unknown.stderr
    run(settings, "token", "issue", "--role", "handler", "--unit", DISTRICT, "--proxy",
        expect=3)
    run(settings, "token", "issue", "--role", "mayor", "--unit", DISTRICT, expect=2)
    gone = run(settings, "token", "revoke", "00000000-0000-0000-0000-000000000000", expect=3)
    assert "no token with id" in gone.stderr
    assert json.loads(run(settings, "token", "list", "--json").stdout) == []


@pytest.mark.parametrize("backend", ["sqlite"])
def test_tokens_expire_180_days_after_issue_unless_told_otherwise(settings: Settings) -> None:
    default = json.loads(run(settings, "token", "issue", "--role", "intake", "--unit", DISTRICT,
                             "--json").stdout)
    short = json.loads(run(settings, "token", "issue", "--role", "auditor", "--unit", "QH",
                           "--expires-in", "12h", "--json").stdout)
    listed = {t["token_id"]: t for t in json.loads(run(settings, "token", "list",
                                                       "--json").stdout)}
    first, second = listed[default["token_id"]], listed[short["token_id"]]
    assert first["expires_at"] == default["expires_at"] and second["expired"] is False
    lived = (datetime.fromisoformat(first["expires_at"])
             - datetime.fromisoformat(first["issued_at"]))
    assert lived == timedelta(days=180)
    assert (datetime.fromisoformat(second["expires_at"])
            - datetime.fromisoformat(second["issued_at"])) == timedelta(hours=12)
    for wrong in ("0m", "3651d", "forever", "-5d"):
        run(settings, "token", "issue", "--role", "intake", "--unit", DISTRICT,
            "--expires-in", wrong, expect=(2 if wrong in ("forever", "-5d") else 3))


@pytest.mark.parametrize("backend", ["sqlite"])
def test_an_expired_token_is_401(api: FastAPI, clock: ManualClock) -> None:
    tokens = api.state.engine.tokens
    issued = tokens.issue(Role.INTAKE, DISTRICT, expires_in=timedelta(days=1))
    with TestClient(api) as client:
        assert client.get("/petitions", headers=bearer(issued.token)).status_code == 200
        clock.advance(timedelta(days=1))
        refused = client.get("/petitions", headers=bearer(issued.token))
        assert refused.status_code == 401
        assert refused.json() == {"error": "unauthenticated", "message": "token expired"}


def test_a_token_issued_before_expiry_existed_expires_180_days_after_issue() -> None:
    issued_at = datetime(2026, 1, 1, tzinfo=UTC)
    legacy = ApiToken(token_hash="h", role="intake", unit=DISTRICT, pii=False, proxy=False,
                      label="", at=issued_at)  # the Issued event of old carries no expiry
    assert legacy.expires_at == issued_at + timedelta(days=180)
    assert not legacy.expired(issued_at + timedelta(days=179))
    assert legacy.expired(issued_at + timedelta(days=180))
