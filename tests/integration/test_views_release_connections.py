"""Closing the application releases the views' own connections too.

Views read and write through a datastore (a connection pool on PostgreSQL) of their own. It
used to outlive ``app.close()``: every application that opened a view left its pool's
connections idle on the server until the process ended, and a long test run or a process that
re-opens the application met "too many clients".
"""

from __future__ import annotations

import time

import psycopg

from adapters.wiring import build_application
from projections.runner import case_view, supervision_queue
from tests.conftest import PG_URL
from tests.views import views_of


def _connections_to(schema: str) -> int:
    """Server sessions whose last statement named the schema (the views' pool names it)."""
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query LIKE %s AND pid <> pg_backend_pid()",
            (f"%{schema}%",),
        ).fetchone()
    assert row is not None
    return int(row[0])


def _settles_to_zero(schema: str, *, within: float = 10.0) -> int:
    """The server ends a session's backend shortly after the client hangs up: poll, bounded."""
    deadline = time.monotonic() + within
    while (count := _connections_to(schema)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return count


def test_closing_the_application_closes_the_views_datastore(settings, clock, backend) -> None:
    app = build_application(settings, clock=clock)
    views = [case_view(views_of(app)), supervision_queue(views_of(app))]
    datastores = {id(view.datastore): view.datastore for view in views}
    assert len(datastores) == 1, "the views share one datastore"
    (datastore,) = datastores.values()
    app.close()
    if backend == "postgres":
        assert datastore.pool.closed
        assert _settles_to_zero(settings.postgres_schema or "") == 0
