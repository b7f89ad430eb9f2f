"""A bounded, thread-safe map of values that stay true once stored (least recently used goes
first): what a process may keep of records that are written once, or that only grow."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from threading import Lock
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class Held(Generic[K, V]):
    def __init__(self, maxsize: int):
        self._maxsize = maxsize
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V, *, over: Callable[[V], bool] | None = None) -> None:
        """Holds ``value``; where a value is held already, only if ``over(held)`` (checked and
        replaced under the lock: a slower thread never puts back an older value)."""
        with self._lock:
            held = self._items.get(key)
            if held is not None and over is not None and not over(held):
                return
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self._maxsize:
                self._items.popitem(last=False)
