"""Every answer keeps the documented error shape, whatever the request, and a 500 is traceable.

Issue 10, items 5 and 8: bodies that are not JSON at all (invalid UTF-8, nesting deeper than the
parser goes, integers longer than Python parses) got FastAPI's bare ``{"detail": …}``; bodies
of any size were read and parsed whole; a 500 got no log line. Now: 400 ``malformed_body``;
413 ``body_too_large`` before the body is read whole (declared or streamed); every answer
carries ``X-Request-ID``; a 500 names the id in its body and in one error log line.
"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Iterator
from uuid import uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from adapters.http.app import create_app
from adapters.settings import Settings
from tests.e2e.conftest import DISTRICT, LiveServer, Staff, appended, register_body
from workflows.clock import ManualClock

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])

NOT_JSON = {
    "invalid UTF-8": b'{"query_code": "\xff\xfe\xfa"}',
    "nested too deep": b"[" * 100_000 + b"]" * 100_000,
    "integer too long": b'{"query_code": ' + b"9" * 5000 + b"}",
    "bad syntax": b'{"query_code": ',
}


@pytest.mark.parametrize("path", ["/petitions", "/petitions/{case}/accept", "/status",
                                  "/status/rate"])
@pytest.mark.parametrize("kind", sorted(NOT_JSON))
def test_a_body_that_is_not_json_is_400_in_the_error_shape(
    api: FastAPI, client: TestClient, staff: Staff, path: str, kind: str
) -> None:
    intake = staff.headers("intake", DISTRICT)
    case = client.post("/petitions", json=register_body(), headers=intake).json()["case_id"]
    before = appended(api)
    response = client.post(path.format(case=case), content=NOT_JSON[kind],
                           headers={**intake, "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "malformed_body"
    assert set(response.json()) <= {"error", "message"}
    assert appended(api) == before


def test_unknown_routes_and_methods_answer_in_the_error_shape(client: TestClient) -> None:
    missing = client.get("/no-such-route")
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    wrong = client.delete("/petitions")
    assert (wrong.status_code, wrong.json()["error"]) == (405, "method_not_allowed")
    assert set(wrong.headers["allow"].split(", ")) == {"GET", "POST"}


@pytest.fixture
def small(settings: Settings, clock: ManualClock) -> Iterator[FastAPI]:
    """The service with a 4 KiB body limit."""
    quiet = dataclasses.replace(settings, supervision_interval=0, max_body_bytes=4096)
    application = create_app(quiet, clock=clock, run_projections=True)
    yield application
    application.state.engine.app.close()


def test_a_body_over_the_limit_is_413_and_a_body_at_it_is_read(small: FastAPI) -> None:
    with TestClient(small) as client:
        over = client.post("/status", content=b" " * 4097,
                           headers={"Content-Type": "application/json"})
        assert over.status_code == 413
        assert over.json()["error"] == "body_too_large"
        assert over.headers["X-Request-ID"]
        at = client.post("/status", content=b'{"query_code": "ABCD-EFGH-JKLM"}'.ljust(4096),
                         headers={"Content-Type": "application/json"})
        assert at.status_code == 404  # read and parsed: no such code


def _raw(url: str, head: bytes, chunks: Iterator[bytes]) -> bytes:
    """Sends ``head`` and then ``chunks`` until the server answers; returns its first bytes."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(head)
        for chunk in chunks:
            try:
                conn.sendall(chunk)
            except (BrokenPipeError, ConnectionResetError):
                break
        answer = b""
        while b"}" not in answer and (data := conn.recv(65536)):
            answer += data  # the head, then the JSON error body
        return answer


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(
    small: FastAPI
) -> None:
    server = LiveServer(small).start()
    try:
        head = (b"POST /status HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 314572800\r\n\r\n")
        answer = _raw(server.url, head, iter(()))  # not one byte of the 300 MB is sent
    finally:
        server.stop()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"body_too_large" in answer


def test_a_streamed_body_is_cut_at_the_limit_without_waiting_for_its_end(small: FastAPI) -> None:
    server = LiveServer(small).start()
    try:
        head = (b"POST /status HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\n\r\n")
        piece = b"x" * 1024
        chunks = (b"%x\r\n%s\r\n" % (len(piece), piece) for _ in range(8))  # 8 KiB, no end
        answer = _raw(server.url, head, chunks)
    finally:
        server.stop()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]


def test_a_500_is_answered_in_the_error_shape_with_a_request_id_that_is_logged(
    api: FastAPI, staff: Staff, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the store said something about 欧阳紫霞")

    monkeypatch.setattr(api.state.engine.app, "get_petition", broken)
    with TestClient(api) as client, capture_logs() as logs:
        response = client.get(f"/petitions/{uuid4()}", headers=staff.headers("auditor", "QH"))
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "internal_error"
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert body["request_id"] in body["message"]
    lines = [line for line in logs if line.get("request_id") == body["request_id"]]
    assert len(lines) == 1
    (line,) = lines
    assert line["log_level"] == "error" and line["status"] == 500
    assert line["error"] == "RuntimeError" and line["route"] == "/petitions/{case_id}"
    assert "欧阳紫霞" not in repr(line)  # the message may carry personal data: never logged


def test_every_answer_carries_a_request_id_and_a_plain_one_is_kept(client: TestClient) -> None:
    assert len(client.get("/healthz").headers["X-Request-ID"]) == 32
    kept = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.1"})
    assert kept.headers["X-Request-ID"] == "lb-7f3a.1"
    replaced = client.get("/healthz", headers={"X-Request-ID": "x\" injected=1"})
    assert replaced.headers["X-Request-ID"] != "x\" injected=1"
