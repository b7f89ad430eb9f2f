"""The query-code throttle counts the connection's address, not a header the client chooses.

Issue 10, item 4: uvicorn believes X-Forwarded-For from 127.0.0.1 by default, so rotating the
header bought 10,000 guesses. ``petition serve`` now believes it only from the proxies listed in
PETITION_TRUSTED_PROXIES (none by default); and the throttle's memory is bounded.
"""

from __future__ import annotations

import dataclasses
import threading
import time

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from adapters.cli.serve_command import server_config
from adapters.settings import Settings
from adapters.throttle import QueryCodeThrottle, SlidingWindow, Throttled
from tests.e2e.conftest import free_port


@dataclasses.dataclass
class Served:
    url: str
    server: uvicorn.Server
    thread: threading.Thread


def _serve(api: FastAPI, settings: Settings) -> Served:
    port = free_port()
    server = uvicorn.Server(server_config(api, settings, host="127.0.0.1", port=port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    return Served(f"http://127.0.0.1:{port}", server, thread)


def _guesses(api: FastAPI, settings: Settings, count: int) -> list[int]:
    api.state.engine.throttle = QueryCodeThrottle(per_client=30, per_code_failures=5)
    served = _serve(api, settings)
    try:
        with httpx.Client(base_url=served.url, timeout=30) as http:
            return [http.post("/status", json={"query_code": f"WRNG-CODE-{n:04d}"},
                              headers={"X-Forwarded-For": f"198.51.100.{n % 250}"}).status_code
                    for n in range(count)]
    finally:
        served.server.should_exit = True
        served.thread.join(timeout=20)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_rotated_forwarded_header_buys_no_guesses(api: FastAPI, settings: Settings) -> None:
    assert settings.trusted_proxies == ()
    statuses = _guesses(api, settings, 40)
    assert statuses[:30] == [404] * 30
    assert set(statuses[30:]) == {429}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_listed_proxy_is_believed(api: FastAPI, settings: Settings) -> None:
    behind_proxy = dataclasses.replace(settings, trusted_proxies=("127.0.0.1",))
    assert set(_guesses(api, behind_proxy, 40)) == {404}  # 40 clients, one guess each


def test_trusted_proxies_are_read_from_the_environment() -> None:
    env = {"PETITION_TRUSTED_PROXIES": " 10.0.0.1, 10.1.0.0/16 ,"}
    assert Settings.from_env(env).trusted_proxies == ("10.0.0.1", "10.1.0.0/16")
    assert Settings.from_env({}).trusted_proxies == ()


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_throttle_remembers_a_bounded_number_of_clients() -> None:
    ticks = Ticks()
    window = SlidingWindow(limit=1, seconds=60, clock=ticks, max_keys=20_000)
    for n in range(100_000):
        window.hit(f"client-{n}")
        ticks.now += 0.0001
    assert len(window) == 20_000
    with pytest.raises(Throttled):  # the most recent clients are still held to their limit
        window.check("client-99999")
    window.check("client-0")  # the least recent was forgotten first
    ticks.now += 61
    window.hit("late")
    assert len(window) == 1  # expired clients go as the window moves on


def test_idle_clients_leave_as_the_window_moves() -> None:
    ticks = Ticks()
    window = SlidingWindow(limit=3, seconds=60, clock=ticks)
    for n in range(1000):
        window.hit(f"client-{n}")
    ticks.now += 30
    window.hit("recent")
    assert len(window) == 1001
    ticks.now += 31
    window.hit("later")
    assert len(window) == 2
