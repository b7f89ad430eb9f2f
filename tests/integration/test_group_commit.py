"""Group commit (PETITION_GROUP_COMMIT=1): concurrent saves share one transaction, and each keeps
its own outcome — a lost race on a case fails that command alone and appends nothing.

A window of 50 ms makes the threads of each test meet in the same batch; a barrier makes
racing commands load the same version of the case before either saves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from adapters.persistence.group_commit import GroupCommitRecorder
from adapters.persistence.locked_insert import LockedInsertRecorder
from adapters.settings import Settings
from adapters.wiring import build_application
from tests.integration.helpers import register_sample
from workflows import commands as c
from workflows.application import PetitionApplication
from workflows.errors import ConcurrentModification


@pytest.fixture
def gc_app(settings, clock, monkeypatch) -> Iterator[PetitionApplication]:
    monkeypatch.setenv("PETITION_GROUP_COMMIT", "1")
    monkeypatch.setenv("PETITION_GROUP_COMMIT_WINDOW_MS", "50")
    grouped = Settings.from_env()  # read from the environment, as a deployment does
    settings = replace(settings, group_commit=grouped.group_commit,
                       group_commit_window_ms=grouped.group_commit_window_ms)
    application = build_application(settings, clock=clock)
    yield application
    application.close()


def _accept(case_id: Any) -> c.AcceptPetition:
    return c.AcceptPetition(case_id=case_id, actor="intake", handling_track="claim",
                            speed_track="general")


def _group(app: PetitionApplication) -> GroupCommitRecorder:
    recorder = app.events.recorder
    assert isinstance(recorder, GroupCommitRecorder)
    return recorder


def _load_together(app: PetitionApplication, parties: int) -> None:
    """Every command loads its case from the store (not from this process's cache, where a
    command would not read it at all), then waits for the others to have loaded theirs."""
    barrier, real_get = threading.Barrier(parties), app.get_petition
    app._cached_copy = lambda case_id: None  # type: ignore[method-assign]

    def get(case_id: Any, version: int | None = None) -> Any:
        petition = real_get(case_id, version)
        barrier.wait(timeout=10)
        return petition

    app.get_petition = get  # type: ignore[method-assign]


def _run(calls: list[Callable[[], Any]]) -> list[Any]:
    """Runs the calls in parallel; each outcome is its result or the exception it raised."""
    def outcome(call: Callable[[], Any]) -> Any:
        try:
            return call()
        except Exception as error:  # noqa: BLE001 - the outcome under test
            return error

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(outcome, calls))


def test_is_off_unless_asked(app):
    assert not isinstance(app.events.recorder, GroupCommitRecorder)


def test_concurrent_commands_on_different_cases_all_land_in_fewer_transactions(gc_app, clock):
    cases = [register_sample(gc_app).case_id for _ in range(8)]
    clock.advance(timedelta(hours=1))
    batches_before = _group(gc_app).batches
    _load_together(gc_app, len(cases))
    results = _run([lambda cid=cid: gc_app.execute(_accept(cid)) for cid in cases])
    assert all(r.version == 2 and r.status == "accepted" for r in results)
    batches = _group(gc_app).batches - batches_before
    assert 1 <= batches < len(cases)
    positions = sorted(r.position for r in results)
    assert len(set(positions)) == len(cases)
    for cid, result in zip(cases, results, strict=True):
        events = gc_app.events_of(cid)
        assert len(events) == 2
        notification = gc_app.recorder.select_notifications(result.position, 1)[0]
        assert notification.originator_id == cid and notification.originator_version == 2


def test_two_commands_on_the_same_case_exactly_one_wins_the_other_appends_nothing(
    gc_app, clock
):
    case_id = register_sample(gc_app).case_id
    clock.advance(timedelta(hours=1))
    top = gc_app.recorder.max_notification_id()
    _load_together(gc_app, 2)
    outcomes = _run([
        lambda: gc_app.execute(_accept(case_id)),
        lambda: gc_app.execute(c.IssueSupervision(case_id=case_id, actor="sup",
                                                    level="reminder", reason="催办")),
    ])
    lost = [o for o in outcomes if isinstance(o, ConcurrentModification)]
    won = [o for o in outcomes if not isinstance(o, Exception)]
    assert len(lost) == 1 and len(won) == 1
    assert len(gc_app.events_of(case_id)) == 2
    assert gc_app.recorder.max_notification_id() == top + 1


def test_a_conflicting_command_does_not_fail_the_rest_of_its_batch(gc_app, clock):
    cases = [register_sample(gc_app).case_id for _ in range(5)]
    contested = cases[0]
    clock.advance(timedelta(hours=1))
    _load_together(gc_app, 6)
    outcomes = _run([lambda cid=cid: gc_app.execute(_accept(cid)) for cid in cases]
                    + [lambda: gc_app.execute(_accept(contested))])
    failures = [o for o in outcomes if isinstance(o, Exception)]
    assert len(failures) == 1 and isinstance(failures[0], ConcurrentModification)
    assert all(len(gc_app.events_of(cid)) == 2 for cid in cases)


def test_a_write_by_another_instance_is_seen_under_the_lock(gc_app, settings, clock):
    """Another process's write is found under the lock, not in a cache: by the version check
    inside the batch's transaction (SQLite) or the table's unique constraint (PostgreSQL)."""
    case_id = register_sample(gc_app).case_id
    clock.advance(timedelta(hours=1))
    other = build_application(settings, clock=clock)
    try:
        stale = gc_app.get_petition(case_id)
        other.execute(_accept(case_id))
        gc_app.get_petition = lambda *_a, **_k: stale  # type: ignore[method-assign]
        with pytest.raises(ConcurrentModification):
            gc_app.execute(c.IssueSupervision(case_id=case_id, actor="sup",
                                                level="reminder", reason="催办"))
    finally:
        other.close()
    assert len(gc_app.events_of(case_id)) == 2


def test_a_save_made_stale_by_another_instance_fails_alone_in_its_batch(gc_app, settings, clock):
    """The batch's insert breaks the table's unique constraint; the saves are retried one by
    one, so the others land and only the stale one fails."""
    cases = [register_sample(gc_app).case_id for _ in range(4)]
    clock.advance(timedelta(hours=1))
    other = build_application(settings, clock=clock)
    try:
        stale, real_get = gc_app.get_petition(cases[0]), gc_app.get_petition
        other.execute(_accept(cases[0]))
        gc_app.get_petition = (  # type: ignore[method-assign]
            lambda cid, version=None: stale if cid == cases[0] else real_get(cid, version))
        _load_together(gc_app, len(cases))
        outcomes = _run([lambda cid=cid: gc_app.execute(_accept(cid)) for cid in cases])
    finally:
        other.close()
    assert isinstance(outcomes[0], ConcurrentModification)
    assert all(not isinstance(o, Exception) and o.version == 2 for o in outcomes[1:])
    assert all(len(gc_app.events_of(cid)) == 2 for cid in cases)


@pytest.mark.parametrize(("flag", "window", "expected"), [
    ("1", "50", (True, 50.0)), ("yes", "", (True, 0.0)), ("0", "5", (False, 5.0)),
    (None, None, (False, 0.0))])
def test_group_commit_is_read_through_settings(flag, window, expected):
    env = {k: v for k, v in (("PETITION_GROUP_COMMIT", flag),
                             ("PETITION_GROUP_COMMIT_WINDOW_MS", window)) if v is not None}
    settings = Settings.from_env(env)
    assert (settings.group_commit, settings.group_commit_window_ms) == expected


@pytest.mark.parametrize("window", ["abc", "-1", "nan"])
def test_a_bad_group_commit_window_names_the_variable(window):
    with pytest.raises(ValueError, match="PETITION_GROUP_COMMIT_WINDOW_MS"):
        Settings.from_env({"PETITION_GROUP_COMMIT_WINDOW_MS": window})


def test_without_group_commit_saves_use_the_plain_recorder(settings, clock):
    """On SQLite the library's recorder itself; on PostgreSQL it too, behind the one-statement
    insert (adapters/persistence/locked_insert.py)."""
    application = build_application(settings, clock=clock)
    try:
        if settings.is_postgres:
            assert isinstance(application.events.recorder, LockedInsertRecorder)
            assert application.events.recorder.recorder is application.recorder
        else:
            assert application.events.recorder is application.recorder
    finally:
        application.close()
