"""Stores kept in git (``tests/stores/*``), written by an earlier release, opened by this one.

Each folder holds a SQLite store, its test-only keys (``keys.json``) and the policy the test
reads it with. ``open_kept_store`` opens a copy (the file in git is never written); on
PostgreSQL, a fresh schema receives the same rows byte for byte as that release wrote them
(events in their order, and the snapshots), so both stores read what the old code wrote.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path
from uuid import UUID

import pytest
from eventsourcing.persistence import StoredEvent

from adapters.settings import Settings
from adapters.wiring import build_application
from tests.conftest import PG_URL
from workflows.application import PetitionApplication
from workflows.clock import ManualClock

KEPT = Path(__file__).parents[1] / "stores"


def _rows(store: Path, table: str, order: str) -> list[StoredEvent]:
    """A table of a SQLite store as the library's stored events, in ``order``."""
    with closing(sqlite3.connect(store)) as conn:
        rows = conn.execute("SELECT originator_id, originator_version, topic, state"
                            f" FROM {table} ORDER BY {order}").fetchall()
    return [StoredEvent(originator_id=UUID(o), originator_version=v, topic=t, state=b)
            for o, v, t, b in rows]


def open_kept_store(folder: Path, policy: Path, backend: str, tmp_path: Path,
                    request: pytest.FixtureRequest, now: datetime) -> PetitionApplication:
    """This release on the kept store of ``folder`` with ``policy``, its clock at ``now``."""
    shutil.copy(folder / "petitions.db", tmp_path / "petitions.db")
    shutil.copy(policy, tmp_path / "policy.toml")
    env = {"PETITION_STORE": str(tmp_path / "petitions.db"),
           "PETITION_DATA_DIR": str(tmp_path / "data"),
           "PETITION_POLICY_FILE": str(tmp_path / "policy.toml"),
           **json.loads((folder / "keys.json").read_text(encoding="utf-8"))}
    if backend == "postgres":
        env |= {"PETITION_STORE": PG_URL,
                "PETITION_POSTGRES_SCHEMA": request.getfixturevalue("pg_schema")}
    app = build_application(Settings.from_env(env), clock=ManualClock(now))
    if backend == "postgres":
        app.recorder.insert_events(_rows(tmp_path / "petitions.db", "stored_events", "rowid"))
        app.snapshots.recorder.insert_events(  # type: ignore[union-attr]
            _rows(tmp_path / "petitions.db", "stored_snapshots", "originator_id"))
    return app
