"""How the long-running loops retry and what they report meanwhile.

Every loop of the engine (each view's follower, the supervision timer, the Kafka relay and
subscriber) survives its dependency going away: it waits a ``Backoff`` (exponential, capped,
with jitter so many processes do not retry in step) and tries again from its recorded position.
Meanwhile its ``LoopHealth`` says what it is doing — following, retrying since when and why, or
stalled on one event it cannot apply — for ``/readyz`` and the status commands. A loop logs the
start of a failure once (error), and its recovery once (info); attempts in between are warnings.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog

log = structlog.get_logger("petition.loops")

FOLLOWING, RETRYING, STALLED = "following", "retrying", "stalled"


@dataclass
class Backoff:
    """Delays after consecutive failures: initial, ×2 each time, never above ``maximum``;
    each delay is drawn between half and all of that (jitter)."""

    initial: float = 0.1
    maximum: float = 5.0
    attempts: int = 0

    def next(self) -> float:
        self.attempts += 1
        ceiling = min(self.maximum, self.initial * 2.0 ** min(self.attempts - 1, 30))
        return ceiling * random.uniform(0.5, 1.0)  # jitter, not security

    def reset(self) -> None:
        self.attempts = 0


def describe(error: BaseException) -> str:
    """An error in one line: its type and message (no traceback, no newlines)."""
    text = " ".join(str(error).split())[:300]
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class LoopHealth:
    """The reported state of one loop; thread-safe, changed only by the loop itself."""

    def __init__(self, name: str):
        self.name = name
        self._lock = threading.Lock()
        self.state = FOLLOWING
        self.since: datetime | None = None
        self.error: str | None = None
        self.attempts = 0
        self.position: int | None = None  # stalled: the event it cannot apply
        self.case_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.state == FOLLOWING

    def retrying(self, error: BaseException, retry_in: float, **context: Any) -> None:
        """A failure not tied to one event (the store or the broker is away)."""
        with self._lock:
            first = self.state != RETRYING
            if first:
                self.state, self.since = RETRYING, _now()
                self.position = self.case_id = None
                self.attempts = 0
            self.attempts += 1
            self.error = describe(error)
        fields = dict(loop=self.name, attempt=self.attempts, retry_in_s=round(retry_in, 2),
                      error=self.error, **context)
        (log.error if first else log.warning)("loop.retrying", **fields)

    def stalled(self, position: int, case_id: str | None, error: BaseException) -> bool:
        """Cannot apply the event at ``position``; True when this is news (logged once)."""
        with self._lock:
            news = not (self.state == STALLED and self.position == position)
            if news:
                self.state, self.since = STALLED, _now()
                self.position, self.case_id = position, case_id
                self.attempts = 0
            self.attempts += 1
            self.error = describe(error)
        if news:
            log.error("loop.stalled", loop=self.name, position=position, case_id=case_id,
                      error=self.error)
        return news

    def recovered(self, **context: Any) -> bool:
        """Back to following; True (and one log line) if it was not."""
        with self._lock:
            if self.state == FOLLOWING:
                return False
            before, since, attempts = self.state, self.since, self.attempts
            self.state, self.since, self.error = FOLLOWING, None, None
            self.position = self.case_id = None
            self.attempts = 0
        log.info("loop.recovered", loop=self.name, was=before, attempts=attempts,
                 since=since.isoformat() if since else None, **context)
        return True

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            out: dict[str, Any] = {"state": self.state}
            if self.state != FOLLOWING:
                out.update(since=self.since.isoformat() if self.since else None,
                           error=self.error, attempts=self.attempts)
            if self.state == STALLED:
                out.update(position=self.position, case_id=self.case_id)
            return out

    def summary(self) -> str:
        """One line for a readiness answer: what is wrong with this loop."""
        d = self.as_dict()
        if d["state"] == STALLED:
            return (f"{self.name} stalled at event {d['position']} (case {d['case_id']}) "
                    f"since {d['since']}: {d['error']}")
        if d["state"] == RETRYING:
            return (f"{self.name} retrying since {d['since']} ({d['attempts']} attempts): "
                    f"{d['error']}")
        return f"{self.name} following"


def _now() -> datetime:
    return datetime.now(UTC)
