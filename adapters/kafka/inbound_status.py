"""`petition inbound status`: how far the consumer group is behind, per partition, and how many
orders were dead-lettered — read from the broker (committed offsets and end offsets), so it
works whether or not a consumer is running."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from adapters.kafka.admin import split_servers


@dataclass(frozen=True)
class PartitionLag:
    partition: int
    committed: int  # the group's next offset to read (0: nothing committed yet)
    end: int  # the partition's next offset to be written
    lag: int


@dataclass(frozen=True)
class InboundStatus:
    topic: str
    group: str
    lag: int
    partitions: list[PartitionLag]
    dead_letter_topic: str
    dead_letters: int  # messages on the dead-letter topic (a repeat after a crash counts twice)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def inbound_status(bootstrap_servers: str, topic: str, group: str, dead_letter_topic: str,
                   timeout_ms: int = 5_000) -> InboundStatus:
    """Raises ``kafka.errors.KafkaError`` when the broker is not reachable."""
    consumer = KafkaConsumer(bootstrap_servers=split_servers(bootstrap_servers), group_id=group,
                             enable_auto_commit=False, request_timeout_ms=max(timeout_ms, 5_001),
                             bootstrap_timeout_ms=timeout_ms)
    try:
        parts = _partitions(consumer, topic)
        ends = consumer.end_offsets(parts) if parts else {}
        starts = consumer.beginning_offsets(parts) if parts else {}
        lags = []
        for tp in parts:
            committed = consumer.committed(tp)
            position = committed if committed is not None else starts[tp]
            lags.append(PartitionLag(tp.partition, committed or 0, ends[tp],
                                     max(0, ends[tp] - position)))
        dead = _partitions(consumer, dead_letter_topic)
        dead_count = (sum(consumer.end_offsets(dead).values())
                      - sum(consumer.beginning_offsets(dead).values())) if dead else 0
        return InboundStatus(topic, group, sum(p.lag for p in lags), lags, dead_letter_topic,
                             dead_count)
    finally:
        consumer.close(autocommit=False)


def _partitions(consumer: KafkaConsumer, topic: str) -> list[TopicPartition]:
    numbers = consumer.partitions_for_topic(topic) or set()
    return [TopicPartition(topic, p) for p in sorted(numbers)]
