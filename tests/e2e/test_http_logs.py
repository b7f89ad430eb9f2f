"""No personal data, token or query code in the service's logs, whatever the requests carry.

uvicorn serves the app as `petition serve` does (JSON logging, uvicorn's access log off — it
would print query strings — and the engine's own request log on); a lifecycle with refusals,
guesses, PII-scoped reads and a client that puts a query code in the URL runs against it; then
every byte written to stderr/stdout and every stdlib log record of the service is scanned.
The test's own HTTP client (httpx, httpcore) logs its URLs; those records are the client's.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
import structlog
from fastapi import FastAPI

from adapters.logging import configure_logging
from tests.e2e.conftest import (
    CITY,
    DISTRICT,
    PETITIONER,
    STREET,
    LiveServer,
    Staff,
    register_body,
)
from workflows.clock import ManualClock


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def test_logs_carry_no_personal_data_tokens_or_query_codes(
    api: FastAPI, staff: Staff, clock: ManualClock, capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture
) -> None:
    configure_logging("json")  # binds the stderr that capfd captures
    caplog.set_level(logging.DEBUG)
    intake = staff.headers("intake", DISTRICT)
    handler = staff.headers("handler", STREET)
    auditor = staff.headers("auditor", CITY, pii=True)
    revoked = staff.revoked("supervisor", DISTRICT)
    server = LiveServer(api).start()
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            registered = http.post("/petitions", json=register_body(), headers=intake).json()
            case_id, code = registered["case_id"], registered["query_code"]
            for action, body, who in [
                ("accept", {"handling_track": "claim", "speed_track": "general"}, intake),
                ("delegate", {"unit": STREET}, intake),
                ("answer", {"answer": "已答复"}, handler),
            ]:
                clock.advance(timedelta(hours=1))
                assert http.post(f"/petitions/{case_id}/{action}", json=body,
                                 headers=who).status_code == 200
            assert http.post("/status", json={"query_code": code}).status_code == 200
            assert http.post("/status", json={"query_code": code[::-1]}).status_code == 404
            assert http.post("/status/rate", json={
                "query_code": code, "attitude": "satisfied", "efficiency": "satisfied",
                "quality": "satisfied"}).status_code == 200
            assert http.get(f"/petitions/{case_id}/history", headers=auditor).status_code == 200
            # refusals whose requests carry the secrets
            bad_id = register_body(petitioner={**PETITIONER, "id_number": PETITIONER["phone"]})
            assert http.post("/petitions", json=bad_id, headers=intake).status_code == 422
            assert http.post("/petitions", json=register_body(),
                             headers=revoked).status_code == 401
            assert http.get(f"/petitions/{case_id}?token={code}",
                            headers=handler).status_code == 200
    finally:
        server.stop()

    captured = capfd.readouterr()
    output = captured.err + captured.out
    service = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    records = "\n".join(f"{r.name} {r.getMessage()} {r.args!r}" for r in service)
    request_lines = [json.loads(line) for line in captured.err.splitlines()
                     if line.startswith("{") and '"request"' in line]
    assert len(request_lines) >= 10  # the engine did log the requests, as JSON
    assert {"method", "route", "status", "ms"} <= request_lines[0].keys()
    assert {"route": "/petitions/{case_id}", "status": 200} in [
        {"route": line["route"], "status": line["status"]} for line in request_lines]
    secrets = [*PETITIONER.values(), code, *staff.issued]
    for secret in secrets:
        assert secret not in output, f"{secret!r} in captured output"
        assert secret not in records, f"{secret!r} in a log record"
