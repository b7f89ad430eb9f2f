"""Following the event log: PostgreSQL's LISTEN/NOTIFY subscription, and a prompt SQLite one.

eventsourcing 9.5.6 has no SQLite subscription (``SQLiteApplicationRecorder.subscribe`` raises
NotImplementedError), so ``SQLiteSubscription`` reuses the library's pull machinery and wakes
it by watching ``MAX(rowid)`` every 20 ms — a single index lookup. Both hand out what they
pulled in batches (``next_batch``) so a projection can commit many events in one transaction.
"""

from __future__ import annotations

from threading import Event, Thread
from typing import Any

from eventsourcing.persistence import ApplicationRecorder, ListenNotifySubscription, Notification
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresSubscription

POLL_SECONDS = 0.02
SAFETY_POLL_SECONDS = 1.0


class _Batches:
    _notifications: Any
    _notifications_index: int

    def next_batch(self) -> list[Notification]:
        """The next notification and the rest already pulled; StopIteration once stopped."""
        first: Notification = next(self)  # type: ignore[call-overload]
        rest = list(self._notifications[self._notifications_index:])
        self._notifications_index = len(self._notifications)
        return [first, *rest]


class PostgresBatchSubscription(_Batches, PostgresSubscription):
    """LISTEN/NOTIFY, with a once-a-second look at ``MAX(notification_id)`` as a safety net: a
    notification lost between catching up and listening (or on a dropped session) would
    otherwise leave the follower waiting for the next write."""

    def __init__(self, recorder: PostgresApplicationRecorder, gt: int | None = None) -> None:
        self._stopping = Event()
        super().__init__(recorder=recorder, gt=gt)
        self._poll_thread = Thread(target=_watch, args=(self, SAFETY_POLL_SECONDS), daemon=True)
        self._poll_thread.start()

    def stop(self) -> None:
        self._stopping.set()
        super().stop()


class SQLiteSubscription(_Batches, ListenNotifySubscription[ApplicationRecorder]):
    def __init__(self, recorder: ApplicationRecorder, gt: int | None = None) -> None:
        self._stopping = Event()
        super().__init__(recorder=recorder, gt=gt)
        self._poll_thread = Thread(target=self._poll, daemon=True)
        self._poll_thread.start()

    def stop(self) -> None:
        self._stopping.set()
        super().stop()

    def __exit__(self, *args: object, **kwargs: Any) -> None:
        try:
            super().__exit__(*args, **kwargs)
        finally:
            self._poll_thread.join()

    def _poll(self) -> None:
        _watch(self, POLL_SECONDS)


def _watch(subscription: Any, every: float) -> None:
    """Wakes the subscription's pull when the log has grown past what it handed out."""
    try:
        while not subscription._stopping.wait(every):
            top = subscription._recorder.max_notification_id() or 0
            if top > (subscription._last_notification_id or 0):
                subscription._has_been_notified.set()
    except BaseException as error:  # noqa: BLE001 - surfaced through __next__
        if subscription._thread_error is None:
            subscription._thread_error = error
        subscription.stop()


def subscribe(recorder: ApplicationRecorder, gt: int | None) -> _Batches:
    if isinstance(recorder, PostgresApplicationRecorder):
        return PostgresBatchSubscription(recorder=recorder, gt=gt)
    return SQLiteSubscription(recorder=recorder, gt=gt)
