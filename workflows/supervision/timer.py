"""The timer that drives the supervision process: a tick now, then one every interval.

Runs as a daemon thread inside ``petition serve`` or in the foreground as ``petition
supervise --every N``. Before each tick the supervision queue is brought up to the log's end,
so the process decides on every event written so far. A failed tick (the store away, the queue
stalled) is retried with backoff, sooner than the next interval, and ``health`` says so.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

import structlog

from workflows.application import PetitionApplication
from workflows.retrying import Backoff, LoopHealth
from workflows.supervision.process import Issued, SupervisionProcess

log = structlog.get_logger("supervision")


class SupervisionTimer:
    def __init__(self, app: PetitionApplication, process: SupervisionProcess,
                 refresh: Callable[[], None], interval: float = 60.0,
                 also: Sequence[Callable[[datetime], Any]] = ()):
        self.app, self.process, self.refresh, self.interval = app, process, refresh, interval
        self.also = tuple(also)  # further timed duties after each tick (reception reminders)
        self.stopped = threading.Event()
        self.health = LoopHealth("supervision timer")
        self._thread: threading.Thread | None = None

    def tick(self) -> list[Issued]:
        self.refresh()
        now = self.app.clock.now()
        issued = self.process.tick(now)
        log.info("supervision tick", at=now.isoformat(), measures=len(issued))
        for item in issued:
            log.info("measure issued", case_id=str(item.case_id), unit=item.unit,
                     rule=item.measure.rule)
        for duty in self.also:
            duty(now)
        return issued

    def run(self) -> None:
        backoff = Backoff(initial=1.0, maximum=max(1.0, min(self.interval, 60.0)))
        while not self.stopped.is_set():
            try:
                self.tick()
            except Exception as error:  # noqa: BLE001 - retried with backoff, reported
                delay = backoff.next()
                self.health.retrying(error, delay)
                self.stopped.wait(delay)
                continue
            backoff.reset()
            self.health.recovered()
            self.stopped.wait(self.interval)

    def start(self) -> SupervisionTimer:
        self._thread = threading.Thread(target=self.run, name="supervision", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
