"""One read of the store for a case that several views miss together.

The live runner's views follow the same log in threads of their own, woken by the same
notification. A case the views have not seen lately (most of a large store's cases) is missed
by each view's ``CaseStates`` at the same version, within milliseconds of each other, and each
loaded it from the store: two snapshot and event reads, decryption and replay per view, the
largest part of the runner's CPU per live event (docs/performance.md, figure 12). Here the
first view to miss a case at a version loads it; a view missing the same case at the same
version meanwhile waits for that load and gets a copy of it (``Petition.__deepcopy__``, as the
repository's cache hands out copies). Stored events never change, so the copy is the state a
load of its own would have returned.

Only what a load returned at exactly the version asked is shared, and only briefly (``TTL``):
a failed load is not shared (each view then loads, and fails or stalls, on its own), and a view
retrying after a stall or an outage reads the store again as before.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from copy import deepcopy
from threading import Event, Lock
from uuid import UUID

from domain.petition import Petition
from projections.case_states import Loader

TTL = 1.0  # seconds a load is handed to other views: they miss a case together, or not at all
CAPACITY = 256  # loads held at most (each is one case, briefly)


class _Load:
    __slots__ = ("at", "done", "petition")

    def __init__(self) -> None:
        self.done = Event()
        self.petition: Petition | None = None  # a pristine copy; None while loading or failed
        self.at = time.monotonic()


class SharedLoads:
    """A ``Loader`` for several views' ``CaseStates`` (thread-safe)."""

    def __init__(self, load: Loader, *, ttl: float = TTL, capacity: int = CAPACITY):
        self.load, self.ttl, self.capacity = load, ttl, capacity
        self._loads: OrderedDict[tuple[int, int], _Load] = OrderedDict()
        self._lock = Lock()
        self.shared = 0  # loads handed out as copies instead of read again (for probes)

    def __call__(self, case_id: UUID, version: int) -> Petition:
        key = (case_id.int, version)
        with self._lock:
            entry = self._loads.get(key)
            if entry is not None and entry.done.is_set() and (
                    entry.petition is None or time.monotonic() - entry.at > self.ttl):
                entry = None
            mine = entry is None
            if entry is None:
                entry = self._loads[key] = _Load()
                self._loads.move_to_end(key)
                while len(self._loads) > self.capacity:
                    self._loads.popitem(last=False)
        if not mine:
            entry.done.wait()
            if entry.petition is None:  # that load failed: this view reads on its own
                return self.load(case_id, version)
            with self._lock:
                self.shared += 1
            return deepcopy(entry.petition)
        try:
            petition = self.load(case_id, version)
            if petition.version == version:
                entry.petition = deepcopy(petition)
                entry.at = time.monotonic()
            return petition
        finally:
            entry.done.set()
