"""Drives the citizen pages like a browser without one: keeps cookies, reads the CSRF token
from each page, reads the phone code from the outbox (the embedded notifier)."""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.outbox import Outbox
from tests.e2e.conftest import ID_NUMBER, STREET

FORM = {"subject": "路灯不亮", "content": "文昌街道第一社区的路灯已经坏了两个月。",
        "category": "urban_management", "place": f"QH-D01/{STREET}", "name": "欧阳紫霞",
        "id_number": ID_NUMBER, "phone": "13975318642"}


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name} on the page"
    return match.group(1)


def latest_code(api: FastAPI) -> str:
    engine = api.state.engine
    message = Outbox(engine.settings, engine.app.mapper.cipher).list(1)[0]
    match = re.search(r"\b(\d{6})\b", message.message)
    assert match
    return match.group(1)


class Citizen:
    def __init__(self, client: TestClient, api: FastAPI):
        self.client, self.api = client, api

    def post(self, path: str, page: str, data: dict[str, Any]) -> Any:
        """Opens ``page``, then posts ``data`` with the CSRF token it rendered."""
        token = hidden(self.client.get(page).text, "csrf")
        return self.client.post(path, data={"csrf": token, **data})

    def start(self, **overrides: str) -> Any:
        return self.post("/citizen/file", "/citizen/file", {**FORM, **overrides})

    def verify(self, started: Any, code: str | None = None) -> Any:
        return self.client.post("/citizen/verify", data={
            "csrf": hidden(started.text, "csrf"), "draft": hidden(started.text, "draft"),
            "code": code if code is not None else latest_code(self.api)})

    def file(self, **overrides: str) -> str:
        """Files a petition and returns its query code from the receipt."""
        receipt = self.verify(self.start(**overrides))
        assert receipt.status_code == 200, receipt.text
        match = re.search(r'id="query-code">([^<]+)<', receipt.text)
        assert match, receipt.text
        return match.group(1)

    def follow(self, code: str) -> Any:
        return self.post("/citizen/follow", "/citizen", {"query_code": code})

    def act(self, action: str, data: dict[str, str]) -> Any:
        return self.post(f"/citizen/case/{action}", "/citizen/case", data)
