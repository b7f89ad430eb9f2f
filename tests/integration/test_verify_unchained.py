"""`petition verify` when the audit trail cannot chain a stored event (tampered before the trail
recorded it, or its predecessor gone): a finding naming the case, version and position, exit 8
— not the view's "cannot apply event" error. The HTTP proof (/audit/verify) says the same."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest

from projections import runner as r
from projections.view import ViewStalled
from tests.integration.helpers import postgres_target, register_sample, run_steps
from tests.subprocess_env import petition_env
from tests.views import views_of

PETITION = [sys.executable, "-c", "from adapters.cli.main import main; main()"]


def _petition(settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PETITION, *args], env={**os.environ, **petition_env(settings)},
                          capture_output=True, text=True, timeout=120, check=False)


def _sql(settings, sqlite_sql: str, postgres_sql: str, params: tuple) -> None:
    if settings.is_postgres:
        import psycopg

        url, schema = postgres_target(settings)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(postgres_sql.format(events=f'"{schema}".petitions_events'), params)
    else:
        conn = sqlite3.connect(settings.store)
        with conn:
            conn.execute(sqlite_sql, params)
        conn.close()


def _garble(settings, case_id, version: int) -> None:
    """Flips bytes in the middle of the stored (encrypted) state: it no longer decrypts."""
    if settings.is_postgres:
        _sql(settings, "", "UPDATE {events} SET state = overlay(state placing "
             "'\\xffffffff'::bytea from 20 for 4) WHERE originator_id = %s AND "
             "originator_version = %s", (case_id, version))
        return
    conn = sqlite3.connect(settings.store)
    with conn:
        where = "WHERE originator_id = ? AND originator_version = ?"
        (state,) = conn.execute(f"SELECT state FROM stored_events {where}",
                                (case_id.hex, version)).fetchone()
        state = state[:19] + bytes(b ^ 0xFF for b in state[19:23]) + state[23:]
        conn.execute(f"UPDATE stored_events SET state = ? {where}", (state, case_id.hex, version))
    conn.close()


def _remove(settings, case_id, version: int) -> None:
    _sql(settings, "DELETE FROM stored_events WHERE originator_id = ? AND originator_version = ?",
         "DELETE FROM {events} WHERE originator_id = %s AND originator_version = %s",
         (case_id.hex if not settings.is_postgres else case_id, version))


@pytest.mark.parametrize("damage, version", [(_garble, 3), (_remove, 2)])
def test_verify_reports_an_event_the_trail_cannot_chain(app, clock, settings, damage, version):
    before = register_sample(app)
    reg = register_sample(app)
    results = run_steps(app, clock, reg.case_id, until="answer")
    after = register_sample(app)
    damage(settings, reg.case_id, version)
    stuck = results[1]  # version 3: garbled, or its predecessor gone
    done = _petition(settings, "verify", "--json")
    assert done.returncode == 8, (done.stdout, done.stderr)
    findings = json.loads(done.stdout)
    assert [(f["case_id"], f["version"], f["position"], f["problem"]) for f in findings] == [
        (str(reg.case_id), 3, stuck.position, "unchained")]
    assert "not verified" in findings[0]["detail"]
    trail = r.audit_trail(views_of(app))
    assert [e["version"] for e in trail.entries(before.case_id)] == [1]  # chained before it
    assert trail.entries(after.case_id) == []  # after it: not yet
    http_findings = trail.verify(application_name=app.name)  # the stall recorded in the store
    assert [(f.case_id, f.version, f.position, f.problem) for f in http_findings] == [
        (str(reg.case_id), 3, stuck.position, "unchained")]
    assert trail.verify(before.case_id, application_name=app.name) == []
    with pytest.raises(ViewStalled):
        r.catch_up(app, views_of(app), "audit_trail")
