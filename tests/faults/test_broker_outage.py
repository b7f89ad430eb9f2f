"""The Kafka broker drops every connection and is replaced by a new, empty one.

``petition subscribe`` used to exit on ``KafkaConnectionError``; now it stays up, reports that
it is retrying, and joins the new broker's group by itself. The relay backs off and publishes,
from its recorded position, everything written meanwhile. What the subscriber prints
(de-duplicated by ``event_id``) is every case event of the log: nothing missed.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from pathlib import Path
from typing import IO

import pytest

from adapters.kafka.relay import Relay, RelayConfig
from adapters.settings import Settings
from adapters.wiring import build_application
from tests.integration.test_kafka_recovery import FAST, write_cases
from tests.kafka_broker import TansuBroker, dedup, log_envelopes, petition_argv, settings_env
from tests.processes import wait_until

TOPIC = "petition.events"


def _collect(stream: IO[str], into: list[str]) -> None:
    for line in stream:
        into.append(line)


def test_subscribe_survives_the_broker_going_away_and_being_replaced(
        sqlite_settings: Settings, broker: TansuBroker) -> None:
    app = build_application(sqlite_settings)
    relay = Relay(build_application(sqlite_settings),
                  RelayConfig(broker.bootstrap, TOPIC, partitions=2, backoff_initial=0.2,
                              backoff_max=1.0, timeouts=FAST))
    env = {**os.environ, **settings_env(sqlite_settings, broker, TOPIC)}
    subscriber = subprocess.Popen(
        petition_argv("subscribe", "--group", "hotline", "--from-beginning"), env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    printed: list[str] = []
    logged: list[str] = []
    readers = [threading.Thread(target=_collect, args=(subscriber.stdout, printed), daemon=True),
               threading.Thread(target=_collect, args=(subscriber.stderr, logged), daemon=True)]
    for reader in readers:
        reader.start()

    def received() -> list[dict[str, object]]:
        return dedup([json.loads(line) for line in list(printed)])

    try:
        relay.start()
        write_cases(app, 5)
        wait_until(lambda: len(received()) == len(log_envelopes(app)), 60,
                   "the subscriber to print the first events")

        broker.stop()
        write_cases(app, 5)  # written while the broker is away
        wait_until(lambda: relay.health.state == "retrying", 30, "the relay to retry")
        assert subscriber.poll() is None, "".join(logged)[-3000:]

        broker.start()  # a new, empty broker on the same address
        write_cases(app, 5)
        wait_until(lambda: len(received()) == len(log_envelopes(app))
                   or subscriber.poll() is not None, 90,
                   "the subscriber to print everything written since")
        assert subscriber.poll() is None, "".join(logged)[-3000:]
        assert sorted(e["event_id"] for e in received()) == sorted(
            e["event_id"] for e in log_envelopes(app))
        assert relay.health.ok
    finally:
        subscriber.terminate()
        try:
            subscriber.wait(20)
        except subprocess.TimeoutExpired:
            subscriber.kill()
        relay.close()
        app.close()


@pytest.fixture
def sqlite_settings(tmp_path: Path) -> Settings:
    import base64
    import secrets

    def key() -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode()

    return Settings.from_env({"PETITION_STORE": str(tmp_path / "petitions.db"),
                              "PETITION_DATA_DIR": str(tmp_path / "data"),
                              "PETITION_CIPHER_KEY": key(), "PETITION_QUERY_CODE_KEY": key()})
