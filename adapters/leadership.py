"""One leader per role part: run it while holding its lock, stand by otherwise.

Every ``poll`` seconds a standby tries the lock (``adapters/persistence/leader_lock.py``); the
one that gets it starts the part and, at every poll, checks that the lock's session still
answers — if not, it stops the part at once, since another process may lead now. Running the
part twice for a moment is harmless in every role (views and the relay record positions that
only move forward, a supervision rung is saved only onto the version it was decided on); the
lock is there so that, normally, one process does the work and the relay keeps one order.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Protocol

import structlog

from adapters.persistence.leader_lock import LeaderLock
from workflows.retrying import Backoff, LoopHealth, describe

log = structlog.get_logger("petition.leader")
LEADER, STANDBY, STOPPED = "leader", "standby", "stopped"


class Running(Protocol):
    """A started part: stops on request and reports its loops' health."""

    def stop(self) -> None: ...

    def health(self) -> list[LoopHealth]: ...


class Leader:
    def __init__(self, part: str, lock: LeaderLock, start: Callable[[], Running], *,
                 poll: float = 1.0):
        self.part, self.lock, self.start, self.poll = part, lock, start, poll
        self.state, self.since = STANDBY, datetime.now(UTC)
        self.running: Running | None = None
        self.lock_health = LoopHealth(f"{part} leader lock")  # the store answers our lock
        self.stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def run(self) -> None:
        retry = Backoff(initial=self.poll, maximum=max(self.poll, 10.0))
        while not self.stopped.is_set():
            try:
                self._step()
            except Exception as error:  # noqa: BLE001 - the store is away: standing by, retried
                self._stand_by("lock_failed", error=describe(error))
                delay = retry.next()
                self.lock_health.retrying(error, delay, part=self.part)
                self.stopped.wait(delay)
                continue
            retry.reset()
            self.lock_health.recovered(part=self.part)
            self.stopped.wait(self.poll)
        self._stand_by("stopping")
        self.state = STOPPED
        self.lock.release()

    def _step(self) -> None:
        if self.running is not None:
            if not self.lock.holds():
                self._stand_by("lock_lost")
            return
        if self.lock.try_acquire():
            try:
                self.running = self.start()
            except BaseException:
                self.lock.release()
                raise
            self.state, self.since = LEADER, datetime.now(UTC)
            log.info("leader.elected", part=self.part, pid=os.getpid())

    def _stand_by(self, why: str, **context: Any) -> None:
        running, self.running = self.running, None
        if running is not None:
            (log.info if why == "stopping" else log.warning)(
                "leader.stepping_down", part=self.part, why=why, **context)
            running.stop()
            self.lock.release()
        if self.state != STANDBY:
            self.state, self.since = STANDBY, datetime.now(UTC)

    def status(self) -> dict[str, Any]:
        """For /readyz: leading (with its loops' health) or standing by (naming the leader)."""
        out: dict[str, Any] = {"state": self.state, "since": self.since.isoformat()}
        if not self.lock_health.ok:
            out["lock"] = self.lock_health.as_dict()
        running = self.running
        if self.state == LEADER and running is not None:
            out["loops"] = {h.name: h.as_dict() for h in running.health()}
        elif self.state == STANDBY and self.lock_health.ok:
            try:
                out["leader"] = self.lock.holder()  # None: the lock is free, taken next poll
            except Exception as error:  # noqa: BLE001 - only a description
                out["leader_unknown"] = describe(error)
        return out

    def not_ready(self) -> list[str]:
        """What stops this part from being ready: its lock's store, or a leading loop."""
        problems = [] if self.lock_health.ok else [self.lock_health.summary()]
        running = self.running
        if running is not None:
            problems += [h.summary() for h in running.health() if not h.ok]
        return problems

    def begin(self) -> Leader:
        self._thread = threading.Thread(target=self.run, name=f"leader-{self.part}",
                                        daemon=True)
        self._thread.start()
        return self

    def end(self, timeout: float = 30) -> None:
        self.stopped.set()
        if self._thread is not None:
            self._thread.join(timeout)
