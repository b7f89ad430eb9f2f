"""Topic administration: the events topic is created when missing, never changed when present."""

from __future__ import annotations

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError


def split_servers(bootstrap_servers: str) -> list[str]:
    """``"a:9092, b:9092"`` → ``["a:9092", "b:9092"]``."""
    servers = [s.strip() for s in bootstrap_servers.split(",") if s.strip()]
    if not servers:
        raise ValueError("KAFKA_BOOTSTRAP_SERVERS is empty")
    return servers


def ensure_topic(bootstrap_servers: str, topic: str, *, partitions: int, replication: int,
                 timeout_ms: int = 5_000) -> bool:
    """Creates ``topic`` if it does not exist; True if it was created here.

    Raises ``kafka.errors.KafkaError`` (e.g. ``NoBrokersAvailable``) when the broker is not
    reachable. An existing topic keeps its partitions: changing them moves cases between
    partitions, which is an operator's decision (docs/operations.md, "Kafka relay").
    """
    admin = KafkaAdminClient(
        bootstrap_servers=split_servers(bootstrap_servers),
        client_id="petition-admin",
        request_timeout_ms=timeout_ms,
        bootstrap_timeout_ms=timeout_ms,
    )
    try:
        if topic in admin.list_topics():
            return False
        try:
            admin.create_topics([NewTopic(topic, partitions, replication)],
                                timeout_ms=timeout_ms)
        except TopicAlreadyExistsError:  # another relay instance was quicker
            return False
        return True
    finally:
        admin.close()


def partition_count(bootstrap_servers: str, topic: str, timeout_ms: int = 5_000) -> int:
    admin = KafkaAdminClient(bootstrap_servers=split_servers(bootstrap_servers),
                             request_timeout_ms=timeout_ms, bootstrap_timeout_ms=timeout_ms)
    try:
        described = admin.describe_topics([topic])
        if not described or described[0].get("error_code"):
            raise KafkaError(f"topic {topic} not found")
        return len(described[0]["partitions"])
    finally:
        admin.close()
