"""A size-capped, expiring map: every in-memory store of the citizen pages is one of these,
so no stream of requests can grow the process's memory without bound."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from typing import Generic, TypeVar

V = TypeVar("V")


class BoundedMap(Generic[V]):
    def __init__(self, capacity: int, ttl: float, clock: Callable[[], float] = time.monotonic):
        self.capacity, self.ttl, self.clock = capacity, ttl, clock
        self._items: OrderedDict[str, tuple[float, V]] = OrderedDict()
        self._lock = Lock()

    def put(self, key: str, value: V) -> None:
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = (self.clock() + self.ttl, value)
            while len(self._items) > self.capacity:
                self._items.popitem(last=False)  # the oldest goes first

    def get(self, key: str) -> V | None:
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            if item[0] <= self.clock():
                del self._items[key]
                return None
            return item[1]

    def pop(self, key: str) -> V | None:
        with self._lock:
            item = self._items.pop(key, None)
        return item[1] if item and item[0] > self.clock() else None

    def __len__(self) -> int:
        return len(self._items)


class Limit:
    """At most ``limit`` hits per key in a sliding ``window`` of seconds; bounded keys."""

    def __init__(self, limit: int, window: float, capacity: int = 100_000,
                 clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._hits: BoundedMap[list[float]] = BoundedMap(capacity, window, clock)

    def allow(self, key: str) -> bool:
        """Counts a hit and says whether it is within the limit."""
        now = self.clock()
        hits = [t for t in (self._hits.get(key) or []) if t > now - self.window]
        if len(hits) >= self.limit:
            return False
        self._hits.put(key, [*hits, now])
        return True
