"""Throttles query-code guessing, per client and per code, in a sliding window.

``QueryCodeThrottle`` keeps them in process memory; ``SharedQueryCodeThrottle``, what
``petition serve`` uses, holds them across every process on the store (``serve --workers N``,
several instances behind a load balancer) with the in-memory one as a front. The client is the
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
from typing import Any

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


class SharedQueryCodeThrottle:
    """The same limits, held across every process on the store (``serve --workers N``).

    The in-process throttle stays in front: a client this process alone has seen exceed its
    allowance is refused without a statement. Behind it, the store's counters
    (``adapters/persistence/shared_counters.py``, fixed windows of ``window`` seconds) count
    every attempt of every process. Keys reach the store only as keyed hashes (``hide``)."""

    def __init__(self, counters: Any, hide: Callable[[str], str], per_client: int = 30,
                 per_code_failures: int = 5, window: float = 900, *,
                 max_keys: int = DEFAULT_MAX_KEYS):
        self.local = QueryCodeThrottle(per_client, per_code_failures, window, max_keys=max_keys)
        self.counters, self.hide, self.window = counters, hide, window
        self.per_client, self.per_code_failures = per_client, per_code_failures

    def before(self, client: str, code_key: str) -> None:
        self.local.before(client, code_key)
        (hits, left), (failures, failures_left) = self.counters.count(
            self.window, add=self.hide(f"client\x00{client}"),
            peek=self.hide(f"code\x00{code_key}"))
        if hits > self.per_client:
            raise Throttled(max(1, math.ceil(left)))
        if failures >= self.per_code_failures:
            raise Throttled(max(1, math.ceil(failures_left)))

    def failed(self, code_key: str) -> None:
        self.local.failed(code_key)
        self.counters.count(self.window, add=self.hide(f"code\x00{code_key}"))
