"""One read of the log for every live view: a shared tail.

The live runner's views follow the same log. Each used to have a subscription of its own (a
LISTEN session, a pull thread and a safety poll), so every live event woke four sets of threads
and was selected four times (docs/performance.md, figure 12). A ``Tail`` is one subscription in
one thread; it hands each batch it pulls to every view that has joined it.

A view joins with ``join()``, which returns the tail's position at that moment (``at``) and a
queue that receives every batch after it, in order, contiguous with ``at``. The view applies
what lies between its own position and ``at`` by reading the log itself (after a restart, a
stall, an outage or a fall behind), then takes the tail's batches, dropping any event at or
below its position. So no event is missed or applied twice, and each view still commits its
rows and position in transactions of its own and stalls alone: a view that fails leaves the
tail (``leave``); the others go on. A view whose queue holds ``MAX_PENDING`` batches is dropped
(``Follower.dropped``) and reads on its own until it joins again, so a slow view holds no
more than that in memory.

When the subscription fails, every follower gets the error (they retry as for any store
failure) and the tail subscribes again, after a backoff, from its position. The runners of one
process share one tail (``runner.Shared``); it runs while some view is on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from queue import Empty, Full, Queue
from threading import Event, Lock, Thread, current_thread
from typing import Any

from eventsourcing.persistence import Notification

from workflows.retrying import Backoff

MAX_PENDING = 100  # batches queued for a view before it is dropped to read on its own
STOP = None  # queued to every follower when the tail stops

Batch = Sequence[Notification]


class Follower:
    """A view's place on the tail: the batches handed to it since it joined."""

    def __init__(self, at: int) -> None:
        self.at = at  # the tail's position when the view joined: batches start after it
        self.queue: Queue[Batch | BaseException | None] = Queue(maxsize=MAX_PENDING)
        self.dropped = False  # fell MAX_PENDING batches behind: to read on its own, then rejoin

    def next(self, stopped: Event, poll: float = 0.5) -> Batch | None:
        """The next batch; None when stopped or dropped (its queue drained); raises the tail's
        error."""
        while not stopped.is_set():
            try:
                item = self.queue.get(timeout=poll)
            except Empty:
                if self.dropped:
                    return None
                continue
            if isinstance(item, BaseException):
                raise item
            return item
        return None


class Tail:
    """One subscription to the log, its batches handed to every view that joined it.

    Several runners of one process may share a tail (``petition worker views`` runs one per
    view, each under its own leader lock). It runs while some view is on it: the first join
    subscribes at the log's end; when the last view leaves, the subscription stops.
    """

    def __init__(self, subscribe: Callable[[int], Any], top: Callable[[], int | None],
                 retry: Backoff) -> None:
        self._subscribe, self._top, self._retry = subscribe, top, retry
        self._lock = Lock()
        self._run: _Run | None = None

    @property
    def position(self) -> int | None:
        """The last position handed out to every follower (None while the tail is not
        running). Read under the lock, which a hand holds from taking a batch's position until
        every follower has it: a caller never sees a position whose batch is not queued yet."""
        with self._lock:
            run = self._run
            return None if run is None else run.position

    def join(self) -> Follower:
        """A place on the tail. The first join starts it at the log's end (a store read here,
        in the view's thread: a failure is the view's to retry)."""
        with self._lock:
            if self._run is None:
                self._run = _Run(self, self._top() or 0)
            follower = Follower(self._run.position)
            self._run.followers.append(follower)
            return follower

    def leave(self, follower: Follower) -> None:
        """Off the tail; the last view to leave stops it."""
        with self._lock:
            run = self._run
            if run is None:
                return
            if follower in run.followers:
                run.followers.remove(follower)
            if run.followers:
                return
            self._run = None
        run.stop()

    def stop(self) -> None:
        """Stops the subscription; every view on the tail gets STOP."""
        with self._lock:
            run, self._run = self._run, None
        if run is not None:
            run.stop()


class _Run:
    """A tail's subscription from one start to its stop, in a thread of its own."""

    def __init__(self, tail: Tail, position: int) -> None:
        self.tail, self.position = tail, position  # the last position handed out
        self.followers: list[Follower] = []
        self.stopped = Event()
        self._subscription: Any = None
        self._thread = Thread(target=self._run, name="projection-tail", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        retry = self.tail._retry
        while not self.stopped.is_set():
            try:
                self._follow()
            except Exception as error:  # noqa: BLE001 - the followers retry; so does the tail
                self._hand(error, drop_all=True)
                self.stopped.wait(retry.next())
        self._hand(STOP, drop_all=True)

    def _follow(self) -> None:
        subscription = self.tail._subscribe(self.position)
        with subscription:
            self._subscription = subscription
            if self.stopped.is_set():  # stopped while subscribing
                return
            while not self.stopped.is_set():
                try:
                    batch = subscription.next_batch()
                except StopIteration:
                    return
                self.tail._retry.reset()
                self._hand(batch)

    def _hand(self, item: Batch | BaseException | None, *, drop_all: bool = False) -> None:
        with self.tail._lock:
            if isinstance(item, Sequence) and item:
                self.position = item[-1].id
            for follower in list(self.followers):
                try:
                    follower.queue.put_nowait(item)
                except Full:
                    follower.dropped = True
                    self.followers.remove(follower)
            if drop_all:
                self.followers.clear()

    def stop(self) -> None:
        self.stopped.set()
        subscription = self._subscription
        if subscription is not None:
            subscription.stop()
        if self._thread is not current_thread():
            self._thread.join(timeout=10)
