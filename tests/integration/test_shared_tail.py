"""The live runner reads the log once for all its views (projections/tail.py), on both stores:
one subscription; a view that leaves the tail (a store failure of its own, or falling behind)
reads up on its own and rejoins, and every view ends holding exactly what a rebuild from the
log gives — no event missed or applied twice."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from eventsourcing.persistence import OperationalError

from projections import runner as r
from projections import tail as t
from tests.integration.helpers import register_sample, run_steps
from tests.processes import wait_until
from tests.views import views_of
from workflows.retrying import Backoff


def _write(app, clock, cases: int) -> int:
    for n in range(cases):
        reg = register_sample(app)
        run_steps(app, clock, reg.case_id, until=("accept", "delegate", "answer")[n % 3])
    return app.recorder.max_notification_id()


def _assert_each_view_is_its_rebuild(app) -> None:
    """Call with the runner stopped: each view's rows equal a rebuild's."""
    for name in r.READ_MODELS:
        live = views_of(app).open(name).dump()
        r.rebuild(app, views_of(app), name)
        assert views_of(app).open(name).dump() == live, name


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(r.ProjectionRunner, "RETRY", Backoff(initial=0.01, maximum=0.05))


class _Joins:
    def __init__(self, runner: r.ProjectionRunner) -> None:
        self.join = runner.tail.join
        self.by: list[str] = []  # the joining view's thread, in order
        runner.tail.join = self  # type: ignore[method-assign]

    def __call__(self) -> t.Follower:
        self.by.append(threading.current_thread().name)
        return self.join()

    @property
    def count(self) -> int:
        return len(self.by)

    def of(self, name: str) -> int:
        return self.by.count(f"projection-{name}")


def test_the_views_share_one_subscription(app, clock, monkeypatch) -> None:
    storage = views_of(app)
    subscribed: list[Any] = []
    subscribe = storage.subscribe
    monkeypatch.setattr(storage, "subscribe", lambda rec, gt: subscribed.append(gt)
                        or subscribe(rec, gt))
    start = _write(app, clock, 2)
    with r.ProjectionRunner(app, storage) as runner:
        end = _write(app, clock, 3)
        runner.wait_all(end, timeout=30)
    # one subscription, made by the first view to join, at the log's end at that moment: the
    # views' threads may join before or after the three writes (they read up to it themselves)
    assert len(subscribed) == 1 and start <= subscribed[0] <= end, subscribed


def test_runners_of_one_view_each_share_the_tail_and_the_loads(app, settings, clock,
                                                               monkeypatch) -> None:
    """As ``petition worker views`` runs them: one runner per view, built by the process's
    root; stopping one leaves the others following; stopping all stops the subscription."""
    from adapters.wiring import Root

    root = Root(settings, clock=clock, app=app, views=views_of(app))
    subscribed: list[Any] = []
    subscribe = root.views.subscribe
    monkeypatch.setattr(root.views, "subscribe", lambda rec, gt: subscribed.append(gt)
                        or subscribe(rec, gt))
    runners = [root.projection_runner(names=[name]).start() for name in r.READ_MODELS]
    try:
        assert len({id(runner.shared) for runner in runners}) == 1
        runners[0].wait_all(_write(app, clock, 1), timeout=30)
        end = _write(app, clock, 3)
        for runner in runners:
            runner.wait_all(end, timeout=30)
        assert len(subscribed) == 1
        runners[0].stop()
        end = _write(app, clock, 2)
        for runner in runners[1:]:
            runner.wait_all(end, timeout=30)
        assert len(subscribed) == 1
    finally:
        for runner in runners:
            runner.stop()
    assert runners[0].tail.position is None  # no view on it: unsubscribed
    runner = root.projection_runner(names=["case_view"]).start()  # catches up, rejoins
    try:
        runner.wait_all(end, timeout=30)
    finally:
        runner.stop()
    _assert_each_view_is_its_rebuild(app)


@pytest.mark.parametrize("name", list(r.READ_MODELS))
def test_a_view_that_fails_reads_up_on_its_own_and_rejoins_the_tail(
        app, clock, monkeypatch, quick_retries, name) -> None:
    failing = threading.Event()
    apply = r.apply

    def flaky(app_: Any, projection: Any, view: Any, notifications: Any, after: int) -> int:
        if view.name == name and failing.is_set():
            raise OperationalError("the store went away (for this view)")
        return apply(app_, projection, view, notifications, after)

    monkeypatch.setattr(r, "apply", flaky)
    _write(app, clock, 2)
    runner = r.ProjectionRunner(app, views_of(app))
    joins = _Joins(runner)
    with runner:
        runner.wait_all(_write(app, clock, 2), timeout=30)
        failing.set()
        during = _write(app, clock, 3)
        for other in set(r.READ_MODELS) - {name}:
            runner.wait(other, during, timeout=30)  # the others go on
        wait_until(lambda: runner.health[name].state == "retrying", 20, "the view to retry")
        failing.clear()
        runner.wait(name, during, timeout=30)
        after = _write(app, clock, 3)
        runner.wait_all(after, timeout=30)
        wait_until(lambda: len(runner.tail._run.followers) == len(r.READ_MODELS), 10,
                   "every view on the tail again")
        assert all(h.ok for h in runner.health.values())
        assert joins.count > len(r.READ_MODELS)
    _assert_each_view_is_its_rebuild(app)


def test_a_view_that_falls_behind_is_dropped_and_catches_up(app, clock, monkeypatch) -> None:
    """The audit trail is held inside a batch while the tail hands the other views one batch
    per write (each write waits for case_view): its queue of one fills, the next batch drops
    it, and released it reads on its own and joins again. Held, not slowed, so the batches
    cannot arrive together and leave it on the tail (which a sleep allowed on a fast store)."""
    monkeypatch.setattr(t, "MAX_PENDING", 1)
    holding, released = threading.Event(), threading.Event()
    apply = r.apply

    def held(app_: Any, projection: Any, view: Any, notifications: Any, after: int) -> int:
        if view.name == "audit_trail" and holding.is_set():
            released.wait(60)
        return apply(app_, projection, view, notifications, after)

    monkeypatch.setattr(r, "apply", held)
    runner = r.ProjectionRunner(app, views_of(app))
    joins = _Joins(runner)
    with runner:
        runner.wait_all(_write(app, clock, 1), timeout=30)
        holding.set()
        for _ in range(4):  # one batch each: held, queued, dropped, (dropped)
            end = _write(app, clock, 1)
            runner.wait("case_view", end, timeout=30)
        assert joins.of("audit_trail") == 1  # held: it cannot have joined again yet
        holding.clear()
        released.set()
        runner.wait_all(end, timeout=60)
        assert joins.count > len(r.READ_MODELS)  # dropped, then joined again
        assert joins.of("audit_trail") >= 2  # the held view itself
        runner.wait_all(_write(app, clock, 2), timeout=30)
    _assert_each_view_is_its_rebuild(app)
