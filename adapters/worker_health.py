"""/healthz and /readyz of a ``petition worker`` process, for orchestrators.

``/readyz`` answers 200 when every part is either leading with healthy loops or standing by;
a standby is ready — standing by is its job — and names the session that leads (as PostgreSQL
sees it), or says the lock is free and will be taken at the next poll. A dead leader's lock is
dropped by the server when its session ends, so a standby names a dead leader only while the
server has not noticed yet (at most about 11 s, adapters/persistence/leader_lock.py). 503 when
this process cannot reach the store for its locks, or a loop it leads is retrying or stalled.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from adapters.leadership import Leader


def readiness(leaders: Sequence[Leader]) -> tuple[int, dict[str, Any]]:
    problems = [p for leader in leaders for p in leader.not_ready()]
    body: dict[str, Any] = {"status": "unavailable" if problems else "ready",
                            "parts": {leader.part: leader.status() for leader in leaders}}
    if problems:
        body["not_ready"] = problems
    return (503 if problems else 200), body


def serve_health(leaders: Sequence[Leader], host: str, port: int) -> ThreadingHTTPServer:
    """Started in a daemon thread; ``shutdown()`` it to stop."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/healthz":
                self._answer(200, {"status": "ok"})
            elif self.path == "/readyz":
                self._answer(*readiness(leaders))
            else:
                self._answer(404, {"detail": "not found"})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:  # probes every few seconds: not worth a line
            return

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="worker-health", daemon=True).start()
    return server
