"""Processes starting together on a fresh PostgreSQL schema all start.

Before, one in a few failed with "tuple concurrently updated" or a duplicate type name from the
library's table creation; now creation runs under an advisory lock. A start that cannot get the
lock in time, or cannot reach the server, exits 6 (retry).

Advisory locks belong to the database, not to a schema: the creation locks are keyed by the
schema, so a deployment (or a test run) in another schema of the same database never waits for
this one's.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from adapters.persistence.views import views_lock_key
from adapters.schema_lock import lock_key
from adapters.settings import Settings
from adapters.wiring import build_application
from tests.conftest import PG_URL, require_postgres
from tests.views import views_of

pytestmark = pytest.mark.postgres

PETITION = [sys.executable, "-c", "from adapters.cli.main import main; main()"]
KEYS = {"PETITION_CIPHER_KEY": base64.b64encode(os.urandom(32)).decode(),
        "PETITION_QUERY_CODE_KEY": base64.b64encode(os.urandom(32)).decode()}


@pytest.fixture
def fresh_schema():
    """A schema name nobody created yet (the starting processes create it)."""
    require_postgres()
    names: list[str] = []

    def make() -> str:
        names.append(f"t_{uuid.uuid4().hex[:12]}")
        return names[-1]

    yield make
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def test_threads_building_applications_at_once_on_a_fresh_schema(fresh_schema):
    for _ in range(4):
        settings = Settings.from_env({"PETITION_STORE": PG_URL,
                                      "PETITION_POSTGRES_SCHEMA": fresh_schema(), **KEYS})

        def start(_: int, settings: Settings = settings) -> int:
            app = build_application(settings)
            try:
                return app.recorder.max_notification_id() or 0
            finally:
                app.close()

        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(start, range(8))) == [0] * 8


def test_processes_starting_at_once_on_a_fresh_schema(fresh_schema):
    for _ in range(2):
        env = {**os.environ, **KEYS, "PETITION_STORE": PG_URL,
               "PETITION_POSTGRES_SCHEMA": fresh_schema(), "PETITION_LOG_FORMAT": "json"}
        procs = [subprocess.Popen([*PETITION, "info", "--json"], env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for _ in range(4)]
        results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
        assert [code for code, _, _ in results] == [0] * 4, results


def test_a_start_that_cannot_get_the_lock_in_time_exits_6(fresh_schema):
    schema = fresh_schema()
    env = {**os.environ, **KEYS, "PETITION_STORE": PG_URL, "PETITION_POSTGRES_SCHEMA": schema,
           "PETITION_LOG_FORMAT": "json"}
    with psycopg.connect(PG_URL, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (lock_key(schema),))
        done = subprocess.run(
            [sys.executable, "-c",
             "import adapters.schema_lock as s; s.LOCK_WAIT_SECONDS = 0.2; "
             "from adapters.cli.main import main; main()", "info", "--json"],
            env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 6, (done.stdout, done.stderr)
    assert done.stdout == "" and done.stderr.count("\n") == 1
    assert "retry" in done.stderr


def test_the_creation_locks_of_another_schema_hold_nobody_up(fresh_schema):
    """While a session holds schema A's creation locks (its tables', its views'), an
    application on schema B of the same database creates its schema, tables and views."""
    busy = fresh_schema()
    settings = Settings.from_env({"PETITION_STORE": PG_URL,
                                  "PETITION_POSTGRES_SCHEMA": fresh_schema(), **KEYS})
    created: list[str] = []

    def start() -> None:
        app = build_application(settings)
        try:
            created.extend(views_of(app).open(name).__class__.__name__
                           for name in ("case_view", "audit_trail"))
        finally:
            app.close()

    with psycopg.connect(PG_URL, autocommit=True) as holder:
        holder.execute("SELECT pg_advisory_lock(%s), pg_advisory_lock(%s)",
                       (lock_key(busy), views_lock_key(busy)))
        starter = threading.Thread(target=start, daemon=True)
        starter.start()
        starter.join(timeout=60)
        held_up = starter.is_alive()
        holder.execute("SELECT pg_advisory_unlock_all()")  # lets a held-up start finish
    starter.join(timeout=60)
    assert not held_up, "schema B waited for schema A's creation lock"
    assert len(created) == 2
