"""Throttles query-code guessing, per client and per code, in a sliding window.

Kept in process memory: one service instance enforces its own limits. Behind several
instances, put the same limits in the load balancer (see docs/operations.md).
"""

from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from collections.abc import Callable
from threading import Lock


class Throttled(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"too many attempts; retry after {retry_after} s")


class SlidingWindow:
    def __init__(self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic):
        self.limit, self.seconds, self.clock = limit, seconds, clock
        self._hits: dict[str, deque[float]] = defaultdict(deque)
        self._lock = Lock()

    def check(self, key: str) -> None:
        """Raises Throttled when ``key`` already used its attempts in the window."""
        with self._lock:
            hits = self._prune(key)
            if len(hits) >= self.limit:
                raise Throttled(max(1, math.ceil(hits[0] + self.seconds - self.clock())))

    def hit(self, key: str) -> None:
        with self._lock:
            self._prune(key).append(self.clock())

    def _prune(self, key: str) -> deque[float]:
        hits = self._hits[key]
        horizon = self.clock() - self.seconds
        while hits and hits[0] <= horizon:
            hits.popleft()
        if not hits:
            self._hits.pop(key, None)
            hits = self._hits[key]
        return hits


class QueryCodeThrottle:
    """Every attempt counts against the client; failures also count against the code."""

    def __init__(self, per_client: int = 30, per_code_failures: int = 5, window: float = 900,
                 clock: Callable[[], float] = time.monotonic):
        self.clients = SlidingWindow(per_client, window, clock)
        self.codes = SlidingWindow(per_code_failures, window, clock)

    def before(self, client: str, code_key: str) -> None:
        self.clients.check(client)
        self.codes.check(code_key)
        self.clients.hit(client)

    def failed(self, code_key: str) -> None:
        self.codes.hit(code_key)
