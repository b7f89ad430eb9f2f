"""The shared tail (projections/tail.py) on a log in memory: every follower gets every batch
after the position it joined at, in order, once; a follower that falls behind is dropped; a
failed subscription reaches every follower and the tail resumes from its position. A property
checks the runner's way of using it: read on your own up to where you joined, then take the
tail's batches after your position, leave and rejoin at any moment."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from projections import tail as t
from workflows.retrying import Backoff


@dataclass(frozen=True)
class N:
    id: int


class Log:
    """A log in memory and subscriptions to it: ``next_batch`` hands out what was appended."""

    def __init__(self) -> None:
        self.events: list[N] = []
        self.cond = threading.Condition()
        self.subscribed: list[int] = []
        self.fail_next = False

    def append(self, count: int) -> None:
        with self.cond:
            top = self.events[-1].id if self.events else 0
            self.events += [N(top + k + 1) for k in range(count)]
            self.cond.notify_all()

    def top(self) -> int:
        return self.events[-1].id if self.events else 0

    def after(self, position: int, end: int | None = None) -> list[N]:
        return [n for n in self.events if n.id > position and (end is None or n.id <= end)]

    def subscribe(self, gt: int) -> Sub:
        self.subscribed.append(gt)
        return Sub(self, gt)


class Sub:
    def __init__(self, log: Log, gt: int) -> None:
        self.log, self.last, self.stopped = log, gt, False

    def __enter__(self) -> Sub:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        with self.log.cond:
            self.stopped = True
            self.log.cond.notify_all()

    def next_batch(self) -> list[N]:
        with self.log.cond:
            while True:
                if self.stopped:
                    raise StopIteration
                if self.log.fail_next:
                    self.log.fail_next = False
                    raise ConnectionError("the store went away")
                batch = self.log.after(self.last)
                if batch:
                    self.last = batch[-1].id
                    return batch
                self.log.cond.wait(0.05)


def _tail(log: Log, stopped: threading.Event) -> t.Tail:
    return t.Tail(log.subscribe, log.top, Backoff(0.01, 0.02))


def _drain(follower: t.Follower, stopped: threading.Event, until: int) -> list[int]:
    seen: list[int] = []
    while not seen or seen[-1] < until:
        batch = follower.next(stopped, poll=0.05)
        assert batch is not None
        seen += [n.id for n in batch]
    return seen


def test_followers_get_every_batch_after_their_join_once_in_order() -> None:
    log, stopped = Log(), threading.Event()
    log.append(3)
    tail = _tail(log, stopped)
    first = tail.join()
    assert first.at == 3 and log.subscribed == [3]  # starts at the log's end
    log.append(4)
    assert _drain(first, stopped, 7) == [4, 5, 6, 7]
    second = tail.join()
    assert second.at == 7
    log.append(2)
    assert _drain(first, stopped, 9) == [8, 9]
    assert _drain(second, stopped, 9) == [8, 9]
    tail.leave(second)
    log.append(1)
    assert _drain(first, stopped, 10) == [10]
    assert second.queue.empty()
    stopped.set()
    tail.stop()
    assert first.next(stopped) is None
    assert log.subscribed == [3]  # one subscription for all


def test_a_follower_that_falls_behind_is_dropped_and_told_once_drained(monkeypatch) -> None:
    monkeypatch.setattr(t, "MAX_PENDING", 2)
    log, stopped = Log(), threading.Event()
    tail = _tail(log, stopped)
    slow, quick = tail.join(), tail.join()
    for n in range(4):
        log.append(1)
        assert _drain(quick, stopped, n + 1) == [n + 1]
    deadline = time.monotonic() + 5
    while not slow.dropped and time.monotonic() < deadline:
        time.sleep(0.01)
    assert slow.dropped
    assert [n.id for b in iter(lambda: slow.next(stopped, poll=0.05), None) for n in b] == [1, 2]
    log.append(1)
    assert _drain(quick, stopped, 5) == [5]  # the others go on
    stopped.set()
    tail.stop()


def test_a_failed_subscription_reaches_every_follower_and_the_tail_resumes() -> None:
    log, stopped = Log(), threading.Event()
    tail = _tail(log, stopped)
    a, b = tail.join(), tail.join()
    log.append(2)
    assert _drain(a, stopped, 2) == [1, 2] and _drain(b, stopped, 2) == [1, 2]
    with log.cond:
        log.fail_next = True
        log.cond.notify_all()
    for follower in (a, b):
        try:
            follower.next(stopped, poll=0.05)
            raise AssertionError("the error was not handed on")
        except ConnectionError:
            pass
    deadline = time.monotonic() + 5
    while len(log.subscribed) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert log.subscribed == [0, 2]  # resubscribed from where it was
    again = tail.join()
    assert again.at == 2
    log.append(1)
    assert _drain(again, stopped, 3) == [3]
    stopped.set()
    tail.stop()


def test_the_last_view_to_leave_stops_the_tail_and_a_later_join_starts_it_again() -> None:
    log, stopped = Log(), threading.Event()
    tail = _tail(log, stopped)
    a, b = tail.join(), tail.join()
    tail.leave(a)
    log.append(1)
    assert _drain(b, stopped, 1) == [1]  # the others go on
    tail.leave(b)
    assert tail.position is None and log.subscribed == [0]
    log.append(2)
    again = tail.join()
    assert again.at == 3 and log.subscribed == [0, 3]
    log.append(1)
    assert _drain(again, stopped, 4) == [4]
    tail.stop()


@dataclass
class ViewModel:
    """The runner's use of the tail for one view (``ProjectionRunner._follow_once``)."""

    applied: list[int]
    follower: Any = None
    position: int = 0

    def join(self, tail: t.Tail, log: Log) -> None:
        self.follower = tail.join()
        for n in log.after(self.position, self.follower.at):  # reads on its own
            self.applied.append(n.id)
            self.position = n.id

    def take(self, stopped: threading.Event) -> bool:
        if self.follower is None:
            return False
        if self.follower.queue.empty():
            if self.follower.dropped:  # fell behind: reads on its own when it joins again
                self.follower = None
            return False
        batch = self.follower.next(stopped, poll=0.01)
        if batch is None:
            self.follower = None
            return False
        for n in batch:
            if n.id > self.position:
                self.applied.append(n.id)
                self.position = n.id
        return True


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["append", "take", "leave", "join"]),
                          st.integers(0, 2), st.integers(1, 3)), max_size=40))
def test_views_leaving_and_rejoining_apply_every_event_once_in_order(steps) -> None:
    with patch.object(t, "MAX_PENDING", 3):  # views fall behind and are dropped, too
        _views_leaving_and_rejoining(steps)


def _views_leaving_and_rejoining(steps: list[tuple[str, int, int]]) -> None:
    log, stopped = Log(), threading.Event()
    log.append(2)
    tail = _tail(log, stopped)
    views = [ViewModel([]) for _ in range(3)]
    for view in views:
        view.join(tail, log)
    try:
        for op, k, count in steps:
            view = views[k]
            if op == "append":
                log.append(count)
            elif op == "take":
                _settle(tail, log)
                for _ in range(count):
                    view.take(stopped)
            elif op == "leave" and view.follower is not None:
                tail.leave(view.follower)
                view.follower = None
            elif op == "join" and view.follower is None:
                view.join(tail, log)
        _settle(tail, log)
        for view in views:  # every view follows to the end, as _follow_once does:
            while True:      # takes batches until none is queued, rejoins when dropped
                if view.follower is None:
                    view.join(tail, log)
                if not view.take(stopped) and view.follower is not None:
                    break
            assert view.applied == [n.id for n in log.events]
    finally:
        stopped.set()
        tail.stop()


def _settle(tail: t.Tail, log: Log) -> None:
    """Waits until the tail has handed out everything appended (its thread pulls)."""
    deadline = time.monotonic() + 5
    while (tail.position or 0) < log.top() and time.monotonic() < deadline:
        time.sleep(0.001)
