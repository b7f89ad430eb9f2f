"""Running the read models: background threads that follow the log, catch-up and rebuild.

Each projection has its own thread and subscription, starting after its view's tracking
position. Notifications are applied in chunks of ``batch_size``, each chunk one transaction
(rows and tracking together), so a crash at any point leaves every view at a consistent
position from which the next run resumes — no event applied twice or skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from threading import Event, Thread
from typing import Any

import structlog
from eventsourcing.persistence import IntegrityError, Notification, OperationalError
from eventsourcing.projection import Projection
from eventsourcing.sqlite import SQLiteFactory

from projections.audit_trail import (
    AuditTrail,
    AuditTrailProjection,
    PostgresAuditTrail,
    SQLiteAuditTrail,
)
from projections.batching import BatchProjection, Item
from projections.case_states import CaseStates
from projections.case_view import (
    CaseView,
    CaseViewProjection,
    PostgresCaseView,
    SQLiteCaseView,
)
from projections.subscriptions import subscribe
from projections.supervision_queue import (
    PostgresSupervisionQueue,
    SQLiteSupervisionQueue,
    SupervisionQueue,
    SupervisionQueueProjection,
)
from projections.view import View
from projections.write_behind import WriteBehind
from workflows.application import PetitionApplication

log = structlog.get_logger("projections")
Progress = Callable[[int, int], None]  # (position reached, target position)


@dataclass(frozen=True)
class ReadModel:
    name: str
    projection: type[Projection[Any]]
    sqlite: type[View]
    postgres: type[View]


READ_MODELS: dict[str, ReadModel] = {m.name: m for m in (
    ReadModel("case_view", CaseViewProjection, SQLiteCaseView, PostgresCaseView),
    ReadModel("audit_trail", AuditTrailProjection, SQLiteAuditTrail, PostgresAuditTrail),
    ReadModel("supervision_queue", SupervisionQueueProjection, SQLiteSupervisionQueue,
              PostgresSupervisionQueue),
)}


def open_view(app: PetitionApplication, name: str) -> Any:
    """The named view in the application's own database (tables created if missing).

    Views use a connection pool of their own, so a long catch-up never holds the connection
    the application's commands are waiting for.
    """
    model = READ_MODELS[name]
    sqlite = isinstance(app.factory, SQLiteFactory)
    cls = model.sqlite if sqlite else model.postgres
    view = cls(_views_datastore(app),
               events_table_name=app.recorder.events_table_name)  # type: ignore[attr-defined]
    view.create_table()
    return view


def _views_datastore(app: PetitionApplication) -> Any:
    datastore = app.__dict__.get("_views_datastore")
    if datastore is None:
        datastore = type(app.factory)(app.env).datastore  # type: ignore[attr-defined]
        app.__dict__["_views_datastore"] = datastore
    return datastore


def case_view(app: PetitionApplication) -> CaseView:
    return open_view(app, "case_view")


def audit_trail(app: PetitionApplication) -> AuditTrail:
    return open_view(app, "audit_trail")


def supervision_queue(app: PetitionApplication) -> SupervisionQueue:
    return open_view(app, "supervision_queue")


def projection_for(app: PetitionApplication, name: str, view: View) -> Projection[Any]:
    states = CaseStates(lambda case_id, version: app.get_petition(case_id, version=version))
    return READ_MODELS[name].projection(  # type: ignore[call-arg]
        view, policy=app.policy, org=app.org, states=states)


def _items(app: PetitionApplication, notifications: Sequence[Notification]) -> list[Item]:
    return [Item(app.mapper.to_domain_event(n), n.id, n.topic, n.state) for n in notifications]


def apply(app: PetitionApplication, projection: BatchProjection, view: View,
          notifications: Sequence[Notification]) -> None:
    """Applies notifications in one transaction, with the position of the last.

    If another process applied some of them first (its tracking position is ahead), the
    transaction fails on the tracking row and rolls back; the rest is applied again, once.
    """
    while notifications:
        try:
            projection.process_batch(app.name, _items(app, notifications))
            return
        except IntegrityError:
            done = view.max_tracking_id(app.name) or 0
            remaining = [n for n in notifications if n.id > done]
            if len(remaining) == len(notifications):
                raise
            notifications = remaining


CATCH_UP_BATCH = 5000  # events per transaction when catching up or rebuilding
# Up to three batches are in flight (committing, queued, being prepared); the audit trail's
# chain heads in memory (50,000 cases) must hold all their cases.
MAX_CATCH_UP_BATCH = 10_000


def catch_up(app: PetitionApplication, name: str, *, batch_size: int = CATCH_UP_BATCH,
             progress: Progress | None = None, reset: bool = False) -> int:
    """Applies every event after the view's position up to the log's end; returns the count.

    Batches are larger than the live runner's: a view writes a case once per batch, so the
    more of a case's events a batch holds, the fewer rows a rebuild writes. Each batch is
    committed by a background thread while the next is prepared (``write_behind.py``). If
    another process advances the same view meanwhile, a commit fails on its tracking row and
    the catch-up resumes from the view's new position with fresh case state.
    """
    view = open_view(app, name)
    if reset:
        view.reset()
    target = app.recorder.max_notification_id() or 0
    count = 0
    while True:
        position = view.max_tracking_id(app.name) or 0
        if position >= target:
            return count
        projection = projection_for(app, name, view)
        writer = WriteBehind(lambda rows, at, p=projection: p.commit(app.name, rows, at),
                             (lambda at: progress(at, target)) if progress else None)
        try:
            _prepare_all(app, projection, position, target, batch_size, writer)
            writer.close()
            return count + writer.committed
        except IntegrityError:
            writer.close(raise_error=False)
            count += writer.committed
            if (view.max_tracking_id(app.name) or 0) <= (writer.position or position):
                raise  # nobody else advanced the view: not a lost race but a real conflict
        except BaseException:
            writer.close(raise_error=False)
            raise


def _prepare_all(app: PetitionApplication, projection: BatchProjection, position: int,
                 target: int, batch_size: int, writer: WriteBehind) -> None:
    while position < target:
        batch = app.recorder.select_notifications(
            start=position, limit=batch_size, stop=target, inclusive_of_start=False)
        if not batch:
            return
        writer.submit(projection.prepare(_items(app, batch)), batch[-1].id, len(batch))
        position = batch[-1].id


def rebuild(app: PetitionApplication, name: str, *, batch_size: int = CATCH_UP_BATCH,
            progress: Progress | None = None) -> int:
    """Empties the view and its position, then replays the whole log into it.

    Stop running projections first: a runner following the old position would keep going.
    """
    return catch_up(app, name, batch_size=batch_size, progress=progress, reset=True)


def status(app: PetitionApplication, names: Iterable[str] = READ_MODELS) -> list[dict[str, Any]]:
    top = app.recorder.max_notification_id() or 0
    out = []
    for name in names:
        position = open_view(app, name).max_tracking_id(app.name) or 0
        out.append({"name": name, "position": position, "log_end": top, "lag": top - position})
    return out


class ProjectionRunner:
    """Runs the named projections in background threads of this process."""

    def __init__(self, app: PetitionApplication, names: Iterable[str] = READ_MODELS, *,
                 batch_size: int = 500):
        self.app, self.batch_size = app, batch_size
        self.views: dict[str, View] = {name: open_view(app, name) for name in names}
        self.errors: list[BaseException] = []
        self.stopped = Event()
        self._subscriptions: list[Any] = []
        self._threads: list[Thread] = []

    def start(self) -> ProjectionRunner:
        for name, view in self.views.items():
            projection = projection_for(self.app, name, view)
            subscription = subscribe(self.app.recorder, view.max_tracking_id(self.app.name))
            subscription.__enter__()  # type: ignore[attr-defined]
            self._subscriptions.append(subscription)
            thread = Thread(target=self._follow, args=(projection, view, subscription),
                            name=f"projection-{name}", daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def _follow(self, projection: Projection[Any], view: View, subscription: Any) -> None:
        try:
            while not self.stopped.is_set():
                try:
                    batch = subscription.next_batch()
                except StopIteration:
                    return
                for start in range(0, len(batch), self.batch_size):
                    self._apply_retrying(projection, view, batch[start:start + self.batch_size])
        except BaseException as error:  # noqa: BLE001 - re-raised by run_forever/stop
            self.errors.append(error)
            self.stopped.set()

    def _apply_retrying(self, projection: BatchProjection, view: View,
                        notifications: Sequence[Notification]) -> None:
        """A busy or unreachable store delays a batch, it does not end the runner."""
        delay = 0.1
        while not self.stopped.is_set():
            try:
                apply(self.app, projection, view, notifications)
                return
            except OperationalError as error:
                log.warning("projection batch delayed", view=view.name,
                            error=type(error).__name__, retry_in=delay)
                self.stopped.wait(delay)
                delay = min(delay * 2, 5.0)

    def wait(self, name: str, position: int | None, timeout: float = 5.0) -> None:
        """Read-your-writes: blocks until the view includes ``position``."""
        self.views[name].wait(self.app.name, position, timeout=timeout, interrupt=self.stopped)

    def wait_all(self, position: int | None, timeout: float = 5.0) -> None:
        for name in self.views:
            self.wait(name, position, timeout)

    def run_forever(self, timeout: float | None = None) -> None:
        self.stopped.wait(timeout)
        if self.errors:
            raise self.errors[0]

    def stop(self) -> None:
        self.stopped.set()
        for subscription in self._subscriptions:
            subscription.stop()
        for subscription in self._subscriptions:
            subscription.__exit__(None, None, None)
        self._subscriptions.clear()
        for thread in self._threads:
            thread.join(timeout=10)
        if self.errors:
            raise self.errors[0]

    def __enter__(self) -> ProjectionRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
