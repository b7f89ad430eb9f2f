"""A read on an API process waits for the views another process follows, cheaply.

``Engine._settle_elsewhere`` looks at the view's position until it reaches the log's end as it
was when the read arrived. A view that catches up within a few looks is never asked whether it
is stalled (a question that costs more than a look); a stalled one is asked once, after
``STALL_AFTER``, and the read then goes on long before the settle time runs out.
"""

from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

from adapters.engine import STALL_AFTER, Engine

END = 40


class FollowedView:
    """A view the views worker reaches the log's end in after ``behind_for`` seconds, or that
    stalled before event ``stalled_before`` (it never moves then)."""

    def __init__(self, behind_for: float = 0.0, stalled_before: int | None = None):
        self.since = time.monotonic()
        self.behind_for, self.stalled_before = behind_for, stalled_before
        self.looks = self.stall_questions = 0

    def max_tracking_id(self, application_name: str) -> int:
        self.looks += 1
        if self.stalled_before is not None:
            return self.stalled_before - 1
        return END if time.monotonic() - self.since >= self.behind_for else END - 3

    def end_and_position(self, application_name: str) -> tuple[int, int]:
        return END, self.max_tracking_id(application_name)

    def stall(self) -> dict[str, Any] | None:
        self.stall_questions += 1
        return None if self.stalled_before is None else {"position": self.stalled_before}


def _engine() -> Engine:
    app = SimpleNamespace(name="Petitions")  # the log's end comes with the view's position
    return Engine(settings=None, app=app, tokens=None, views_elsewhere=True)  # type: ignore[arg-type]


def test_a_view_that_catches_up_soon_is_looked_at_only():
    view = FollowedView(behind_for=0.03)
    _engine()._settle_elsewhere(view, settle=2.0)
    assert view.max_tracking_id("Petitions") == END
    assert view.stall_questions == 0
    assert 2 <= view.looks - 1 <= 5  # the arrival look, then a few on a doubling pause


def test_a_stalled_view_is_asked_once_and_the_read_goes_on():
    view = FollowedView(stalled_before=END - 2)
    started = time.monotonic()
    _engine()._settle_elsewhere(view, settle=2.0)
    waited = time.monotonic() - started
    assert view.stall_questions == 1
    assert STALL_AFTER <= waited < STALL_AFTER + 0.5  # not the whole settle time


def test_a_view_that_stays_behind_without_a_stall_waits_out_the_settle_time():
    view = FollowedView(behind_for=10.0)
    started = time.monotonic()
    _engine()._settle_elsewhere(view, settle=0.3)
    assert 0.3 <= time.monotonic() - started < 1.0
    assert view.stall_questions == 1
