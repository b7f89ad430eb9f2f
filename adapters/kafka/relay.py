"""The relay: follows the event log like a projection and publishes every case event to Kafka.

One step reads the notifications after the relay's position, publishes the case events among
them (keyed by case id, so one case stays on one partition, in order), waits until the broker
has acknowledged all of them, and only then records the last notification id as its position.
A crash at any point therefore repeats events, never skips one (at-least-once; duplicates carry
the same ``event_id``). When the broker is unreachable the relay backs off exponentially (capped),
logs each failed attempt and retries from its recorded position with a fresh producer. An
event it cannot decode stops it before that event (never skipped; ``health`` names it) and it
tries again now and then; an unknown event of another aggregate is passed over
(``workflows/decoding.py``).

``Relay.start()`` / ``stop()`` run it in a thread (for ``petition serve``); ``run()`` blocks
(for ``petition relay``).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import structlog
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    Tracking,
    TrackingRecorder,
)
from kafka.errors import KafkaError

from adapters.kafka.admin import ensure_topic
from adapters.kafka.publisher import BrokerUnavailable, ProducerTimeouts, Publisher
from adapters.kafka.tracking import relay_tracking
from adapters.settings import Settings
from domain.events import PetitionEvent
from workflows.application import PetitionApplication
from workflows.decoding import CASE_TOPICS, decode
from workflows.event_envelope import envelope
from workflows.loop_thread import LoopThread
from workflows.retrying import Backoff, LoopHealth

log = structlog.get_logger("petition.relay")


class RelayGaveUp(Exception):
    """More consecutive failures than ``RelayConfig.max_failures`` allows."""


class RelayStalled(Exception):
    """A stored case event the relay cannot decode: it stops before it (never skips it)."""

    def __init__(self, position: int, case_id: str, error: BaseException):
        self.position, self.case_id, self.error = position, case_id, error
        super().__init__(f"cannot relay event {position} (case {case_id}): {error!r}")


@dataclass(frozen=True)
class RelayConfig:
    bootstrap_servers: str
    topic: str = "petition.events"
    partitions: int = 6
    replication: int = 1
    batch_size: int = 500
    poll_interval: float = 0.1  # idle wait between reads (PostgreSQL also wakes on NOTIFY)
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    max_failures: int | None = None  # consecutive failed attempts before giving up; None: never
    timeouts: ProducerTimeouts = field(default_factory=ProducerTimeouts)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> RelayConfig:
        if not settings.kafka_bootstrap_servers:
            raise ValueError("KAFKA_BOOTSTRAP_SERVERS is not set")
        config = cls(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            topic=settings.kafka_topic,
            partitions=settings.kafka_partitions,
            replication=settings.kafka_replication,
        )
        return replace(config, **overrides)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th consecutive failure (1, 2, ...): doubling,
        capped, each drawn between half and all of that (jitter)."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2 ** min(attempt - 1, 30))
        return ceiling * random.uniform(0.5, 1.0)


@dataclass(frozen=True)
class RelayStatus:
    topic: str
    position: int  # last notification id the broker acknowledged (and the relay recorded)
    head: int  # last notification id in the event log
    lag: int  # notifications not yet relayed

    def as_dict(self) -> dict[str, Any]:
        return vars(self).copy()


class Relay(LoopThread):
    """Relays until ``stop()``; ``start()`` runs it in a thread (``serve``)."""

    thread_name = "kafka-relay"

    def __init__(
        self,
        app: PetitionApplication,
        config: RelayConfig,
        *,
        tracking: TrackingRecorder | None = None,
        publisher_factory: Callable[[RelayConfig], Publisher] | None = None,
        outgoing: Callable[[Any, int], list[dict[str, Any]]] | None = None,
        topics: frozenset[str] | None = None,
        name: str = "kafka relay",
    ):
        self.app = app
        self.config = config
        self.tracking = tracking or relay_tracking(app.factory.datastore)  # type: ignore[attr-defined]
        self._new_publisher = publisher_factory or _connect
        self._outgoing = outgoing or case_envelopes
        self._may_go_out = _topic_filter(topics, case_events_only=outgoing is None)
        self._publisher: Publisher | None = None
        LoopThread.__init__(self)
        self._wake = threading.Event()
        self.health = LoopHealth(name)

    # ------------------------------------------------------------------ position and lag
    @property
    def position(self) -> int:
        return self.tracking.max_tracking_id(self.app.name) or 0

    def status(self) -> RelayStatus:
        position = self.position
        head = self.app.recorder.max_notification_id() or 0
        return RelayStatus(self.config.topic, position, head, max(0, head - position))

    # ------------------------------------------------------------------ one step
    def step(self) -> int:
        """Relays the next batch; the number of notifications it covered (0: none waiting).

        Before a case event it cannot decode, it relays and records what came before it,
        then raises ``RelayStalled``."""
        position = self.position
        notifications = self.app.recorder.select_notifications(
            start=position, limit=self.config.batch_size, inclusive_of_start=False)
        if not notifications:
            return 0
        envelopes: list[dict[str, Any]] = []
        stalled: RelayStalled | None = None
        for index, notification in enumerate(notifications):
            if not self._may_go_out(notification.topic):
                continue  # not decoded: nothing to publish
            try:
                event = decode(self.app, notification)
            except Exception as error:  # noqa: BLE001 - named, never skipped
                stalled = RelayStalled(notification.id, str(notification.originator_id), error)
                notifications = notifications[:index]
                break
            envelopes.extend(self._outgoing(event, notification.id))
        if envelopes:
            self._connected().publish(envelopes)
        if notifications:
            self._record(notifications[-1].id)
        if stalled is not None:
            raise stalled
        return len(notifications)

    def _record(self, last: int) -> None:
        try:
            self.tracking.insert_tracking(Tracking(self.app.name, last))
        except IntegrityError:  # another relay instance recorded a later position first
            log.warning("relay.position_moved_by_another_instance", position=self.position)

    def connect(self) -> None:
        """Connects (creating the topic if missing) now rather than at the first event."""
        self._connected()

    def _connected(self) -> Publisher:
        if self._publisher is None:
            self._publisher = self._new_publisher(self.config)
        return self._publisher

    def _disconnect(self) -> None:
        if self._publisher is not None:
            self._publisher.close()
            self._publisher = None

    # ------------------------------------------------------------------ the loop
    def run(self) -> None:
        """Relays until ``stop()``; survives broker outages (raises RelayGaveUp if bounded)."""
        log.info("relay.started", topic=self.config.topic, position=self._position_or_none(),
                 bootstrap_servers=self.config.bootstrap_servers)
        failures, published, last_report = 0, 0, time.monotonic()
        stall = Backoff(initial=5.0, maximum=300.0)
        try:
            with self._wakeups():
                while not self._stopping.is_set():
                    try:
                        count = self.step()
                    except (BrokerUnavailable, KafkaError, OperationalError, InterfaceError) as error:
                        failures += 1
                        self._disconnect()
                        self._back_off(failures, error)
                        continue
                    except RelayStalled as error:
                        if self.health.stalled(error.position, error.case_id, error.error):
                            stall.reset()
                        self._stopping.wait(stall.next())
                        continue
                    except Exception as error:  # noqa: BLE001 - unforeseen: retried, reported
                        failures += 1
                        self._disconnect()
                        self._back_off(failures, error)
                        continue
                    if failures:
                        log.info("relay.recovered", after_attempts=failures,
                                 position=self._position_or_none())
                        failures = 0
                    self.health.recovered()
                    published += count
                    if time.monotonic() - last_report >= 10 and published:
                        log.info("relay.progress", relayed=published,
                                 position=self._position_or_none())
                        published, last_report = 0, time.monotonic()
                    if count == 0:
                        self._wake.wait(self.config.poll_interval)
                        self._wake.clear()
        finally:
            self._disconnect()
            log.info("relay.stopped", position=self._position_or_none())

    def _back_off(self, failures: int, error: BaseException) -> None:
        limit = self.config.max_failures
        if limit is not None and failures >= limit:
            log.error("relay.gave_up", attempts=failures, position=self._position_or_none(),
                      error=str(error))
            raise RelayGaveUp(f"broker unavailable after {failures} attempts: {error}")
        delay = self.config.backoff(failures)
        self.health.retrying(error, delay)
        log.warning("relay.broker_unavailable", attempt=failures, retry_in_s=round(delay, 2),
                    position=self._position_or_none(), error=str(error))
        self._stopping.wait(delay)

    def _position_or_none(self) -> int | None:
        """The position for a log line; None when the store itself is what failed."""
        try:
            return self.position
        except (OperationalError, InterfaceError):
            return None

    @contextmanager
    def _wakeups(self) -> Iterator[None]:
        """On PostgreSQL, wakes the loop on the events table's NOTIFY instead of the poll."""
        channel = getattr(self.app.recorder, "channel_name", None)
        if channel is None:
            yield
            return
        listener = threading.Thread(target=self._listen, args=(channel,), daemon=True,
                                    name="relay-listen")
        listener.start()
        try:
            yield
        finally:
            self._stopping.set()
            listener.join(timeout=2)

    def _listen(self, channel: str) -> None:
        from psycopg.sql import SQL, Identifier

        datastore = self.app.factory.datastore  # type: ignore[attr-defined]
        while not self._stopping.is_set():
            try:
                with datastore.get_connection() as conn:
                    conn.execute(SQL("LISTEN {0}").format(Identifier(channel)))
                    while not self._stopping.is_set():
                        for _ in conn.notifies(timeout=0.5, stop_after=1):
                            self._wake.set()
            except Exception as error:  # noqa: BLE001 - polling still works without it
                log.warning("relay.listen_failed", error=str(error))
                self._stopping.wait(self.config.backoff_max / 10)

    # ------------------------------------------------------------------ start / stop
    def _interrupt(self) -> None:
        self._wake.set()  # the idle wait between reads

    def wait_for(self, position: int, timeout: float = 10.0) -> None:
        """Blocks until the relay has recorded ``position`` (TimeoutError if not)."""
        self.tracking.wait(self.app.name, position, timeout=timeout)


def _topic_filter(topics: frozenset[str] | None, *, case_events_only: bool
                  ) -> Callable[[str], bool]:
    """Which stored events can be outgoing, by their topic (the others are not decoded):
    ``topics`` if given; for case envelopes every case event's topic — also one this release
    does not know, which must stop the relay rather than be skipped (workflows/decoding.py) —
    and none of the other aggregates' (half the log: the query-code index's); else any."""
    if topics is not None:
        return topics.__contains__
    if case_events_only:
        return lambda topic: topic.startswith(CASE_TOPICS)
    return lambda topic: True


def case_envelopes(event: Any, position: int) -> list[dict[str, Any]]:
    """What the relay publishes for one stored event: a case event's envelope (not e.g. the
    query-code index's)."""
    return [envelope(event, position)] if isinstance(event, PetitionEvent) else []


def _connect(config: RelayConfig) -> Publisher:
    """A producer for the topic, created first if missing (a restarted broker may be empty)."""
    try:
        created = ensure_topic(config.bootstrap_servers, config.topic,
                               partitions=config.partitions, replication=config.replication,
                               timeout_ms=config.timeouts.bootstrap_ms)
    except KafkaError as error:
        raise BrokerUnavailable(f"cannot reach the broker: {error!r}") from error
    if created:
        log.info("relay.topic_created", topic=config.topic, partitions=config.partitions,
                 replication=config.replication)
    return Publisher(config.bootstrap_servers, config.topic, config.timeouts)

