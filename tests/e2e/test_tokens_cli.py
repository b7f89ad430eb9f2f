"""`petition token issue|revoke|list` as an operator runs them, and the tokens at the API."""

from __future__ import annotations

import dataclasses
import json

import pytest
from fastapi.testclient import TestClient

from adapters.http.app import create_app
from adapters.settings import Settings
from tests.e2e.conftest import DISTRICT, bearer, register_body
from tests.e2e.test_cli import run


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
