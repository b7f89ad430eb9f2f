"""The HTTP API under test: one app per test on the parametrised store, with a hand-moved clock.

``api`` is the FastAPI app with the read models running in process; use it through
``with TestClient(api)`` or through ``live_url``, a real uvicorn server on a free loopback port.
``staff`` issues tokens for the demo city's units (adapters/data/demo_units.csv).
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.http.app import create_app
from adapters.settings import Settings
from tests.integration.helpers import numbered_id_number
from workflows.access import Role
from workflows.clock import ManualClock
from workflows.commands import id_number_check_char
from workflows.proxy_agents import enrol_generated_agent, generated_agent_id

DISTRICT, OTHER_DISTRICT = "QH-D01", "QH-D02"
STREET, OTHER_STREET = "QH-D01-S01", "QH-D02-S01"
CITY = "QH"

ID_NUMBER = "11010519900307123" + id_number_check_char("11010519900307123")
PETITIONER = {"name": "欧阳紫霞", "id_number": ID_NUMBER, "phone": "13975318642"}


def another_petitioner(n: int) -> dict[str, str]:
    """The n-th of distinct petitioners (valid GB 11643 numbers): prepared cases that must not
    count as the same person's repeat on a concluded matter (不再受理) use one each."""
    return {**PETITIONER, "id_number": numbered_id_number(n)}


def register_body(**overrides: Any) -> dict[str, Any]:
    """A valid POST /petitions body received at QH-D01 about a street of it."""
    body: dict[str, Any] = {
        "channel": "letter",
        "subject": "路灯不亮",
        "content": "文昌街道第一社区的路灯已经坏了两个月。",
        "category": "城建",
        "location": {"district": DISTRICT, "street": STREET, "address": "文昌路 12 号"},
        "petitioner": dict(PETITIONER),
        "received_by": DISTRICT,
    }
    body.update(overrides)
    if body.get("proxy_agent") and "entrustment" not in body:  # an agent files: 委托书
        body["entrustment"] = {"form": "entrusted", "grid": STREET + "-C01-G01",
                               "scope": ["file", "follow", "review"],
                               "valid_until": "2099-01-01T00:00:00+08:00"}
    return body


PROXY_AGENT = generated_agent_id("e2e-proxy")  # a proxy agent, once ``enrol_proxy`` ran


def enrol_proxy(api: FastAPI, token: str | None = None) -> str:
    """Enrols ``PROXY_AGENT`` in the roster, signing in with the token of id ``token``."""
    app = api.state.engine.app
    return enrol_generated_agent(app, "e2e-proxy", STREET, app.clock.now(), token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def appended(api: FastAPI) -> int:
    """The log's end: compare before and after a request to see whether it appended."""
    return api.state.engine.app.recorder.max_notification_id() or 0


class Staff:
    """Issues tokens straight through the token service and returns request headers."""

    def __init__(self, api: FastAPI):
        self.tokens = api.state.engine.tokens
        self.issued: list[str] = []  # every secret handed out, for the log scan

    def headers(self, role: str, unit: str, *, pii: bool = False,
                proxy: bool = False) -> dict[str, str]:
        issued = self.tokens.issue(Role(role), unit, pii=pii, proxy=proxy)
        self.issued.append(issued.token)
        return bearer(issued.token)

    def revoked(self, role: str, unit: str) -> dict[str, str]:
        issued = self.tokens.issue(Role(role), unit)
        self.tokens.revoke(issued.token_id)
        self.issued.append(issued.token)
        return bearer(issued.token)


@pytest.fixture
def api(settings: Settings, clock: ManualClock) -> Iterator[FastAPI]:
    """The service without its supervision timer: only requests append, so tests can count."""
    quiet = dataclasses.replace(settings, supervision_interval=0)
    application = create_app(quiet, clock=clock, run_projections=True)
    yield application
    application.state.engine.app.close()


@pytest.fixture
def client(api: FastAPI) -> Iterator[TestClient]:
    with TestClient(api) as test_client:
        yield test_client


@pytest.fixture
def staff(api: FastAPI) -> Staff:
    return Staff(api)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """uvicorn serving ``api`` in a thread of this process until ``stop``."""

    def __init__(self, api: FastAPI, *, access_log: bool = False):
        self.port = free_port()
        config = uvicorn.Config(api, host="127.0.0.1", port=self.port, log_config=None,
                                access_log=access_log, lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        assert not self.thread.is_alive(), "uvicorn did not stop"


@pytest.fixture
def live_url(api: FastAPI) -> Iterator[str]:
    server = LiveServer(api).start()
    yield server.url
    server.stop()
