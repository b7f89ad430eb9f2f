"""The relay delivers every case event, keyed by case, in order per case, on a real broker.

Several writers (one application instance each, as several API workers would) write about two
thousand events while the relay runs; the topic has four partitions. Then the subscriber
library reads them with a consumer group and drops duplicates.
"""

from __future__ import annotations

from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import UUID

import pytest

from adapters.kafka.publisher import Publisher
from adapters.kafka.relay import Relay, RelayConfig
from adapters.kafka.subscriber import Subscriber, SubscriberConfig
from adapters.settings import Settings
from adapters.wiring import build_application
from tests.integration.helpers import LIFECYCLE, SAMPLE_PETITIONER, register_sample
from tests.kafka_broker import TansuBroker, by_position, log_envelopes, read_topic
from workflows.application import PetitionApplication

WRITERS = 4
CASES_PER_WRITER = 72
STEPS = LIFECYCLE[:6]  # accept, delegate, extend, supervise, answer, rate: 7 events per case
TOPIC = "petition.events"


def write(app: PetitionApplication, cases: int) -> None:
    """Registers ``cases`` cases, then moves them all one step at a time (interleaved)."""
    # one petitioner for all: their answers each write their own case's concluded-matter record
    ids: list[UUID] = [register_sample(app, petitioner=SAMPLE_PETITIONER).case_id
                       for _ in range(cases)]
    for _, build in STEPS:
        for case_id in ids:
            app.execute(build(case_id))


def write_concurrently(settings: Settings, writers: int, cases: int) -> None:
    apps = [build_application(settings) for _ in range(writers)]  # tables created once, here
    try:
        with ThreadPoolExecutor(writers) as pool:
            list(pool.map(lambda a: write(a, cases), apps))
    finally:
        for a in apps:
            a.close()


@pytest.fixture
def relay(settings: Settings, kafka_broker: TansuBroker) -> Any:
    config = RelayConfig(kafka_broker.bootstrap, TOPIC, partitions=4, batch_size=200)
    relay = Relay(build_application(settings), config)
    relay.start()
    yield relay
    relay.close()
    assert relay.error is None


def test_thousands_of_events_from_concurrent_writers_arrive_in_order_per_case(
    settings, app, relay, kafka_broker
):
    write_concurrently(settings, WRITERS, CASES_PER_WRITER)
    relay.wait_for(app.recorder.max_notification_id(), timeout=60)
    expected = log_envelopes(app)
    assert len(expected) == WRITERS * CASES_PER_WRITER * (1 + len(STEPS))

    received = read_topic(kafka_broker.bootstrap, TOPIC, at_least=len(expected))

    partitions_of: dict[str, set[int]] = defaultdict(set)
    versions_of: dict[str, list[int]] = defaultdict(list)
    for partition, envelope in received:
        partitions_of[envelope["case_id"]].add(partition)
        versions_of[envelope["case_id"]].append(envelope["case_version"])
    assert {p for p, _ in received} == {0, 1, 2, 3}  # the cases are spread out
    assert all(len(parts) == 1 for parts in partitions_of.values())  # a case stays on one
    for versions in versions_of.values():  # and its events arrive in the order they happened
        assert versions == list(range(1, len(versions) + 1))
    assert by_position([e for _, e in received]) == expected  # nothing lost, nothing altered
    assert relay.status().lag == 0


def test_subscriber_group_handles_each_event_once_and_resumes_after_its_commit(
    settings, app, relay, kafka_broker
):
    first_cases = [register_sample(app).case_id for _ in range(20)]
    relay.wait_for(app.recorder.max_notification_id())
    # a duplicate, as after a relay crash between the broker's ack and recording the position
    Publisher(kafka_broker.bootstrap, TOPIC).publish(log_envelopes(app)[:5])

    config = SubscriberConfig(kafka_broker.bootstrap, "hotline", TOPIC, from_beginning=True,
                              max_poll_interval_ms=3000)
    handled: list[dict[str, Any]] = []
    with Subscriber(config, handled.append) as subscriber:
        subscriber.run(max_events=20, idle_exit=20)
        subscriber.run(idle_exit=0.5)  # the duplicates come after the originals
        assert subscriber.duplicates == 5
    assert by_position(handled) == log_envelopes(app)
    assert {e["case_id"] for e in handled} == {str(c) for c in first_cases}
    assert all(e["data"]["petitioner"] == "<redacted>" for e in handled)

    later = register_sample(app, petitioner={**SAMPLE_PETITIONER, "name": "李四"}).case_id
    relay.wait_for(app.recorder.max_notification_id())
    again: list[dict[str, Any]] = []
    with Subscriber(config, again.append) as subscriber:  # same group: committed offsets hold
        subscriber.run(max_events=1, idle_exit=20)
        subscriber.run(idle_exit=0.5)
    assert [e["case_id"] for e in again] == [str(later)]
    assert "李四" not in str(again)
