"""Start-up proves the cipher keys against the stored events and refuses to write otherwise.

Before, a process given another key (or a SQLite file copied without its keys/, where a new key
was generated) started, stored events under the wrong key, and every follower then stopped on
them. Rotation keeps older keys readable: each event names the key that wrote it.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.cipher import MARKER, key_id
from adapters.keys import KeyMismatch, MissingKey, rotate_key_file
from adapters.settings import Settings
from adapters.wiring import build_application
from projections import runner as r
from tests.integration.helpers import register_sample
from tests.subprocess_env import petition_env
from tests.views import views_of
from workflows.application import PetitionApplication

PETITION = [sys.executable, "-c", "from adapters.cli.main import main; main()"]


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def _head(app: PetitionApplication) -> int:
    return app.recorder.max_notification_id() or 0


def _petition(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*PETITION, *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=120, check=False)


def test_another_key_is_refused_before_anything_is_written(app, settings, clock):
    register_sample(app)
    head = _head(app)
    app.close()
    stranger = dataclasses.replace(settings, cipher_key=_key())
    with pytest.raises(KeyMismatch, match="PETITION_CIPHER_KEY does not open the events"):
        build_application(stranger, clock=clock)

    # the CLI: one line on stderr, exit 7, nothing on stdout, and nothing appended
    env = {**petition_env(settings), "PETITION_CIPHER_KEY": stranger.cipher_key}
    body = Path(settings.data_dir.parent / "p.json")
    body.write_text(json.dumps({
        "actor": "intake:QH-D01", "channel": "visit", "subject": "s", "content": "c",
        "category": "x", "received_by": "QH-D01", "location": {"district": "QH-D01"},
        "petitioner": {"name": "李四", "id_number": "11010519491231002X",
                       "phone": "13800000000"}}, ensure_ascii=False), encoding="utf-8")
    for args in (["info", "--json"], ["register", str(body), "--json"], ["verify", "--json"]):
        done = _petition(env, *args)
        assert done.returncode == 7, (args, done.stdout, done.stderr)
        assert done.stdout == ""
        assert done.stderr.count("\n") == 1 and "PETITION_CIPHER_KEY" in done.stderr

    same = build_application(settings, clock=clock)
    try:
        assert _head(same) == head
        r.catch_up(same, views_of(same), "audit_trail")  # every follower still reads the whole log
        assert r.audit_trail(views_of(same)).verify(application_name=same.name) == []
    finally:
        same.close()


def test_a_sqlite_file_copied_without_its_keys_is_refused_and_no_key_is_generated(
        tmp_path, clock):
    original = Settings.from_env({"PETITION_STORE": str(tmp_path / "a" / "petitions.db")})
    app = build_application(original, clock=clock)
    try:
        register_sample(app)
    finally:
        app.close()
    (tmp_path / "b").mkdir()
    shutil.copy(tmp_path / "a" / "petitions.db", tmp_path / "b" / "petitions.db")
    copied = Settings.from_env({"PETITION_STORE": str(tmp_path / "b" / "petitions.db")})
    with pytest.raises(MissingKey, match="already holds events; restore the keys/ folder"):
        build_application(copied, clock=clock)
    assert not (tmp_path / "b" / "keys").exists()

    shutil.copytree(tmp_path / "a" / "keys", tmp_path / "b" / "keys")  # the documented fix
    build_application(copied, clock=clock).close()


def test_an_empty_store_still_creates_its_keys(tmp_path, clock):
    settings = Settings.from_env({"PETITION_STORE": str(tmp_path / "petitions.db")})
    build_application(settings, clock=clock).close()  # first start: file made, no events
    build_application(settings, clock=clock).close()
    assert (tmp_path / "keys" / "cipher.key").is_file()


def test_environment_keys_rotate_in_two_restarts(settings, clock):
    """PostgreSQL's procedure (keys in the environment), on both stores."""
    old, new = settings.cipher_key, _key()
    first = build_application(settings, clock=clock)
    before = register_sample(first).case_id
    first.close()

    # 1. every process learns the new key as a read key, still writing with the old one
    reading = dataclasses.replace(settings, cipher_read_keys=(new,))
    build_application(reading, clock=clock).close()
    # 2. the new key writes; the old one only reads
    rotated = dataclasses.replace(settings, cipher_key=new, cipher_read_keys=(old,))
    app = build_application(rotated, clock=clock)
    try:
        after = register_sample(app).case_id
        assert {app.get_petition(c).petitioner.name for c in (before, after)} == {"王小明"}
    finally:
        app.close()

    # a process still on the old key alone cannot read the newest event: it refuses to start
    with pytest.raises(KeyMismatch, match=key_id(new)):
        build_application(settings, clock=clock)
    # one that has both (step 1) starts and every view reads the whole log
    app = build_application(reading, clock=clock)
    try:
        for name in r.READ_MODELS:
            r.catch_up(app, views_of(app), name)
        assert r.audit_trail(views_of(app)).verify(application_name=app.name) == []
        assert app.get_petition(after).petitioner.name == "王小明"
    finally:
        app.close()


def test_rows_written_before_key_ids_stay_readable(settings, clock, monkeypatch):
    with monkeypatch.context() as patch:  # the library's cipher, as releases before key ids
        patch.setattr("adapters.store.CIPHER_TOPIC", "eventsourcing.cryptography:AESCipher")
        legacy = build_application(settings, clock=clock)
        try:
            case_id = register_sample(legacy).case_id
            stored = legacy.recorder.select_events(case_id)[0].state
        finally:
            legacy.close()
    assert not bytes(stored).startswith(MARKER)
    app = build_application(settings, clock=clock)  # the key check reads the legacy row
    try:
        assert app.get_petition(case_id).petitioner.name == "王小明"
        newer = register_sample(app).case_id
        assert bytes(app.recorder.select_events(newer)[0].state).startswith(MARKER)
        r.catch_up(app, views_of(app), "audit_trail")
        assert r.audit_trail(views_of(app)).verify(application_name=app.name) == []
    finally:
        app.close()


def test_petition_keys_rotate_with_key_files(tmp_path, clock):
    settings = Settings.from_env({"PETITION_STORE": str(tmp_path / "petitions.db")})
    running = build_application(settings, clock=clock)  # a process started before rotation
    env = {"PETITION_STORE": settings.store, "PETITION_LOG_FORMAT": "json"}
    try:
        before = register_sample(running).case_id
        old_id = json.loads(_petition(env, "keys", "status", "--json").stdout)["writes_with"]

        done = _petition(env, "keys", "rotate", "--json")
        assert done.returncode == 0, done.stderr
        rotation = json.loads(done.stdout)
        assert rotation["rotated"] and rotation["old_key_id"] == old_id
        assert "new_key" not in rotation  # a key in files is never printed
        keys = tmp_path / "keys"
        assert oct((keys / "cipher.key").stat().st_mode & 0o777) == "0o600"
        assert oct((keys / "cipher.retired").stat().st_mode & 0o777) == "0o600"

        rotated = build_application(settings, clock=clock)
        try:
            after = register_sample(rotated).case_id
        finally:
            rotated.close()
        status = json.loads(_petition(env, "keys", "status", "--json").stdout)
        assert status["writes_with"] == rotation["new_key_id"] != old_id
        assert set(status["reads_with"]) == {old_id, rotation["new_key_id"]}
        assert status["latest_event_key"] == rotation["new_key_id"]

        # the running process reads the event written with the key it never had at start
        assert running.get_petition(after).petitioner.name == "王小明"
        for name in r.READ_MODELS:
            r.catch_up(running, views_of(running), name)
        assert r.audit_trail(views_of(running)).verify(application_name=running.name) == []
        assert running.get_petition(before).petitioner.name == "王小明"
    finally:
        running.close()
    verify = _petition(env, "verify", "--json")
    assert verify.returncode == 0 and json.loads(verify.stdout) == []


def test_petition_keys_rotate_with_environment_keys_prints_the_procedure(settings):
    done = _petition(petition_env(settings), "keys", "rotate", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["rotated"] is False
    assert len(base64.b64decode(out["new_key"])) == 32
    assert out["new_key_id"] == key_id(out["new_key"])
    assert out["old_key_id"] == key_id(settings.cipher_key)
    assert any("PETITION_CIPHER_READ_KEYS" in step for step in out["next"])


def test_rotating_a_key_file_keeps_the_old_key_first(tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    first = _key()
    (keys / "cipher.key").write_text(first + "\n")
    old, new = rotate_key_file(keys)
    old2, newer = rotate_key_file(keys)
    assert (old, old2) == (first, new)
    assert (keys / "cipher.retired").read_text().split() == [first, new]
    assert (keys / "cipher.key").read_text().strip() == newer


def test_a_store_already_written_with_a_stray_key_recovers_by_adding_that_key(
        settings, clock, monkeypatch):
    """What a release without the check could leave: a few events under another key."""
    app = build_application(settings, clock=clock)
    register_sample(app)
    app.close()
    stray = dataclasses.replace(settings, cipher_key=_key())
    with monkeypatch.context() as patch:
        patch.setattr("adapters.wiring.prove_cipher_key", lambda *_: None)
        poisoned = build_application(stray, clock=clock)
        try:
            stray_case = register_sample(poisoned).case_id
        finally:
            poisoned.close()
    with pytest.raises(KeyMismatch, match=key_id(stray.cipher_key)):
        build_application(settings, clock=clock)
    healed = dataclasses.replace(settings, cipher_read_keys=(stray.cipher_key,))
    app = build_application(healed, clock=clock)
    try:
        for name in r.READ_MODELS:
            r.catch_up(app, views_of(app), name)
        assert r.audit_trail(views_of(app)).verify(application_name=app.name) == []
        assert app.get_petition(stray_case).petitioner.name == "王小明"
    finally:
        app.close()


def test_another_query_code_key_is_refused_before_any_code_is_issued_under_it(
        app, settings, clock):
    register_sample(app)
    head = _head(app)
    app.close()
    other = dataclasses.replace(settings, query_code_key=_key())
    with pytest.raises(KeyMismatch, match="PETITION_QUERY_CODE_KEY is not the key"):
        build_application(other, clock=clock)
    env = {**petition_env(settings), "PETITION_QUERY_CODE_KEY": other.query_code_key}
    done = _petition(env, "info", "--json")
    assert done.returncode == 7 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and "PETITION_QUERY_CODE_KEY" in done.stderr
    same = build_application(settings, clock=clock)  # the recorded key still starts
    try:
        assert _head(same) == head
    finally:
        same.close()
