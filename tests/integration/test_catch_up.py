"""Catch-up commits each batch in a background thread while the next is prepared; these
check that what it writes is still exactly the log, once, whoever else is catching up."""

from __future__ import annotations

import threading

import pytest

from adapters.wiring import build_application
from projections import runner as r
from projections.view import ViewStalled
from projections.write_behind import WriteBehind
from tests.integration.helpers import register_sample, run_steps
from tests.views import views_of


def _at_once(work, instances) -> list[BaseException]:
    """Runs ``work(instance)`` for every instance in its own thread, all released together;
    returns what they raised."""
    start = threading.Barrier(len(instances))
    errors: list[BaseException] = []

    def run(instance) -> None:
        start.wait()
        try:
            work(instance)
        except BaseException as error:  # noqa: BLE001 - returned to the test
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in instances]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _fill(app, clock, cases: int = 6) -> int:
    for n in range(cases):
        reg = register_sample(app)
        run_steps(app, clock, reg.case_id, until=("accept", "answer", "close")[n % 3])
    return app.recorder.max_notification_id()


@pytest.mark.parametrize("name", list(r.READ_MODELS))
@pytest.mark.parametrize("sizes", [(3, 3), (3, 4)], ids=["aligned", "misaligned"])
def test_two_catch_ups_of_one_view_at_once_apply_every_event_once(app, settings, clock, name,
                                                                  sizes):
    """Batches cut alike end at the same positions; cut differently (a rebuild beside a live
    runner, a standby taking over mid-batch) one writer's batch overlaps the other's without
    ending where it does, and must still not be applied a second time."""
    total = _fill(app, clock)
    others = [build_application(settings, clock=clock) for _ in range(2)]
    counts: list[int] = []
    size = dict(zip(map(id, others), sizes, strict=True))
    errors = _at_once(lambda o: counts.append(
        r.catch_up(o, views_of(o), name, batch_size=size[id(o)])), others)
    for instance in others:
        instance.close()
    assert errors == []
    assert sum(counts) == total  # every batch committed by exactly one of the two
    together = views_of(app).open(name).dump()
    assert r.rebuild(app, views_of(app), name) == total
    assert views_of(app).open(name).dump() == together
    if name == "audit_trail":
        assert r.audit_trail(views_of(app)).verify(application_name=app.name) == []


def test_progress_is_reported_per_committed_batch_in_order(app, clock):
    total = _fill(app, clock, cases=3)
    seen: list[tuple[int, int]] = []
    assert r.rebuild(app, views_of(app), "case_view", batch_size=4,
                     progress=lambda at, target: seen.append((at, target))) == total
    positions = [at for at, _ in seen]
    assert positions == sorted(positions) and positions[-1] == total
    assert {target for _, target in seen} == {total}


def test_after_a_failed_commit_nothing_more_is_written_and_the_error_is_raised() -> None:
    written: list[int] = []

    def commit(rows, position, after) -> None:
        if position == 20:
            raise RuntimeError("disk full")
        written.append(position)

    writer = WriteBehind(commit, 0)
    with pytest.raises(RuntimeError, match="disk full"):
        for position in (10, 20, 30, 40, 50):
            writer.submit(["rows"], position, 10)
        writer.close()
    writer.close(raise_error=False)
    assert written == [10]
    assert writer.committed == 10 and writer.position == 10


def test_a_failure_while_preparing_keeps_what_was_committed(app, clock, monkeypatch):
    """An event the view cannot apply: the view commits everything before it and stops there,
    naming it (``ViewStalled``, recorded for `projections status`); once it applies, the next
    catch-up resumes and the result equals a rebuild."""
    total = _fill(app, clock, cases=4)
    view = views_of(app).open("case_view")
    real = r.CaseViewProjection.prepare

    def failing_prepare(self, items):
        if any(item.position == 5 for item in items):
            raise RuntimeError("decoder crashed")
        return real(self, items)

    monkeypatch.setattr(r.CaseViewProjection, "prepare", failing_prepare)
    with pytest.raises(ViewStalled, match="decoder crashed") as stalled:
        r.catch_up(app, views_of(app), "case_view", batch_size=2)
    assert (stalled.value.view, stalled.value.position) == ("case_view", 5)
    assert view.max_tracking_id(app.name) == 4  # everything before the event, committed
    assert view.stall()["position"] == 5
    row = next(s for s in r.status(app, views_of(app)) if s["name"] == "case_view")
    assert (row["state"], row["stalled_at"]) == ("stalled", 5)
    assert "decoder crashed" in row["error"]
    monkeypatch.setattr(r.CaseViewProjection, "prepare", real)
    assert r.catch_up(app, views_of(app), "case_view", batch_size=2) == total - 4
    assert view.stall() is None
    resumed = view.dump()
    r.rebuild(app, views_of(app), "case_view")
    assert view.dump() == resumed


def test_a_failure_that_does_not_repeat_is_not_a_stall(app, clock, monkeypatch):
    """A one-off failure (not the store's): the events are applied again in small chunks and,
    if they apply, the catch-up goes on without a stall."""
    total = _fill(app, clock, cases=4)
    real = r.CaseViewProjection.prepare
    calls = {"n": 0}

    def flaky_prepare(self, items):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("once")
        return real(self, items)

    monkeypatch.setattr(r.CaseViewProjection, "prepare", flaky_prepare)
    assert r.catch_up(app, views_of(app), "case_view", batch_size=2) == total
    assert views_of(app).open("case_view").stall() is None


def test_processes_opening_the_views_together_on_a_new_store_all_succeed(settings, clock):
    """A service and a rebuild starting at once both create the views: neither may fail (on
    PostgreSQL, two sessions' CREATE … IF NOT EXISTS would collide without the lock)."""
    instances = [build_application(settings, clock=clock) for _ in range(4)]

    def open_all(instance) -> None:
        for name in r.READ_MODELS:
            assert views_of(instance).open(name).max_tracking_id(instance.name) is None

    errors = _at_once(open_all, instances)
    for instance in instances:
        instance.close()
    assert errors == []
