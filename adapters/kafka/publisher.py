"""Publishing envelopes with kafka-python: keyed by case, ``acks=all``, idempotent.

``publish`` returns only when the broker has acknowledged every message of the batch, and
raises ``BrokerUnavailable`` otherwise; the relay records its position only after it returns.
The idempotent producer keeps one case's messages in order on its partition even when it
retries a request.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer
from kafka.errors import KafkaError

from adapters.kafka.admin import split_servers


class BrokerUnavailable(Exception):
    """The broker did not acknowledge (unreachable, timed out, or refused)."""


@dataclass(frozen=True)
class ProducerTimeouts:
    bootstrap_ms: int = 5_000
    max_block_ms: int = 5_000
    request_ms: int = 5_000
    delivery_ms: int = 15_000
    linger_ms: int = 5


def encode(envelope: dict[str, Any]) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) of one envelope."""
    value = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()
    headers = [
        ("type", envelope["type"].encode()),
        ("schema_version", str(envelope["schema_version"]).encode()),
        ("event_id", envelope["event_id"].encode()),
        ("content_type", b"application/json"),
    ]
    return envelope["case_id"].encode(), value, headers


Record = tuple[str, bytes, bytes, list[tuple[str, bytes]]]  # topic, key, value, headers


class Publisher:
    """One producer; replaced by a fresh one after any failure (see ``Relay``).

    ``route`` says where one message goes and how it is encoded: by default a case envelope to
    ``topic``; the inbound replies and dead letters route their own (``adapters/kafka/inbound``).
    """

    def __init__(self, bootstrap_servers: str, topic: str,
                 timeouts: ProducerTimeouts | None = None, *, client_id: str = "petition-relay"):
        t = timeouts or ProducerTimeouts()
        self.topic = topic
        self._flush_timeout = (t.delivery_ms + t.request_ms) / 1000
        try:
            self._producer = KafkaProducer(
                bootstrap_servers=split_servers(bootstrap_servers),
                client_id=client_id,
                acks="all",
                enable_idempotence=True,
                linger_ms=t.linger_ms,
                bootstrap_timeout_ms=t.bootstrap_ms,
                max_block_ms=t.max_block_ms,
                request_timeout_ms=t.request_ms,
                delivery_timeout_ms=t.delivery_ms,
                allow_auto_create_topics=False,
            )
        except KafkaError as error:
            raise BrokerUnavailable(f"cannot connect: {error!r}") from error

    def route(self, message: dict[str, Any]) -> Record:
        return (self.topic, *encode(message))

    def publish(self, envelopes: Sequence[dict[str, Any]]) -> None:
        """Sends every envelope and waits until all are acknowledged (or raises)."""
        records = list(map(self.route, envelopes))  # encoded first: the sends then come
        # back to back, so the producer fills few large batches instead of waking its sender
        # thread for a small one between every two encodings
        try:
            futures = [
                self._producer.send(topic, key=key, value=value, headers=headers)
                for topic, key, value, headers in records
            ]
            self._producer.flush(timeout=self._flush_timeout)
            for future in futures:
                future.get(timeout=0)
        except KafkaError as error:
            raise BrokerUnavailable(f"not acknowledged: {error!r}") from error

    def close(self) -> None:
        try:
            self._producer.close(timeout=1)
        except Exception:  # noqa: BLE001 - closing a broken producer must not mask the cause
            pass
