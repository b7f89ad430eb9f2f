"""The citizen story with JSON (production) logs: no phone code, query code or personal data
in any line the service writes; the outbox line names only the message id."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
import structlog
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.logging import configure_logging
from tests.e2e.pages_client import FORM, Citizen, latest_code


@pytest.fixture(autouse=True)
def _restore_structlog() -> Iterator[None]:
    yield
    structlog.reset_defaults()


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def test_json_logs_carry_no_codes_or_personal_data(
        api: FastAPI, client: TestClient, capfd: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture) -> None:
    configure_logging("json")
    caplog.set_level(logging.DEBUG)
    citizen = Citizen(client, api)
    started = citizen.start()
    phone_code = latest_code(api)
    receipt = citizen.verify(started, phone_code)
    query_code = re.search(r'id="query-code">([^<]+)<', receipt.text).group(1)  # type: ignore[union-attr]
    citizen.follow(query_code)
    citizen.follow("WRNG-CODE-0000")
    out, err = capfd.readouterr()
    written = out + err + "\n".join(r.getMessage() for r in caplog.records)
    assert '"event": "notifier.outbox"' in written  # the logs were captured
    for secret in (phone_code, query_code, query_code.replace("-", ""), FORM["phone"],
                   FORM["id_number"], FORM["name"], "WRNG-CODE-0000"):
        assert secret not in written, secret
