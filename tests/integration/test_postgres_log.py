"""The application's PostgreSQL recorder reads the log in binary format: every selection gives
exactly the notifications the library's own ``select_notifications`` gives."""

from __future__ import annotations

from uuid import uuid4

import pytest
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL

from adapters.persistence.postgres_log import PostgresEventLog
from adapters.wiring import build_application


@pytest.fixture
def backend() -> str:
    return "postgres"


def test_every_selection_equals_the_librarys(settings, clock):
    app = build_application(settings, clock=clock)
    try:
        recorder = app.recorder
        assert isinstance(recorder, PostgresEventLog)
        library = PostgresApplicationRecorder(recorder.datastore,
                                              events_table_name=recorder.events_table_name)
        case = uuid4()
        recorder.insert_events([
            StoredEvent(originator_id=case if n % 2 else uuid4(), originator_version=n,
                        topic=f"test:Event{n % 3}", state=bytes([n, 0, 255]) * n)
            for n in range(1, 13)])
        top = recorder.max_notification_id()
        assert top is not None
        for start in (None, 0, 1, top - 5, top):
            for stop in (None, top - 3, top + 10):
                for topics in ((), ("test:Event1",), ("test:Event0", "test:Event2")):
                    for inclusive in (True, False):
                        for limit in (1, 5, 100):
                            args = {"start": start, "limit": limit, "stop": stop,
                                    "topics": topics, "inclusive_of_start": inclusive}
                            ours = recorder.select_notifications(**args)
                            assert ours == library.select_notifications(**args), args
                            assert all(type(n.state) is bytes for n in ours)
        assert len(recorder.select_notifications(start=None, limit=100)) == 12
    finally:
        app.close()


def test_a_batch_is_read_by_walking_the_index_not_by_sorting_the_rest_of_the_log(settings,
                                                                                clock):
    """On an events table without statistics (just filled; autovacuum off or not yet run) a
    query bounded on both sides was planned as a scan and sort of everything between the
    bounds: each catch-up batch sorted the rest of the log. Ours reads the batch in order."""
    app = build_application(settings, clock=clock)
    try:
        recorder = app.recorder
        recorder.insert_events([StoredEvent(originator_id=uuid4(), originator_version=1,
                                            topic="test:Event", state=b"x" * 500)
                                for _ in range(3000)])
        statement, params = recorder.notifications_query(100, 50, inclusive_of_start=False)
        with recorder.datastore.transaction(commit=False) as curs:
            curs.execute(SQL("EXPLAIN ") + statement, params)
            plan = " ".join(str(next(iter(dict(row).values()))) for row in curs.fetchall())
        assert "Index Scan" in plan and "Sort" not in plan, plan
        top = recorder.max_notification_id()
        batch = recorder.select_notifications(start=100, limit=50, stop=top,
                                              inclusive_of_start=False)
        assert [n.id for n in batch] == list(range(101, 151))
    finally:
        app.close()
