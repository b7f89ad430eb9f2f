"""The embedded store's file: a damaged one is refused at start-up with its name and what to do
(before, "internal error: DatabaseError" with a traceback, and `serve` reported ready on a file
with garbage in the middle); `verify` reports the damage as a finding; the files the engine
creates are private."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest

from adapters.settings import Settings
from adapters.sqlite_file import StoreDamaged, find_damage
from adapters.wiring import build_application
from projections import runner as r
from tests.integration.helpers import register_sample
from tests.views import views_of

PETITION = [sys.executable, "-c", "from adapters.cli.main import main; main()"]


def _petition(store: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PETITION_STORE": str(store), "PETITION_LOG_FORMAT": "json", **extra}
    return subprocess.run([*PETITION, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture
def store(tmp_path, clock) -> Path:
    """A SQLite store (key files beside it) with enough cases to span many pages."""
    settings = Settings.from_env({"PETITION_STORE": str(tmp_path / "petitions.db")})
    app = build_application(settings, clock=clock)
    try:
        for _ in range(60):
            register_sample(app, content="路灯" * 200)
        r.catch_up(app, views_of(app), "case_view")
    finally:
        app.close()
    return tmp_path / "petitions.db"


def _garbage_in_the_middle(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 8192] = b"\x5a" * 8192
    path.write_bytes(bytes(data))


def test_a_file_with_garbage_in_the_middle_is_refused_at_start(store, clock):
    _garbage_in_the_middle(store)
    settings = Settings.from_env({"PETITION_STORE": str(store)})
    with pytest.raises(StoreDamaged) as refused:
        build_application(settings, clock=clock)
    assert str(store) in str(refused.value) and "restore" in str(refused.value)

    for args in (["info", "--json"], ["serve", "--port", "1"], ["overdue", "--json"]):
        done = _petition(store, *args)
        assert done.returncode == 9, (args, done.stdout, done.stderr)
        assert done.stdout == ""
        assert done.stderr.count("\n") == 1
        assert f"the store file {store} is damaged" in done.stderr


def test_a_file_that_is_not_a_database_is_refused(tmp_path, clock):
    path = tmp_path / "petitions.db"
    path.write_bytes(b"this is not SQLite" * 1000)
    with pytest.raises(StoreDamaged, match="not a database"):
        build_application(Settings.from_env({"PETITION_STORE": str(path)}), clock=clock)


def test_verify_reports_a_damaged_file_as_a_finding(store):
    _garbage_in_the_middle(store)
    done = _petition(store, "verify", "--json")
    assert done.returncode == 8, done.stderr
    [finding] = json.loads(done.stdout)
    assert finding["problem"] == "damaged-store" and str(store) in finding["detail"]
    assert done.stderr == ""


class _Timer:
    """Records the bound it is given; its time is up before the check ends."""

    armed: ClassVar[list[tuple[float, object]]] = []

    def __init__(self, seconds: float, interrupt):
        self.armed.append((seconds, interrupt))

    def start(self) -> None:
        pass

    def cancel(self) -> None:
        pass


class _Interrupted:
    """A connection whose check the timer interrupted (what sqlite3 raises then)."""

    def interrupt(self) -> None:
        pass

    def execute(self, sql: str):
        assert sql == "PRAGMA quick_check"
        raise sqlite3.OperationalError("interrupted")

    def close(self) -> None:
        pass


def test_the_check_is_bounded_in_time_and_can_be_turned_off(store, monkeypatch):
    _garbage_in_the_middle(store)
    assert find_damage(store, 60)  # found when given the time
    connection = _Interrupted()
    with monkeypatch.context() as patch:
        patch.setattr("adapters.sqlite_file.threading.Timer", _Timer)
        patch.setattr("adapters.sqlite_file.sqlite3.connect", lambda *a, **k: connection)
        assert find_damage(store, 3) is None  # out of time: a warning, no refusal
    assert _Timer.armed == [(3, connection.interrupt)]
    assert find_damage(store, 0) is None  # off
    settings = Settings.from_env({"PETITION_STORE": str(store),
                                  "PETITION_INTEGRITY_CHECK_SECONDS": "0"})
    assert settings.integrity_check_seconds == 0
    build_application(settings).close()  # the operator's choice: started without the check


def test_a_sound_file_passes(store, clock):
    assert find_damage(store, 60) is None
    build_application(Settings.from_env({"PETITION_STORE": str(store)}), clock=clock).close()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_the_engine_creates_are_private(tmp_path, clock):
    os.umask(0o022)  # a usual umask, which would give 0644 files
    settings = Settings.from_env({"PETITION_STORE": str(tmp_path / "data" / "petitions.db")})
    app = build_application(settings, clock=clock)
    try:
        register_sample(app)
        r.catch_up(app, views_of(app), "case_view")  # creates the views and their lock file
        made = sorted(p for p in (tmp_path / "data").rglob("*"))
        assert {p.name for p in made} >= {"petitions.db", "petitions.db-wal", "petitions.db-shm",
                                          "petitions.db.views-lock", "keys", "cipher.key",
                                          "query_code.key"}
        for path in made:
            assert _mode(path) == (0o700 if path.is_dir() else 0o600), path
    finally:
        app.close()
    assert _mode(tmp_path / "data") == 0o700

    # the console script: whatever else it creates is private too (umask 077)
    done = _petition(tmp_path / "cli" / "petitions.db", "info", "--json")
    assert done.returncode == 0, done.stderr
    for path in (tmp_path / "cli").rglob("*"):
        assert _mode(path) & 0o077 == 0, path
