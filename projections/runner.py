"""Running the read models: background threads that follow the log, catch-up and rebuild.

Each projection has its own thread, starting after its view's tracking position; the live
log is read once for all of them (``tail.py``). Notifications are applied in chunks of
``batch_size``, each chunk one transaction (rows and tracking together), so a crash at any
point leaves every view at a consistent position from which the next run resumes — no event
applied twice or skipped.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from queue import Full
from threading import Event, Thread
from typing import Any

import structlog
from eventsourcing.persistence import (
    DataError,
    IntegrityError,
    Notification,
    PersistenceError,
)
from eventsourcing.projection import Projection

from projections.analysis_view import AnalysisProjection, AnalysisView
from projections.audit_trail import AuditTrail, AuditTrailProjection
from projections.batching import BatchProjection, Item
from projections.case_states import CaseStates, Loader
from projections.case_view import CaseView, CaseViewProjection
from projections.gc_pacing import fewer_full_collections
from projections.shared_loads import SharedLoads
from projections.source import EventSource, ViewStorage
from projections.supervision_queue import SupervisionQueue, SupervisionQueueProjection
from projections.tail import STOP, Follower, Tail
from projections.view import PositionMoved, View, ViewStalled
from projections.write_behind import WriteBehind
from workflows.decoding import decode
from workflows.retrying import STALLED, Backoff, LoopHealth, describe

log = structlog.get_logger("projections")
Progress = Callable[[int, int], None]  # (position reached, target position)


@dataclass(frozen=True)
class ReadModel:
    name: str
    projection: type[Projection[Any]]
    view: type[View]  # its storage, in SQL for both dialects (adapters/persistence/views.py)
    needs_app: bool = False  # the projection reads the event store itself (analysis facts)


READ_MODELS: dict[str, ReadModel] = {m.name: m for m in (
    ReadModel("case_view", CaseViewProjection, CaseView),
    ReadModel("audit_trail", AuditTrailProjection, AuditTrail),
    ReadModel("supervision_queue", SupervisionQueueProjection, SupervisionQueue),
    ReadModel("analysis_facts", AnalysisProjection, AnalysisView, needs_app=True),
)}


def case_view(storage: ViewStorage) -> CaseView:
    return storage.open("case_view")


def audit_trail(storage: ViewStorage) -> AuditTrail:
    return storage.open("audit_trail")


def supervision_queue(storage: ViewStorage) -> SupervisionQueue:
    return storage.open("supervision_queue")


def analysis_facts(storage: ViewStorage) -> AnalysisView:
    return storage.open("analysis_facts")


def case_loader(app: EventSource) -> Loader:
    """Reads a case at a version from the application, case by case."""
    return lambda case_id, version: app.get_petition(case_id, version=version)


def projection_for(app: EventSource, name: str, view: View, *,
                   load: Loader | None = None) -> Projection[Any]:
    """The named read model's projection; ``load`` reads a case at a version for its case
    states (default: ``case_loader``; the live runner shares one between its views,
    ``shared_loads.py``)."""
    states = CaseStates(load or case_loader(app))
    model = READ_MODELS[name]
    extra = {"app": app} if model.needs_app else {}
    return model.projection(  # type: ignore[call-arg]
        view, policy=app.policy, org=app.org, states=states, **extra)


def _items(app: EventSource, notifications: Sequence[Notification]) -> list[Item]:
    """Decoded events with their positions; an unknown event of another aggregate is passed
    over (None), an undecodable case event raises (``workflows/decoding.py``)."""
    return [Item(decode(app, n), n.id, n.topic, n.state) for n in notifications]


def is_store_failure(error: BaseException) -> bool:
    """The store is away or refused the session: worth retrying as it is. Anything else
    (an event that cannot be decoded or applied, a value the store rejects) is about the
    event, and retrying the same event would fail the same way."""
    return isinstance(error, PersistenceError) and not isinstance(error, (DataError,
                                                                          IntegrityError))


LOCATE_CHUNK = 100  # events per transaction while looking for the event a view cannot apply


def locate_failure(app: EventSource, name: str, view: View,
                   upto: int) -> tuple[Projection[Any], int]:
    """After a batch failed for a reason other than the store, applies the events after the
    view's position up to ``upto`` again in small chunks, one by one in the chunk that fails,
    so the view commits everything before the failing event and the failure names it
    (``ViewStalled``, recorded in the store). When every event applies (the failure did not
    repeat) returns a fresh projection and the number of events applied."""
    projection, applied = projection_for(app, name, view), 0
    while True:
        position = view.max_tracking_id(app.name) or 0
        if position >= upto:
            return projection, applied
        chunk = app.recorder.select_notifications(start=position, limit=LOCATE_CHUNK,
                                                  stop=upto, inclusive_of_start=False)
        if not chunk:
            return projection, applied
        try:
            applied += apply(app, projection, view, chunk, position)
            continue
        except PositionMoved:
            projection = projection_for(app, name, view)  # another writer: from its position
            continue
        except Exception as failure:
            if is_store_failure(failure):
                raise
        projection = projection_for(app, name, view)  # its caches may hold the failed chunk
        for notification in chunk:
            try:
                applied += apply(app, projection, view, [notification], position)
                position = notification.id
            except PositionMoved:
                break  # another writer: from its position, with fresh caches
            except Exception as failure:
                if is_store_failure(failure):
                    raise
                case = str(notification.originator_id)
                _record_stall(view, notification.id, case, failure)
                raise ViewStalled(name, notification.id, case, failure) from failure
        projection = projection_for(app, name, view)


def _record_stall(view: View, position: int, case_id: str, error: BaseException) -> None:
    try:
        view.record_stall(position, case_id, describe(error))
    except Exception as failure:  # noqa: BLE001 - the stall is still raised and logged
        log.warning("view.stall_not_recorded", view=view.name, error=describe(failure))


def apply(app: EventSource, projection: BatchProjection, view: View,
          notifications: Sequence[Notification], after: int) -> int:
    """Applies notifications read after the view's position ``after`` in one transaction,
    with the position of the last; the number this call applied.

    If another writer moved the view first, nothing is written (``PositionMoved``): when it
    got past all of them this returns 0; otherwise the error is raised, for the caller to
    read the position again and go on from there with fresh caches (``locate_failure``).
    """
    try:
        projection.process_batch(app.name, _items(app, notifications), after)
        return len(notifications)
    except PositionMoved:
        if (view.max_tracking_id(app.name) or 0) >= notifications[-1].id:
            return 0
        raise


CATCH_UP_BATCH = 5000  # events per transaction when catching up or rebuilding
# Up to three batches are in flight (committing, queued, being prepared); the audit trail's
# chain heads in memory (50,000 cases) must hold all their cases.
MAX_CATCH_UP_BATCH = 10_000


def catch_up(app: EventSource, storage: ViewStorage, name: str, *, batch_size: int = CATCH_UP_BATCH,
             progress: Progress | None = None, reset: bool = False) -> int:
    """Applies every event after the view's position up to the log's end; returns the count.

    Batches are larger than the live runner's: a view writes a case once per batch, so the
    more of a case's events a batch holds, the fewer rows a rebuild writes. Each batch is
    committed by a background thread while the next is prepared (``write_behind.py``). If
    another writer moves the same view meanwhile, a commit writes nothing (``PositionMoved``)
    and the catch-up resumes from the view's new position with fresh case state. The garbage
    collector's full collections are paced meanwhile (``gc_pacing.py``).
    """
    with fewer_full_collections():
        return _catch_up(app, storage, name, batch_size, progress, reset)


def _catch_up(app: EventSource, storage: ViewStorage, name: str, batch_size: int,
              progress: Progress | None, reset: bool) -> int:
    view = storage.open(name)
    if reset:
        view.reset()
    target = app.recorder.max_notification_id() or 0
    count = 0
    while True:
        position = view.max_tracking_id(app.name) or 0
        if position >= target:
            view.clear_stall()
            return count
        projection = projection_for(app, name, view)
        writer = WriteBehind(
            lambda rows, at, after, p=projection: p.commit(app.name, rows, at, after), position,
            (lambda at: progress(at, target)) if progress else None)
        try:
            _prepare_all(app, projection, position, target, batch_size, writer)
            writer.close()
            count += writer.committed
            continue  # done up to the target: cleared of any stall above
        except IntegrityError:
            writer.close(raise_error=False)
            count += writer.committed
            if (view.max_tracking_id(app.name) or 0) <= (writer.position or position):
                count += locate_failure(app, name, view, target)[1]  # a real conflict
        except Exception as error:
            writer.close(raise_error=False)
            count += writer.committed
            if is_store_failure(error):
                raise
            count += locate_failure(app, name, view, target)[1]
        except BaseException:
            writer.close(raise_error=False)
            raise


def _prepare_all(app: EventSource, projection: BatchProjection, position: int,
                 target: int, batch_size: int, writer: WriteBehind) -> None:
    while position < target:
        batch = app.recorder.select_notifications(
            start=position, limit=batch_size, stop=target, inclusive_of_start=False)
        if not batch:
            return
        writer.submit(projection.prepare(_items(app, batch)), batch[-1].id, len(batch))
        position = batch[-1].id


def rebuild(app: EventSource, storage: ViewStorage, name: str, *, batch_size: int = CATCH_UP_BATCH,
            progress: Progress | None = None) -> int:
    """Empties the view and its position, then replays the whole log into it.

    Stop running projections first: a runner following the old position would keep going.
    """
    return catch_up(app, storage, name, batch_size=batch_size, progress=progress, reset=True)


def status(app: EventSource, storage: ViewStorage, names: Iterable[str] = READ_MODELS,
           health: dict[str, LoopHealth] | None = None) -> list[dict[str, Any]]:
    """Position, lag and state of each view: ``following``, ``retrying`` (this process's
    runner cannot reach the store) or ``stalled`` (an event it cannot apply; recorded in
    the store, so every process sees it until the view gets past it)."""
    top = app.recorder.max_notification_id() or 0
    out = []
    for name in names:
        view = storage.open(name)
        position = view.max_tracking_id(app.name) or 0
        row: dict[str, Any] = {"name": name, "position": position, "log_end": top,
                               "lag": top - position, "state": "following"}
        live = health[name].as_dict() if health is not None and name in health else None
        if live is not None and live["state"] != "following":
            row.update(state=live["state"], since=live["since"], error=live["error"])
            if live["state"] == STALLED:
                row.update(stalled_at=live["position"], case_id=live["case_id"])
        elif health is None and (stall := view.stall()) is not None \
                and stall["position"] > position:
            row.update(state=STALLED, since=stall["since"], error=stall["error"],
                       stalled_at=stall["position"], case_id=stall["case_id"])
        out.append(row)
    return out


@dataclass(frozen=True)
class Shared:
    """What the live runners of one process share: one read of the live log (``tail.py``)
    and of a case the views miss together (``shared_loads.py``; after a failure,
    ``locate_failure`` reads the store afresh)."""

    tail: Tail
    loads: Loader

    @classmethod
    def of(cls, app: EventSource, storage: ViewStorage) -> Shared:
        retry = ProjectionRunner.RETRY
        return cls(Tail(lambda gt: storage.subscribe(app.recorder, gt),
                        app.recorder.max_notification_id, Backoff(retry.initial, retry.maximum)),
                   SharedLoads(case_loader(app)))


class ProjectionRunner:
    """Runs the named projections in background threads of this process.

    A view's thread never ends before ``stop()``: when the store is away it retries with
    backoff and resumes from the view's position; when one event cannot be applied it stops
    before it (``ViewStalled``), logs that once, records it, and tries again now and then (a
    restored row or a new release may let it pass). ``health`` says which, per view.
    """

    RETRY = Backoff(initial=0.1, maximum=5.0)  # the store is away
    STALL = Backoff(initial=5.0, maximum=300.0)  # an event cannot be applied

    def __init__(self, app: EventSource, storage: ViewStorage,
                 names: Iterable[str] = READ_MODELS, *, batch_size: int = 500,
                 shared: Shared | None = None):
        self.app, self.storage, self.batch_size = app, storage, batch_size
        self.views: dict[str, View] = {name: storage.open(name) for name in names}
        # one read of the live log and of a missed case for all the views (of every runner
        # given the same ``shared``: the worker runs one per view)
        self.shared = shared if shared is not None else Shared.of(app, storage)
        self.tail, self.loads = self.shared.tail, self.shared.loads
        self.health: dict[str, LoopHealth] = {name: LoopHealth(f"view {name}")
                                              for name in self.views}
        self.errors: list[BaseException] = []
        self.stopped = Event()
        self._followers: dict[str, Follower] = {}
        self._threads: list[Thread] = []

    def start(self) -> ProjectionRunner:
        for name in self.views:
            thread = Thread(target=self._follow, args=(name,), name=f"projection-{name}",
                            daemon=True)
            self._threads.append(thread)
            thread.start()
        return self

    def _follow(self, name: str) -> None:
        view, health = self.views[name], self.health[name]
        retry = Backoff(self.RETRY.initial, self.RETRY.maximum)
        stall = Backoff(self.STALL.initial, self.STALL.maximum)
        while not self.stopped.is_set():
            try:
                self._follow_once(name, view, health, retry, stall)
            except ViewStalled as error:
                retry.reset()
                if health.stalled(error.position, error.case_id, error.error):
                    stall.reset()
                self.stopped.wait(stall.next())
            except Exception as error:  # noqa: BLE001 - the store is away, or worse: retried
                delay = retry.next()
                health.retrying(error, delay, view=name)
                self.stopped.wait(delay)
            except BaseException as error:  # noqa: BLE001 - re-raised by run_forever/stop
                self.errors.append(error)
                self.stopped.set()

    def _follow_once(self, name: str, view: View, health: LoopHealth, retry: Backoff,
                     stall: Backoff) -> None:
        """Follows the log from the view's position until stopped or until a failure: reads
        on its own up to the shared tail's position, then takes the tail's batches (``tail.py``);
        when it falls too far behind the tail, reads on its own again and rejoins."""
        projection = projection_for(self.app, name, view, load=self.loads)
        while not self.stopped.is_set():
            position = view.max_tracking_id(self.app.name) or 0
            follower = self._followers[name] = self.tail.join()
            try:
                if health.state != STALLED and health.recovered(view=name):
                    retry.reset()
                projection, position = self._read_up_to(name, projection, view, health, stall,
                                                        position, follower.at)
                # read without a stall yet still stalled: its event was removed by hand. Asked
                # after the read, not before: a removal between the two left it waiting on the
                # tail, stalled, for a write that may never come
                if health.state == STALLED and self._caught_up(position):
                    self._recover(name, view, health, stall)
                while (batch := follower.next(self.stopped)) is not None:
                    projection, position = self._apply_all(
                        name, projection, view, health, stall, position,
                        [n for n in batch if n.id > position])
            finally:
                self.tail.leave(follower)

    def _read_up_to(self, name: str, projection: Projection[Any], view: View,
                    health: LoopHealth, stall: Backoff, position: int,
                    end: int) -> tuple[Projection[Any], int]:
        """Applies the log after ``position`` up to ``end`` (inclusive), reading it itself."""
        while position < end and not self.stopped.is_set():
            chunk = self.app.recorder.select_notifications(
                start=position, limit=self.batch_size, stop=end, inclusive_of_start=False)
            if not chunk:
                break
            projection, position = self._apply_all(name, projection, view, health, stall,
                                                   position, chunk)
        return projection, position

    def _apply_all(self, name: str, projection: Projection[Any], view: View,
                   health: LoopHealth, stall: Backoff, position: int,
                   notifications: Sequence[Notification]) -> tuple[Projection[Any], int]:
        """Applies ``notifications`` in chunks of ``batch_size``; the position reached."""
        if not notifications:
            return projection, position
        for start in range(0, len(notifications), self.batch_size):
            chunk = notifications[start:start + self.batch_size]
            projection = self._apply(name, projection, view, chunk, position)
            position = chunk[-1].id
        if health.state == STALLED:
            self._recover(name, view, health, stall)
        return projection, notifications[-1].id

    def _caught_up(self, position: int | None) -> bool:
        """Whether the log holds nothing after ``position``: a stalled view whose event is gone
        has nothing left to apply, so it is caught up, not stalled — without waiting for a write
        that may not come."""
        return (self.app.recorder.max_notification_id() or 0) <= (position or 0)

    @staticmethod
    def _recover(name: str, view: View, health: LoopHealth, stall: Backoff) -> None:
        view.clear_stall()
        health.recovered(view=name)
        stall.reset()

    def _apply(self, name: str, projection: BatchProjection, view: View,
               notifications: Sequence[Notification], after: int) -> Projection[Any]:
        """Applies a chunk read after ``after``; if it fails for a reason other than the
        store, finds the event (``locate_failure``), so the view stops exactly before it; if
        another writer moved the view, goes on from where that one left it, the same way."""
        try:
            apply(self.app, projection, view, notifications, after)
            return projection
        except Exception as error:
            if is_store_failure(error):
                raise
            return locate_failure(self.app, name, view, notifications[-1].id)[0]

    def wait(self, name: str, position: int | None, timeout: float = 5.0) -> None:
        """Read-your-writes: blocks until the view includes ``position``; a TimeoutError at
        once when the view is stalled or its runner stopped."""
        view, health = self.views[name], self.health[name]
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            try:
                view.wait(self.app.name, position, timeout=max(0.0, min(remaining, 0.5)),
                          interrupt=self.stopped)
                return
            except TimeoutError:
                if health.state == STALLED:
                    raise TimeoutError(health.summary()) from None
                if remaining <= 0.5:
                    raise

    def wait_all(self, position: int | None, timeout: float = 5.0) -> None:
        for name in self.views:
            self.wait(name, position, timeout)

    def run_forever(self, timeout: float | None = None) -> None:
        self.stopped.wait(timeout)
        if self.errors:
            raise self.errors[0]

    def stop(self) -> None:
        self.stopped.set()
        for follower in list(self._followers.values()):
            with contextlib.suppress(Full):
                follower.queue.put_nowait(STOP)  # at once, not at the next poll
        for thread in self._threads:
            thread.join(timeout=10)
        if self.errors:
            raise self.errors[0]

    def __enter__(self) -> ProjectionRunner:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
