"""The running server's integrity check is throttled: however often /readyz asks, quick_check
runs at most once per interval, in the background, and its verdict is what readiness shows."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters import sqlite_file
from adapters.sqlite_file import IntegrityWatch


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _finished(watch: IntegrityWatch) -> None:
    assert watch._running.acquire(timeout=10)  # the background check is over
    watch._running.release()


def test_quick_check_runs_once_per_interval_whatever_the_probes(monkeypatch: pytest.MonkeyPatch
                                                                ) -> None:
    checks: list[Path] = []
    verdicts = iter(["database disk image is malformed", None])

    def check(path: Path, seconds: float) -> str | None:
        checks.append(path)
        return next(verdicts)

    monkeypatch.setattr(sqlite_file, "find_damage", check)
    clock = FakeClock()
    watch = IntegrityWatch(Path("petitions.db"), seconds=5, every=60, clock=clock)
    assert [watch.problem() for _ in range(100)] == [None] * 100  # start-up's verdict stands
    assert checks == []
    clock.now += 60
    for _ in range(100):
        watch.problem()
    _finished(watch)
    assert len(checks) == 1
    assert watch.problem() == "database disk image is malformed"
    clock.now += 59
    assert watch.problem() == "database disk image is malformed" and len(checks) == 1
    clock.now += 1
    watch.problem()
    _finished(watch)
    assert watch.problem() is None and len(checks) == 2  # restored: ready again


def test_zero_turns_the_repeat_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_file, "find_damage", lambda *_: pytest.fail("checked"))
    clock = FakeClock()
    watch = IntegrityWatch(Path("petitions.db"), seconds=5, every=0, clock=clock)
    clock.now += 10_000
    assert watch.problem() is None
