"""``/readyz`` is quick and never 500, and a busy SQLite file answers 503, not a traceback."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import threading
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.http.app import create_app
from adapters.settings import Settings
from projections import runner as r
from tests.e2e.conftest import Staff, register_body
from workflows.clock import ManualClock


@pytest.fixture
def api(settings: Settings, clock: ManualClock) -> Iterator[FastAPI]:
    quick = dataclasses.replace(settings, supervision_interval=0, store_timeout=1.0)
    application = create_app(quick, clock=clock, run_projections=True)
    yield application
    application.state.engine.app.close()


def test_a_failure_while_checking_is_not_ready_never_500(
        api: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("the views' tables are gone")

    with TestClient(api) as client:
        assert client.get("/readyz").status_code == 200
        monkeypatch.setattr(r, "status", broken)
        ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["not_ready"] == ["RuntimeError: the views' tables are gone"]


def test_a_store_that_does_not_answer_is_not_ready_within_a_second(
        api: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """The store hangs until the answer came (at most a minute): an answer bounded at ~0.9 s
    comes long before that, even on a loaded machine (four test workers on two cores)."""
    recorder = api.state.engine.app.recorder
    real = recorder.max_notification_id
    answered = threading.Event()

    def hanging() -> int | None:
        answered.wait(60)
        return real()

    with TestClient(api) as client:
        monkeypatch.setattr(recorder, "max_notification_id", hanging)
        started = time.monotonic()
        try:
            ready = client.get("/readyz")
            elapsed = time.monotonic() - started
        finally:
            answered.set()
        monkeypatch.setattr(recorder, "max_notification_id", real)
    assert ready.status_code == 503
    assert "did not answer within" in ready.json()["not_ready"][0]
    assert elapsed < 10  # bounded at ~0.9 s, not waiting for the hanging store


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_locked_sqlite_file_answers_503_with_retry_after(api: FastAPI,
                                                           settings: Settings) -> None:
    with TestClient(api) as client:
        intake = Staff(api).headers("intake", "QH-D01")
        holder = sqlite3.connect(settings.store, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        try:
            refused = client.post("/petitions", json=register_body(), headers=intake)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert refused.status_code == 503, refused.text
        assert refused.headers["Retry-After"].isdigit()
        assert refused.json()["error"] == "store_unavailable"
        assert client.post("/petitions", json=register_body(),
                           headers=intake).status_code == 201


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_sqlite_file_damaged_while_running_is_not_ready(settings: Settings,
                                                          clock: ManualClock) -> None:
    """The start-up check is repeated for /readyz (throttled, in the background): garbage
    written into the middle of the file while the server runs turns it unready, naming it."""
    from tests.integration.helpers import register_sample
    from tests.processes import wait_until

    quick = dataclasses.replace(settings, supervision_interval=0, store_timeout=1.0,
                                integrity_recheck_seconds=0.2)
    application = create_app(quick, clock=clock)
    app = application.state.engine.app
    try:
        with TestClient(application) as client:
            for _ in range(60):
                register_sample(app, content="路灯" * 200)
            with sqlite3.connect(settings.store) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            assert client.get("/readyz").status_code == 200
            with open(settings.store, "r+b") as file:
                file.seek(os.path.getsize(settings.store) // 2)
                file.write(b"\x5a" * 8192)
            ready = wait_until(lambda: (r := client.get("/readyz")).status_code == 503 and r,
                               timeout=10, what="/readyz to see the damage")
    finally:
        app.close()
    body = ready.json()
    assert body["reason"] == "store" and ready.headers["Retry-After"].isdigit()
    assert "store file is damaged" in body["not_ready"][0]
    assert "restore" in body["not_ready"][0]
    assert settings.store not in ready.text  # no path of the server's disk in an open answer


def test_a_process_is_not_ready_while_its_similar_cases_index_first_reads_the_log(
        api: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cold process on a long log answers slowly until its in-memory index has read the log
    once, so /readyz says "warming up" until then; a later lag does not make it unready."""
    from adapters.http import app as http_app
    from projections.similar_cases import SimilarCases

    release, real = threading.Event(), SimilarCases.refresh

    def slow_first_read(self: SimilarCases, batch: int = 5000) -> None:
        release.wait(30)  # as reading a million cases' registrations would take minutes
        real(self, batch)

    monkeypatch.setattr(SimilarCases, "refresh", slow_first_read)
    monkeypatch.setattr(http_app, "WARM_WAIT", 0.1)
    with TestClient(api) as client:
        cold = client.get("/readyz")
        assert cold.status_code == 503
        assert cold.json()["reason"].startswith("similar cases warming up: read to event 0 of")
        assert client.get("/healthz").status_code == 200  # alive, only not ready
        release.set()
        deadline = time.monotonic() + 30
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        warm = client.get("/readyz")
        assert warm.status_code == 200, warm.text
        intake = Staff(api).headers("intake", "QH-D01")
        assert client.post("/petitions", json=register_body(), headers=intake).status_code == 201
        assert client.get("/readyz").status_code == 200  # behind by a new event: still ready
