"""The subscriber library: consume case events with a consumer group, each one handled once.

Delivery from the relay is at-least-once, so a message may arrive twice; ``SeenEvents`` drops
the repeats (an ``event_id`` is derived from exactly (case_id, case_version), so it remembers,
per case, the highest version below which it has seen all, plus any seen above it). Offsets are
committed only after the handler returned for every message of a poll, so a crash repeats
messages (dropped as duplicates while the process lives) and never skips one. When the broker
is away (or drops connections) ``run`` closes the consumer, backs off (capped, with jitter) and
joins the group again from its committed offsets; ``health`` says meanwhile that it is retrying.
See docs/subscribers.md.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from kafka import KafkaConsumer
from kafka.errors import KafkaError

from adapters.kafka.admin import split_servers
from workflows.event_envelope import SCHEMA_VERSION
from workflows.retrying import Backoff, LoopHealth

Envelope = dict[str, Any]
Handler = Callable[[Envelope], None]
log = structlog.get_logger("petition.subscriber")


class UnsupportedSchema(Exception):
    """An envelope of a newer schema version than this library understands: upgrade it."""


class SeenEvents:
    """Remembers handled events; ``first_time`` is True once per (case_id, case_version)."""

    def __init__(self) -> None:
        self._cases: dict[str, tuple[int, set[int]]] = {}

    def first_time(self, envelope: Envelope) -> bool:
        case, version = envelope["case_id"], int(envelope["case_version"])
        contiguous, above = self._cases.get(case, (0, set()))
        if version <= contiguous or version in above:
            return False
        above.add(version)
        while contiguous + 1 in above:
            contiguous += 1
            above.discard(contiguous)
        self._cases[case] = (contiguous, above)
        return True


@dataclass(frozen=True)
class SubscriberConfig:
    bootstrap_servers: str
    group: str
    topic: str = "petition.events"
    from_beginning: bool = False  # where a group without committed offsets starts
    max_poll_interval_ms: int = 30_000  # also the rebalance timeout: short joins a group fast
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000
    poll_timeout_ms: int = 500
    backoff_initial: float = 0.5  # seconds after the first failed poll; doubles …
    backoff_max: float = 30.0  # … up to this


class Subscriber:
    def __init__(self, config: SubscriberConfig, handler: Handler,
                 seen: SeenEvents | None = None):
        self.config = config
        self.handler = handler
        self.seen = seen or SeenEvents()
        self.duplicates = 0
        self.health = LoopHealth(f"subscriber {config.group}")
        self._consumer: KafkaConsumer | None = None
        try:
            self._connected()
        except KafkaError as error:  # the broker is away: ``run`` keeps trying
            log.warning("subscriber.broker_unavailable", error=str(error))

    def _connected(self) -> KafkaConsumer:
        if self._consumer is None:
            config = self.config
            self._consumer = KafkaConsumer(
                config.topic,
                bootstrap_servers=split_servers(config.bootstrap_servers),
                group_id=config.group,
                client_id=f"petition-subscriber-{config.group}",
                enable_auto_commit=False,
                auto_offset_reset="earliest" if config.from_beginning else "latest",
                max_poll_interval_ms=config.max_poll_interval_ms,
                session_timeout_ms=config.session_timeout_ms,
                heartbeat_interval_ms=config.heartbeat_interval_ms,
            )
        return self._consumer

    def _disconnect(self) -> None:
        consumer, self._consumer = self._consumer, None
        if consumer is not None:
            try:
                consumer.close(autocommit=False)
            except Exception as error:  # noqa: BLE001 - a broken consumer may not close cleanly
                log.debug("subscriber.close_failed", error=str(error))

    def poll_once(self) -> int:
        """Handles what one poll returned and commits it; the number of new events."""
        consumer = self._connected()
        batches = consumer.poll(timeout_ms=self.config.poll_timeout_ms)
        handled = 0
        for messages in batches.values():
            for message in messages:
                handled += self._handle(json.loads(message.value))
        if batches:
            consumer.commit()
        return handled

    def _handle(self, envelope: Envelope) -> int:
        if int(envelope.get("schema_version", 0)) > SCHEMA_VERSION:
            raise UnsupportedSchema(
                f"envelope schema {envelope.get('schema_version')} > {SCHEMA_VERSION}")
        if not self.seen.first_time(envelope):
            self.duplicates += 1
            return 0
        self.handler(envelope)
        return 1

    def run(self, stop: threading.Event | None = None, *, max_events: int | None = None,
            idle_exit: float | None = None) -> int:
        """Consumes until ``stop`` is set, ``max_events`` were handled, or nothing new came
        for ``idle_exit`` seconds; returns the number of events handled."""
        stop = stop or threading.Event()
        total, last_new = 0, time.monotonic()
        backoff = Backoff(self.config.backoff_initial, self.config.backoff_max)
        while not stop.is_set():
            try:
                count = self.poll_once()
            except KafkaError as error:  # connection dropped, broker away, group rebalanced
                self._disconnect()
                delay = backoff.next()
                self.health.retrying(error, delay, group=self.config.group)
                stop.wait(delay)
                count = 0
            else:
                if self.health.recovered(group=self.config.group):
                    backoff.reset()
            total += count
            if count:
                last_new = time.monotonic()
            if max_events is not None and total >= max_events:
                break
            if idle_exit is not None and time.monotonic() - last_new >= idle_exit:
                break
        return total

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()
            self._consumer = None

    def __enter__(self) -> Subscriber:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def print_json_line(envelope: Envelope) -> None:
    print(json.dumps(envelope, ensure_ascii=False, separators=(",", ":")), flush=True)
