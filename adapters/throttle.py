"""Throttles query-code guessing, per client and per code, in a sliding window.

Kept in process memory: one service instance enforces its own limits. Behind several
instances, put the same limits in the load balancer (see docs/operations.md). The client is the
connection's peer address: ``petition serve`` believes X-Forwarded-For only from the proxies
listed in PETITION_TRUSTED_PROXIES, so a header cannot buy a fresh allowance.

Memory is bounded: keys are kept least recently used first; keys whose attempts have all left
the window are dropped as the window moves on, and past ``max_keys`` the least recently used
key goes.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from threading import Lock

DEFAULT_MAX_KEYS = 50_000


class Throttled(Exception):
    def __init__(self, retry_after: int):
        self.retry_after = retry_after
        super().__init__(f"too many attempts; retry after {retry_after} s")


class SlidingWindow:
    def __init__(self, limit: int, seconds: float, clock: Callable[[], float] = time.monotonic,
                 *, max_keys: int = DEFAULT_MAX_KEYS):
        self.limit, self.seconds, self.clock, self.max_keys = limit, seconds, clock, max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = Lock()

    def __len__(self) -> int:
        return len(self._hits)

    def check(self, key: str) -> None:
        """Raises Throttled when ``key`` already used its attempts in the window."""
        with self._lock:
            hits = self._live(key)
            if len(hits) >= self.limit:
                raise Throttled(max(1, math.ceil(hits[0] + self.seconds - self.clock())))

    def hit(self, key: str) -> None:
        with self._lock:
            hits = self._live(key)
            hits.append(self.clock())
            self._hits[key] = hits
            self._hits.move_to_end(key)
            self._forget()

    def _live(self, key: str) -> deque[float]:
        """The key's attempts still inside the window (a fresh deque if none)."""
        hits = self._hits.get(key, deque())
        horizon = self.clock() - self.seconds
        while hits and hits[0] <= horizon:
            hits.popleft()
        if not hits:
            self._hits.pop(key, None)
        return hits

    def _forget(self) -> None:
        """Drops the least recently used keys that have expired, and any beyond the cap."""
        horizon = self.clock() - self.seconds
        while self._hits:
            oldest, hits = next(iter(self._hits.items()))
            if len(self._hits) <= self.max_keys and hits and hits[-1] > horizon:
                return
            del self._hits[oldest]


class QueryCodeThrottle:
    """Every attempt counts against the client; failures also count against the code."""

    def __init__(self, per_client: int = 30, per_code_failures: int = 5, window: float = 900,
                 clock: Callable[[], float] = time.monotonic, *,
                 max_keys: int = DEFAULT_MAX_KEYS):
        self.clients = SlidingWindow(per_client, window, clock, max_keys=max_keys)
        self.codes = SlidingWindow(per_code_failures, window, clock, max_keys=max_keys)

    def before(self, client: str, code_key: str) -> None:
        self.clients.check(client)
        self.codes.check(code_key)
        self.clients.hit(client)

    def failed(self, code_key: str) -> None:
        self.codes.hit(code_key)
