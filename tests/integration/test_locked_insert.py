"""On PostgreSQL every save is one statement (adapters/persistence/locked_insert.py): the same
rows, numbering and notifications as the library's insert; a taken version still refused."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from adapters.persistence.locked_insert import LockedInsertRecorder
from adapters.wiring import build_application
from domain import events as ev
from tests.integration.helpers import register_sample, run_steps
from workflows import commands as c
from workflows.errors import ConcurrentModification


@pytest.fixture
def pg_app(settings, clock):
    if not settings.is_postgres:
        pytest.skip("the one-statement save is PostgreSQL's")
    app = build_application(settings, clock=clock)
    yield app
    app.close()


def test_saves_go_through_the_one_statement_insert_and_notify(pg_app, settings, clock):
    assert isinstance(pg_app.events.recorder, LockedInsertRecorder)
    recorder = pg_app.recorder
    kwargs = {k: v for k, v in recorder.datastore.pool.kwargs.items() if k != "row_factory"}
    with psycopg.connect(**kwargs, autocommit=True) as listener:
        listener.execute(f'LISTEN "{recorder.channel_name}"')
        top = recorder.max_notification_id() or 0
        case_id = register_sample(pg_app).case_id
        results = run_steps(pg_app, clock, case_id, until="answer")
        heard = list(listener.notifies(timeout=2, stop_after=1))
    assert heard and heard[0].channel == recorder.channel_name
    logged = recorder.select_notifications(start=top + 1, limit=100)
    ids = [n.id for n in logged]
    assert ids == sorted(ids) and results[-1].position == ids[-1]
    case_events = [n for n in logged if n.originator_id == case_id]
    assert [n.originator_version for n in case_events] == list(range(1, len(results) + 2))
    assert [type(e) for e in pg_app.events_of(case_id)][:2] == [ev.Registered, ev.Accepted]


def test_a_taken_version_is_still_refused(pg_app, settings, clock):
    case_id = register_sample(pg_app).case_id
    other = build_application(settings, clock=clock)
    try:
        stale = other.get_petition(case_id)
        clock.advance(timedelta(hours=1))
        pg_app.execute(c.IssueSupervision(case_id=case_id, actor="sup", level="reminder",
                                          reason="催办"))
        other.get_petition = lambda *_a, **_k: stale  # type: ignore[method-assign]
        other.repository.cache.get(case_id, evict=True)
        with pytest.raises(ConcurrentModification):
            other.execute(c.AcceptPetition(case_id=case_id, actor="i", handling_track="claim",
                                           speed_track="general"))
    finally:
        other.close()
    assert [type(e) for e in pg_app.events_of(case_id)] == [ev.Registered,
                                                            ev.SupervisionIssued]
