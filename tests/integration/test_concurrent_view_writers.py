"""Two writers of one view at once (a catch-up or rebuild beside a live runner, or a standby
that has not yet seen the leader's position): the view's position decides which batch counts.
The later writer's batch must fail on the position alone (``IntegrityError``, which the runner
and the catch-up handle), never on a deadlock among the rows both write in different orders,
which the store reports as a failure of the store (one was seen in the analysis roll-ups)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from adapters.wiring import build_application
from projections.analysis_rollups import DAY_KEY
from projections.batching import BatchProjection, Item
from projections.view import PositionMoved, View
from tests.views import views_of


class TwoRows(BatchProjection):
    """Adds 1 to two roll-up rows in the given order, with a meeting point between them, as
    two real batches cut differently would touch shared rows in different orders."""

    def __init__(self, view: View, rows: Sequence[tuple[Any, ...]], meet: threading.Barrier):
        super().__init__(view)
        self.rows, self.meet = rows, meet

    def prepare(self, items: Sequence[Item]) -> Any:
        return None

    def write(self, prepared: Any) -> None:
        view = self.view
        with view.batch() as c:
            view.add_rows(c, "analysis_rollup_days", DAY_KEY, ("n",), [(*self.rows[0], 1)])
            try:
                self.meet.wait(timeout=3)  # both hold their first row, if both got this far
            except threading.BrokenBarrierError:
                pass  # the other is held before its first row: go on alone
            view.add_rows(c, "analysis_rollup_days", DAY_KEY, ("n",), [(*self.rows[1], 1)])


def test_the_later_of_two_writers_fails_on_the_position_not_on_a_deadlock(settings, clock):
    app = build_application(settings, clock=clock)
    try:
        views = views_of(app)
        a = ("day", "2026-12-01", "QH", "D01", "S1", 1)
        b = ("day", "2026-12-01", "QH", "D01", "S2", 1)
        meet = threading.Barrier(2)
        writers = [TwoRows(views.open("analysis_facts"), rows, meet) for rows in ([a, b], [b, a])]
        outcomes: list[BaseException | None] = [None, None]

        def commit(k: int) -> None:
            try:
                writers[k].commit(app.name, None, 10, 0)
            except BaseException as error:  # noqa: BLE001 - reported below
                outcomes[k] = error

        threads = [threading.Thread(target=commit, args=(k,)) for k in (0, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        failed = [o for o in outcomes if o is not None]
        assert len(failed) == 1, outcomes
        assert isinstance(failed[0], IntegrityError), repr(failed[0])
        view = views.open("analysis_facts")
        assert view.max_tracking_id(app.name) == 10
        rows = view.query(f"SELECT street, n FROM {view.table('analysis_rollup_days')} "
                          "ORDER BY street")
        assert [(r["street"], r["n"]) for r in rows] == [("S1", 1), ("S2", 1)]  # one batch's
    finally:
        app.close()


def test_a_view_moves_its_position_only_from_where_the_batch_started(settings, clock):
    """The position is written in the transaction of the rows (a batch that fails records
    none) and only from the position the batch was read after: a batch cut differently from
    one committed meanwhile is refused even when it ends past it, so no event counts twice."""
    app = build_application(settings, clock=clock)
    try:
        view = views_of(app).open("case_view")
        with pytest.raises(RuntimeError), view.batch() as c:
            view.record_position(c, Tracking(app.name, 5), 0)
            raise RuntimeError("the batch's rows failed")
        assert view.max_tracking_id(app.name) is None
        view.track(Tracking(app.name, 5), 0)
        assert view.max_tracking_id(app.name) == 5
        for after, end in ((0, 7), (3, 7), (4, 5)):  # read before 5 was committed
            with pytest.raises(PositionMoved):
                view.track(Tracking(app.name, end), after)
        assert view.max_tracking_id(app.name) == 5
        view.track(Tracking(app.name, 7), 5)
        assert view.max_tracking_id(app.name) == 7
        with pytest.raises(ValueError):
            view.track(Tracking(app.name, 7), 7)
    finally:
        app.close()
