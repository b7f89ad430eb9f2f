"""Replies to the source systems: the relay, following the log, answers each inbound case.

When a case that came from a work order is answered, declined or closed, the source system
gets a reply on its reply topic (the map's ``reply_topic``), keyed by its external id. It is
the relay's loop (``relay.py``) with its own position (``inbound_replies_tracking``) and
another choice of what to publish: the position is recorded only after the broker acknowledged
every reply of a batch, so a crash repeats replies and never loses one; a repeated reply carries
the same ``reply_id`` (the event's ``event_id``), so the source drops it by
(external id, reply id).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from eventsourcing.application import AggregateNotFoundError
from kafka.errors import KafkaError

from adapters.kafka.admin import ensure_topic
from adapters.kafka.publisher import BrokerUnavailable, Publisher, Record
from adapters.kafka.relay import RelayConfig
from domain.events import PetitionEvent
from workflows.application import PetitionApplication
from workflows.event_envelope import envelope
from workflows.inbound.mapping import InboundMap
from workflows.inbound.origin import InboundOrigin, origin_id

REPLY_EVENTS = frozenset({"Answered", "Declined", "Closed"})
REPLY_TOPICS = frozenset(f"domain.events:{name}" for name in REPLY_EVENTS)  # skip the rest
REPLY_SCHEMA_VERSION = 1


class ReplyUnroutable(Exception):
    """The case's source is no longer in the map: the relay retries (and says so) until it is."""


def replies_of(app: PetitionApplication, rules: InboundMap
               ) -> Callable[[Any, int], list[dict[str, Any]]]:
    """The relay's ``outgoing``: the reply to a source system for one stored event, if any."""
    topics = rules.reply_topics

    def outgoing(event: Any, position: int) -> list[dict[str, Any]]:
        if not isinstance(event, PetitionEvent) or type(event).__name__ not in REPLY_EVENTS:
            return []
        try:
            origin: InboundOrigin = app.repository.get(origin_id(event.originator_id))
        except AggregateNotFoundError:
            return []  # not a case from a work order
        topic = topics.get(origin.source)
        if topic is None:
            raise ReplyUnroutable(f"source {origin.source!r} of case {event.originator_id} "
                                  f"is not in the inbound map")
        case_event = envelope(event, position)
        return [{"topic": topic, "message": {
            "reply_id": case_event["event_id"],
            "schema_version": REPLY_SCHEMA_VERSION,
            "source": origin.source,
            "external_id": origin.external_id,
            "case_id": case_event["case_id"],
            "type": case_event["type"],
            "event": case_event,
        }}]

    return outgoing


class ReplyPublisher(Publisher):
    def route(self, message: dict[str, Any]) -> Record:
        reply = message["message"]
        value = json.dumps(reply, ensure_ascii=False, separators=(",", ":")).encode()
        headers = [("type", reply["type"].encode()), ("reply_id", reply["reply_id"].encode()),
                   ("content_type", b"application/json")]
        return message["topic"], reply["external_id"].encode(), value, headers


def reply_publishers(rules: InboundMap) -> Callable[[RelayConfig], Publisher]:
    """The reply relay's ``publisher_factory``: every reply topic created when missing."""
    topics = sorted(set(rules.reply_topics.values()))

    def connect(config: RelayConfig) -> Publisher:
        try:
            for topic in topics:
                ensure_topic(config.bootstrap_servers, topic, partitions=config.partitions,
                             replication=config.replication,
                             timeout_ms=config.timeouts.bootstrap_ms)
        except KafkaError as error:
            raise BrokerUnavailable(f"cannot reach the broker: {error!r}") from error
        return ReplyPublisher(config.bootstrap_servers, config.topic, config.timeouts,
                              client_id="petition-inbound-replies")

    return connect
