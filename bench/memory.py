"""Figure 6: peak RSS of ``petition serve`` answering overdue queries over the 1M-row views.

The server runs as a subprocess on the PostgreSQL schema of figure 4 (1M open obligations
built directly in the view table) plus 60 real registered cases, whose acceptance deadlines
passed before any generated row's, so every first page of the overdue queue is made of real
cases (the route loads each listed case to show its ladder). Peak RSS is the kernel's
high-water mark (VmHWM) of the server process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from typing import Any

import httpx

from adapters.persistence.views import ViewStore
from bench.common import NOW, Figure, Place, register_command
from projections import runner as r

TARGET_MB = 300


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _kb(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def _cli(env: dict[str, str], *args: str, **kwargs: Any) -> Any:
    return [sys.executable, "-c", "from adapters.cli.main import main; main()", *args]


def prepare(place: Place, cases: int = 60) -> None:
    app = place.app()
    try:
        for n in range(cases):
            app.register(register_command(n))
        r.catch_up(app, ViewStore.beside(app), "supervision_queue")
    finally:
        app.close()


def serve_rss(place: Place, queries: int) -> Figure:
    env = {**os.environ, **place.env, "PETITION_LOG_FORMAT": "json"}
    issued = subprocess.run(_cli(env, "token", "issue", "--role", "supervisor", "--unit", "QH",
                                 "--json"), env=env, capture_output=True, text=True, check=True)
    token = json.loads(issued.stdout)["token"]
    port = _free_port()
    server = subprocess.Popen(_cli(env, "serve", "--port", str(port)), env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as http:
            _wait_ready(http, server)
            idle = _kb(server.pid, "VmRSS") / 1024
            params = [{"as_of": NOW.isoformat(), "limit": 50},
                      {"as_of": NOW.isoformat(), "limit": 50, "jurisdiction": "QH-D01"}]
            for n in range(queries):
                response = http.get("/supervision/overdue", params=params[n % 2])
                response.raise_for_status()
                assert response.json()["items"], response.text
            peak = _kb(server.pid, "VmHWM") / 1024
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    return Figure(6, "peak RSS of petition serve, overdue queries over 1M rows", peak, "MB",
                  "RSS of serve when ready, before queries", idle, f"≤ {TARGET_MB} MB",
                  peak <= TARGET_MB, detail={"queries": queries})


def _wait_ready(http: httpx.Client, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"petition serve exited with {server.returncode}")
        try:
            if http.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise RuntimeError("petition serve did not come up within 120 s")
