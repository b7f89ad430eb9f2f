"""One stored event a follower cannot decode or apply: it stops there, visibly, and nothing else.

The rule (docs/events.md): a case event is never skipped — the follower stops before it,
``/readyz`` answers 503 naming the follower, the position, the case and the error, `petition
projections status` shows it from any process, one structured error line is logged (not one per
retry), and the other views and the write side keep working. It tries again now and then, so
when the event becomes applicable (a release that knows it) it resumes by itself. An unknown
event of another aggregate concerns no follower and is passed over.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from eventsourcing.persistence import StoredEvent
from fastapi import FastAPI
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from adapters.http.app import create_app
from adapters.kafka.relay import Relay, RelayConfig
from adapters.settings import Settings
from projections import runner as r
from tests.e2e.conftest import Staff, register_body
from tests.processes import wait_until
from tests.subprocess_env import petition_env
from workflows.application import PetitionApplication
from workflows.clock import ManualClock
from workflows.retrying import Backoff

FUTURE_CASE_EVENT = "domain.events:AddedInALaterRelease"


@pytest.fixture
def quick_stall_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stalled follower retries every ~0.1 s here (minutes in production)."""
    monkeypatch.setattr(r.ProjectionRunner, "STALL", Backoff(initial=0.05, maximum=0.1))


@pytest.fixture
def api(settings: Settings, clock: ManualClock, quick_stall_retries: None) -> Iterator[FastAPI]:
    application = create_app(dataclasses.replace(settings, supervision_interval=0),
                             clock=clock, run_projections=True)
    yield application
    application.state.engine.app.close()


def _append_unknown(app: PetitionApplication, case_id: str, topic: str) -> int:
    """An event as a newer release would store it; its position in the log."""
    case = uuid.UUID(case_id)
    version = len(app.recorder.select_events(case)) + 1
    app.recorder.insert_events([StoredEvent(case, version, topic, b"\x00not for this release")])
    return app.recorder.max_notification_id()


def _register(client: TestClient, headers: dict[str, str]) -> str:
    response = client.post("/petitions", json=register_body(), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["case_id"]


def _status_from_another_process(settings: Settings) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "adapters.cli.projection_commands", "projections", "status",
         "--json"], env={**os.environ, **petition_env(settings)}, capture_output=True,
        text=True, timeout=60, check=True)
    return json.loads(done.stdout)


def test_an_unknown_case_event_stops_every_view_visibly_and_writes_go_on(
        api: FastAPI, settings: Settings) -> None:
    engine = api.state.engine
    with capture_logs() as logs, TestClient(api) as client:
        intake = Staff(api).headers("intake", "QH-D01")
        case_id = _register(client, intake)
        position = _append_unknown(engine.app, case_id, FUTURE_CASE_EVENT)

        health = engine.runner.health
        similar = engine.loops["similar_cases"].health  # the similar-cases index, too
        wait_until(lambda: all(h.attempts >= 3 for h in health.values()
                               if h.state == "stalled") and
                   all(h.state == "stalled" for h in [*health.values(), similar]), 30,
                   "every view and the similar-cases index to stall on the unknown event")
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert f"stalled at event {position} (case {case_id})" in ready.json()["reason"]
        assert "TopicError" in ready.json()["reason"]
        assert any(line.startswith(f"similar cases stalled at event {position} "
                                   f"(case {case_id})") for line in ready.json()["not_ready"])
        assert ready.json()["similar_cases"]["state"] == "stalled"
        for name, view in engine.runner.views.items():
            assert view.max_tracking_id(engine.app.name) == position - 1, name

        later = _register(client, intake)  # the write side keeps working
        assert later

    stalled = [e for e in logs if e["event"] == "loop.stalled"]
    assert sorted(e["loop"] for e in stalled) == sorted(
        [f"view {n}" for n in r.READ_MODELS] + ["similar cases"])
    assert all(e["log_level"] == "error" and e["position"] == position for e in stalled)

    rows = {row["name"]: row for row in _status_from_another_process(settings)}
    for name in r.READ_MODELS:
        assert rows[name]["state"] == "stalled"
        assert (rows[name]["stalled_at"], rows[name]["case_id"]) == (position, case_id)


def _delete_event(app: PetitionApplication, position: int) -> None:
    """What an operator does with an event that no release will ever know (docs/operations.md):
    removes its row from the events table, by hand, with the engine running."""
    recorder: Any = app.recorder
    table = recorder.events_table_name
    if hasattr(recorder.datastore, "schema"):  # PostgreSQL
        with recorder.datastore.transaction(commit=True) as curs:
            curs.execute(f'DELETE FROM "{recorder.datastore.schema}"."{table}" '
                         "WHERE notification_id = %s", (position,))
    else:
        with recorder.datastore.transaction(commit=True) as curs:
            curs.execute(f"DELETE FROM {table} WHERE rowid = ?", (position,))


def _stall_every_view(api: FastAPI, client: TestClient) -> int:
    """Registers a case and appends an event no release knows to it; waits until every view
    stalls on it; its position."""
    engine = api.state.engine
    case_id = _register(client, Staff(api).headers("intake", "QH-D01"))
    position = _append_unknown(engine.app, case_id, FUTURE_CASE_EVENT)
    wait_until(lambda: all(h.state == "stalled" for h in engine.runner.health.values()), 30,
               "every view to stall on the unknown event")
    return position


def test_views_stalled_on_a_removed_last_event_recover_without_a_new_write(
        api: FastAPI) -> None:
    """A stall clears when the event it names is gone, even if nothing is written after it: a
    follower that has nothing left to apply is caught up, not stalled."""
    engine = api.state.engine
    with TestClient(api) as client:
        position = _stall_every_view(api, client)
        health = engine.runner.health
        assert client.get("/readyz").status_code == 503

        _delete_event(engine.app, position)
        assert (engine.app.recorder.max_notification_id() or 0) < position
        wait_until(lambda: client.get("/readyz").status_code == 200, 30,
                   "ready again with no write after the removal")
        assert all(h.ok for h in health.values())
        assert all(view.stall() is None for view in engine.runner.views.values())


def test_a_stalled_view_recovers_when_its_event_is_removed_during_its_retry(
        api: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """The removal may land inside a retry, after the view decided whether the log holds
    anything past it and before it read the log: the read then finds nothing, and the view
    must not wait on the live tail still stalled (CI at 862f275 timed out so, on SQLite)."""
    engine = api.state.engine
    recorder: Any = engine.app.recorder
    real = recorder.select_notifications
    armed: dict[str, Any] = {"position": None, "view": None}

    def select_notifications(*args: Any, **kwargs: Any) -> Any:
        thread = threading.current_thread().name
        if armed["position"] is not None and kwargs.get("stop") == armed["position"] \
                and thread.startswith("projection-") and thread != "projection-tail":
            position, armed["position"] = armed["position"], None
            _delete_event(engine.app, position)  # just before this view's own read
            armed["view"] = thread  # once removed: the test looks at the log then
        return real(*args, **kwargs)

    monkeypatch.setattr(recorder, "select_notifications", select_notifications)
    with TestClient(api) as client:
        armed["position"] = position = _stall_every_view(api, client)
        health = engine.runner.health
        wait_until(lambda: armed["view"] is not None, 30, "a view's retry to read the log")
        assert (engine.app.recorder.max_notification_id() or 0) < position
        wait_until(lambda: all(h.ok for h in health.values()), 30,
                   f"every view to recover, {armed['view']} among them")
        assert all(view.stall() is None for view in engine.runner.views.values())


def test_an_unknown_event_of_another_aggregate_is_passed_over(api: FastAPI) -> None:
    engine = api.state.engine
    with TestClient(api) as client:
        intake = Staff(api).headers("intake", "QH-D01")
        _register(client, intake)
        engine.app.recorder.insert_events([StoredEvent(
            uuid.uuid4(), 1, "workflows.added_later:Something", b"\x00")])
        case_id = _register(client, intake)
        engine.runner.wait_all(engine.app.recorder.max_notification_id(), timeout=30)
        similar = engine.similar
        wait_until(lambda: similar.position == engine.app.recorder.max_notification_id(), 30,
                   "the similar-cases index to pass it over too")
        ready = client.get("/readyz")
        assert ready.status_code == 200
        end = engine.app.recorder.max_notification_id()
        assert ready.json()["similar_cases"] == {
            "state": "following", "caught_up_to": end, "behind": 0}
        assert all(h.ok for h in engine.runner.health.values())
        assert engine.loops["similar_cases"].health.ok
        with similar._lock:  # as a process starting on a long log: behind, yet ready
            similar.position = 0
            ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["similar_cases"]["behind"] == end
        assert client.get(f"/petitions/{case_id}", headers=intake).status_code == 200


def test_a_view_that_cannot_apply_an_event_stops_alone_and_resumes_when_it_can(
        api: FastAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = api.state.engine
    real = r.CaseViewProjection.prepare
    broken = {"on": True, "position": -1}

    def prepare(self: Any, items: Any) -> Any:
        if broken["on"] and any(item.position == broken["position"] for item in items):
            raise OverflowError("date value out of range")
        return real(self, items)

    monkeypatch.setattr(r.CaseViewProjection, "prepare", prepare)
    with capture_logs() as logs, TestClient(api) as client:
        intake = Staff(api).headers("intake", "QH-D01")
        _register(client, intake)
        broken["position"] = (engine.app.recorder.max_notification_id() or 0) + 1
        case_id = _register(client, intake)
        end = engine.app.recorder.max_notification_id()

        engine.runner.wait("audit_trail", end, timeout=30)  # the others go on
        engine.runner.wait("supervision_queue", end, timeout=30)
        case_view = engine.runner.health["case_view"]
        wait_until(lambda: case_view.state == "stalled" and case_view.attempts >= 3, 30,
                   "case_view to stall and retry a few times")
        ready = client.get("/readyz")
        assert ready.status_code == 503
        reason = ready.json()["reason"]
        assert reason.startswith(f"view case_view stalled at event {broken['position']} "
                                 f"(case {case_id})")
        assert "OverflowError: date value out of range" in reason
        assert engine.runner.health["audit_trail"].ok

        broken["on"] = False  # the fix is deployed: the view resumes by itself
        engine.runner.wait("case_view", end, timeout=30)
        wait_until(lambda: client.get("/readyz").status_code == 200, 30, "ready again")
        assert engine.runner.views["case_view"].stall() is None
        assert client.get(f"/petitions/{case_id}", headers=intake).status_code == 200

    assert [e["loop"] for e in logs if e["event"] == "loop.stalled"] == ["view case_view"]
    assert [e["loop"] for e in logs if e["event"] == "loop.recovered"] == ["view case_view"]


def test_a_stored_registration_dated_year_one_never_stops_a_view_silently(api: FastAPI) -> None:
    """Issue 10's reproduction, stored as an older release would have stored it (business time
    0001-01-01T00:00+14:00, whose deadlines overflow): each view either applies it or stalls
    exactly there, naming it — and readiness says which. No view spins silently."""
    engine = api.state.engine
    with TestClient(api) as client:
        intake = Staff(api).headers("intake", "QH-D01")
        case_id = _register(client, intake)
        registered = next(iter(engine.app.events.get(uuid.UUID(case_id))))
        poison_case = uuid.uuid4()
        engine.app.recorder.insert_events([engine.app.mapper.to_stored_event(
            dataclasses.replace(registered, originator_id=poison_case, at=datetime(
                1, 1, 1, tzinfo=timezone(timedelta(hours=14)))))])
        position = engine.app.recorder.max_notification_id()

        def settled(name: str) -> bool:
            health = engine.runner.health[name]
            at_end = engine.runner.views[name].max_tracking_id(engine.app.name) == position
            return at_end or (health.state == "stalled" and health.position == position)

        wait_until(lambda: all(settled(n) for n in r.READ_MODELS), 30,
                   "every view to apply the event or stall on it")
        stalled = [n for n, h in engine.runner.health.items() if h.state == "stalled"]
        for name in stalled:
            assert engine.runner.health[name].case_id == str(poison_case)
        ready = client.get("/readyz")
        assert ready.status_code == (503 if stalled else 200)
        for name in stalled:
            assert any(line.startswith(f"view {name} stalled at event {position}")
                       for line in ready.json()["not_ready"])
        assert _register(client, intake)  # the write side keeps working


class _Recorded:
    """A publisher that keeps what it was given (the broker is not what this test is about)."""

    def __init__(self) -> None:
        self.envelopes: list[dict[str, Any]] = []

    def publish(self, envelopes: list[dict[str, Any]]) -> None:
        self.envelopes.extend(envelopes)

    def close(self) -> None:
        pass


def test_the_relay_publishes_up_to_an_unknown_case_event_and_stops_there(
        app: PetitionApplication, clock: ManualClock) -> None:
    from tests.integration.helpers import register_sample

    first = register_sample(app)
    position = _append_unknown(app, str(first.case_id), FUTURE_CASE_EVENT)
    register_sample(app)
    published = _Recorded()
    relay = Relay(app, RelayConfig("unused:9092", poll_interval=0.01),
                  publisher_factory=lambda _: published)  # type: ignore[arg-type,return-value]
    with capture_logs() as logs:
        relay.start()
        try:
            wait_until(lambda: relay.health.state == "stalled", 30, "the relay to stall")
        finally:
            relay.stop()
    assert relay.error is None
    assert relay.position == position - 1
    before = app.recorder.select_notifications(start=1, limit=1000, stop=position - 1)
    assert [e["position"] for e in published.envelopes] == [
        n.id for n in before if n.topic.startswith("domain.events:")]
    assert relay.health.as_dict()["position"] == position
    assert [e["event"] for e in logs].count("loop.stalled") == 1
