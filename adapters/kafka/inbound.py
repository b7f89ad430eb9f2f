"""The inbound consumer: external work orders (12345 hotline, 一网通办) become petitions.

A consumer group reads the orders topic. Each poll's messages are translated
(``workflows/inbound/mapping.py``, total: a command or a reason) and registered idempotently by
(source, external id) (``workflows/inbound/registration.py``); an order that cannot be — bad
JSON, a field missing, a code the map does not know, a rule the case refuses — goes to the
dead-letter topic with the reason and its original payload. Only when every registration of the
poll is saved and every dead letter acknowledged are the offsets committed: a crash anywhere
repeats orders, which the idempotent registration absorbs, and never skips one. No order blocks
its partition: the only things retried are the store or the broker being away, with capped,
jittered backoff, rejoining the group from the committed offsets (``health`` says meanwhile).
"""

from __future__ import annotations

import base64
import json
import time
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Any

import structlog
from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.fetcher import ConsumerRecord

from adapters.kafka.admin import ensure_topic, split_servers
from adapters.kafka.publisher import ProducerTimeouts, Publisher, Record
from adapters.settings import Settings
from domain.errors import DomainError
from workflows.application import PetitionApplication
from workflows.idempotency import fingerprint
from workflows.inbound.mapping import InboundMap, Mapped, Rejected, translate
from workflows.inbound.registration import register_orders
from workflows.loop_thread import LoopThread
from workflows.retrying import Backoff, LoopHealth

log = structlog.get_logger("petition.inbound")
SEEN_LIMIT = 100_000  # orders remembered as registered (about 20 MB)


def _key(order: Mapped) -> tuple[str, str]:
    return order.source, order.external_id


@dataclass(frozen=True)
class InboundConfig:
    bootstrap_servers: str
    topic: str = "petition.inbound"
    group: str = "petition-inbound"
    dead_letter_topic: str = "petition.inbound.dead-letter"
    partitions: int = 6  # of the topics created here when missing
    replication: int = 1
    max_poll_records: int = 200  # one poll's orders are registered before its commit …
    max_poll_interval_ms: int = 30_000  # … within this (also the group's rebalance timeout)
    session_timeout_ms: int = 10_000
    heartbeat_interval_ms: int = 1_000
    poll_timeout_ms: int = 500
    probe_every: float = 3.0  # seconds: while idle, ask the broker (an idle poll never fails)
    backoff_initial: float = 0.5
    backoff_max: float = 10.0  # an order waits at most this long after the broker is back
    timeouts: ProducerTimeouts = field(default_factory=ProducerTimeouts)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> InboundConfig:
        if not settings.kafka_bootstrap_servers:
            raise ValueError("KAFKA_BOOTSTRAP_SERVERS is not set")
        return replace(cls(bootstrap_servers=settings.kafka_bootstrap_servers,
                           topic=settings.inbound_topic, group=settings.inbound_group,
                           dead_letter_topic=settings.inbound_dead_letter_topic,
                           partitions=settings.kafka_partitions,
                           replication=settings.kafka_replication), **overrides)


def dead_letter(message: ConsumerRecord, rejected: Rejected) -> dict[str, Any]:
    """The dead letter of one message: why, where it was, and the original payload."""
    raw: bytes = message.value or b""
    try:
        payload: dict[str, str] = {"payload": raw.decode("utf-8")}
    except UnicodeDecodeError:
        payload = {"payload_base64": base64.b64encode(raw).decode()}
    return {"dead_letter_id": f"{message.topic}:{message.partition}:{message.offset}",
            "reason": rejected.reason, "source": rejected.source,
            "external_id": rejected.external_id, "topic": message.topic,
            "partition": message.partition, "offset": message.offset, **payload}


class DeadLetterPublisher(Publisher):
    def route(self, message: dict[str, Any]) -> Record:
        value = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
        return (self.topic, message["dead_letter_id"].encode(), value,
                [("reason", message["reason"].encode()[:200])])


class InboundConsumer(LoopThread):
    """Reads orders until ``stop()``; ``start()`` runs it in a thread (``serve``)."""

    thread_name = "inbound-consumer"

    def __init__(self, app: PetitionApplication, rules: InboundMap, config: InboundConfig):
        self.app, self.rules, self.config = app, rules, config
        self.health = LoopHealth("inbound consumer")
        self.registered = self.dead_lettered = 0  # in this process, for logs and tests
        self._consumer: KafkaConsumer | None = None
        self._dead_letters: Publisher | None = None
        LoopThread.__init__(self)
        self._last_contact = time.monotonic()
        self._seen: OrderedDict[tuple[str, str], str] = OrderedDict()

    # ------------------------------------------------------------------ one poll
    def poll_once(self) -> int:
        """Registers or dead-letters one poll's orders, then commits; how many it handled."""
        consumer = self._connected()
        batches = consumer.poll(timeout_ms=self.config.poll_timeout_ms,
                                max_records=self.config.max_poll_records)
        messages = [m for part in batches.values() for m in part]
        dead = [dead_letter(m, why) for m, why in self._register(messages)]
        if dead:
            self._publisher().publish(dead)
            self.dead_lettered += len(dead)
            for letter in dead:
                log.warning("inbound.dead_lettered", reason=letter["reason"],
                            source=letter["source"], external_id=letter["external_id"],
                            partition=letter["partition"], offset=letter["offset"])
        if messages:
            consumer.commit()
            self._last_contact = time.monotonic()
        elif time.monotonic() - self._last_contact >= self.config.probe_every:
            self._probe(consumer)
        return len(messages)

    def _probe(self, consumer: KafkaConsumer) -> None:
        """Raises ``KafkaTimeoutError`` when the broker does not answer: kafka-python's poll
        returns nothing rather than fail while the broker is away, which /readyz must see."""
        parts = list(consumer.assignment()) or [TopicPartition(self.config.topic, 0)]
        consumer.end_offsets(parts, timeout_ms=int(self.config.probe_every * 1000))
        self._last_contact = time.monotonic()

    def _register(self, messages: list[ConsumerRecord]) -> list[tuple[ConsumerRecord, Rejected]]:
        """Registers the poll's good orders in one save; the messages that cannot be, and why."""
        rejected: list[tuple[ConsumerRecord, Rejected]] = []
        good: list[tuple[ConsumerRecord, Mapped]] = []
        for message in messages:
            order = translate(message.value, self.rules)
            if isinstance(order, Rejected):
                rejected.append((message, order))
            else:
                good.append((message, order))
        fresh = [(m, o) for m, o in good if self._seen.get(_key(o)) != fingerprint(o.command)]
        results = register_orders(self.app, [order for _, order in fresh])
        for (message, order), result in zip(fresh, results, strict=True):
            if isinstance(result, DomainError):  # refused by the case's rules
                reason = " ".join(f"refused: {result}".split())[:500]
                rejected.append((message, Rejected(reason, order.source, order.external_id)))
            else:
                self.registered += 1
                self._remember(order)
        rejected.sort(key=lambda item: (item[0].partition, item[0].offset))
        return rejected

    def _remember(self, order: Mapped) -> None:
        """An order this process saw registered: the same order again needs no store at all
        (a different one under its key still goes to the store, which refuses it)."""
        self._seen[_key(order)] = fingerprint(order.command)
        self._seen.move_to_end(_key(order))
        if len(self._seen) > SEEN_LIMIT:
            self._seen.popitem(last=False)

    # ------------------------------------------------------------------ connections
    def _connected(self) -> KafkaConsumer:
        if self._consumer is None:
            c = self.config
            for topic in (c.topic, c.dead_letter_topic):
                ensure_topic(c.bootstrap_servers, topic, partitions=c.partitions,
                             replication=c.replication, timeout_ms=c.timeouts.bootstrap_ms)
            self._consumer = KafkaConsumer(
                c.topic, bootstrap_servers=split_servers(c.bootstrap_servers), group_id=c.group,
                client_id=f"petition-inbound-{c.group}", enable_auto_commit=False,
                auto_offset_reset="earliest", max_poll_records=c.max_poll_records,
                max_poll_interval_ms=c.max_poll_interval_ms,
                session_timeout_ms=c.session_timeout_ms,
                heartbeat_interval_ms=c.heartbeat_interval_ms)
        return self._consumer

    def _publisher(self) -> Publisher:
        if self._dead_letters is None:
            self._dead_letters = DeadLetterPublisher(
                self.config.bootstrap_servers, self.config.dead_letter_topic,
                self.config.timeouts, client_id="petition-inbound-dead-letters")
        return self._dead_letters

    def _disconnect(self) -> None:
        consumer, self._consumer = self._consumer, None
        publisher, self._dead_letters = self._dead_letters, None
        if consumer is not None:
            try:
                consumer.close(autocommit=False)
            except Exception as error:  # noqa: BLE001 - a broken consumer may not close cleanly
                log.debug("inbound.close_failed", error=str(error))
        if publisher is not None:
            publisher.close()

    # ------------------------------------------------------------------ the loop
    def run(self) -> None:
        """Consumes until ``stop()``; any failure of the store or the broker is retried."""
        log.info("inbound.started", topic=self.config.topic, group=self.config.group)
        backoff = Backoff(self.config.backoff_initial, self.config.backoff_max)
        try:
            while not self._stopping.is_set():
                try:
                    self.poll_once()
                except Exception as error:  # noqa: BLE001 - store/broker away: retried, reported
                    self._disconnect()  # uncommitted orders come again, from the group's offsets
                    delay = backoff.next()
                    self.health.retrying(error, delay, group=self.config.group)
                    self._stopping.wait(delay)
                    continue
                if self.health.recovered(group=self.config.group):
                    backoff.reset()
        finally:
            self._disconnect()
            log.info("inbound.stopped", registered=self.registered,
                     dead_lettered=self.dead_lettered)
