"""The inbound consumer inside `petition serve`: /readyz names it while the broker is away and
recovers by itself when a new (empty) broker is back, registering the orders sent after."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from fastapi.testclient import TestClient
from kafka import KafkaProducer

from adapters.http.app import create_app
from adapters.kafka.admin import ensure_topic
from adapters.settings import Settings
from tests.faults.test_broker_outage import sqlite_settings  # noqa: F401 - a fixture
from tests.kafka_broker import TansuBroker
from tests.processes import wait_until
from tests.unit.inbound_orders import MAP_TOML, encode, order

TOPIC = "orders"


def send(bootstrap: str, n: int) -> None:
    ensure_topic(bootstrap, TOPIC, partitions=2, replication=1)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    producer.send(TOPIC, key=f"GD{n}".encode(), value=encode(order(n)))
    producer.flush(10)
    producer.close()


def test_readyz_names_the_inbound_consumer_while_the_broker_is_away_and_recovers(
        sqlite_settings: Settings, broker: TansuBroker, tmp_path: Path) -> None:  # noqa: F811
    map_file = tmp_path / "inbound.toml"
    map_file.write_text(MAP_TOML, encoding="utf-8")
    settings = dataclasses.replace(sqlite_settings, kafka_bootstrap_servers=broker.bootstrap,
                                   supervision_interval=0, inbound_map=map_file,
                                   inbound_topic=TOPIC)
    api = create_app(settings, run_projections=True)
    app = api.state.engine.app
    registered = lambda: (app.recorder.max_notification_id() or 0) // 4  # noqa: E731
    with TestClient(api) as client:
        send(broker.bootstrap, 1)
        wait_until(lambda: registered() == 1, 60, "the first order")
        wait_until(lambda: client.get("/readyz").status_code == 200, 30, "ready")
        assert client.get("/readyz").json()["inbound"] == {"state": "following"}

        broker.stop()
        def names_the_consumer() -> bool:  # the relays may notice first
            answer = client.get("/readyz")
            return answer.status_code == 503 and any(
                line.startswith("inbound consumer retrying")
                for line in answer.json()["not_ready"])

        wait_until(names_the_consumer, 60, "not ready, naming the inbound consumer")

        broker.start()
        send(broker.bootstrap, 2)
        wait_until(lambda: registered() == 2, 90, "the order sent after the outage")
        wait_until(lambda: client.get("/readyz").status_code == 200, 60, "ready again")
    app.close()
