"""How busy the events table's write lock was during a run (figure 2).

Every insert into the events table takes the library's ``LOCK TABLE … IN EXCLUSIVE MODE``
(insert order is commit order, which subscribers rely on), so writers queue one transaction
at a time. A thread samples ``pg_locks`` every few milliseconds: the share of samples in which
the lock was held says how near the figure is to that serial bound (near 1: the lock bounds
it; well below: the CPU or the clients do), and the mean number of transactions waiting for
it, how long the queue was.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import psycopg

_SAMPLE = """
SELECT count(*) FILTER (WHERE l.granted), count(*) FILTER (WHERE NOT l.granted)
FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %s AND l.locktype = 'relation' AND l.mode = 'ExclusiveLock'
"""


@dataclass(frozen=True)
class LockUse:
    held: float  # share of samples with the lock granted to a transaction
    waiting: float  # mean number of transactions waiting for it
    samples: int


class LockSampler:
    """Samples the write lock of the tables in ``schema`` until stopped (see the module)."""

    def __init__(self, url: str, schema: str, every: float = 0.01):
        self.url, self.schema, self.every = url, schema, every
        self._samples: list[tuple[float, int, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="lock-sampler")

    def __enter__(self) -> LockSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                row = conn.execute(_SAMPLE, (self.schema,), prepare=True).fetchone()
                assert row is not None
                self._samples.append((time.monotonic(), row[0], row[1]))
                self._stop.wait(self.every)

    def between(self, start: float, end: float) -> LockUse | None:
        """The lock's use in the samples taken between two ``time.monotonic()`` readings."""
        inside = [(held, waiting) for t, held, waiting in self._samples if start <= t <= end]
        if not inside:
            return None
        return LockUse(sum(1 for held, _ in inside if held) / len(inside),
                       sum(w for _, w in inside) / len(inside), len(inside))
