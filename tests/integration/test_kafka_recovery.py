"""Nothing is lost when the relay is killed or the broker goes away.

- ``petition relay`` is SIGKILLed mid-stream and started again: every event arrives at least
  once, and what ``petition subscribe`` prints (de-duplicated) is exactly the event log.
- The broker stops while events keep being written, and a new (empty) broker starts on the
  same port: the relay backs off with bounded waits, never records a position the broker did
  not acknowledge, and delivers every event written after the outage.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import defaultdict
from typing import Any

import pytest
from eventsourcing.persistence import Tracking
from structlog.testing import capture_logs

from adapters.kafka import relay as relay_module
from adapters.kafka.publisher import ProducerTimeouts, Publisher
from adapters.kafka.relay import Relay, RelayConfig, RelayGaveUp
from adapters.kafka.tracking import relay_tracking
from adapters.wiring import build_application
from tests.integration.helpers import register_sample
from tests.kafka_broker import (
    by_position,
    dedup,
    free_port,
    is_case_event,
    log_envelopes,
    petition_argv,
    read_topic,
    settings_env,
    wait_until,
)
from workflows import commands as c

TOPIC = "petition.events"
FAST = ProducerTimeouts(bootstrap_ms=500, max_block_ms=1000, request_ms=1000,
                        delivery_ms=2000)


def accept(case_id: Any) -> c.AcceptPetition:
    return c.AcceptPetition(case_id=case_id, actor="intake", handling_track="claim",
                            speed_track="general")


def write_cases(app: Any, count: int, stop: threading.Event | None = None,
                pause: float = 0.0) -> None:
    """Registers and accepts ``count`` cases (two case events each), or until ``stop``."""
    for _ in range(count):
        if stop is not None and stop.is_set():
            return
        app.execute(accept(register_sample(app).case_id))
        time.sleep(pause)


def relay_status(app: Any) -> Any:
    return Relay(app, RelayConfig(bootstrap_servers="", topic=TOPIC)).status()


def run_petition(env: dict[str, str], *args: str, timeout: float = 60) -> str:
    done = subprocess.run(petition_argv(*args), env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_relay_killed_mid_stream_and_restarted_delivers_the_log_exactly(
    settings, app, kafka_broker, tmp_path
):
    env = {**os.environ, **settings_env(settings, kafka_broker, TOPIC)}
    write_cases(app, 150)
    tracking = relay_tracking(app.factory.datastore)
    log = (tmp_path / "relay.log").open("w")
    relay = subprocess.Popen(petition_argv("relay", "--batch-size", "20"), env=env,
                             stdout=log, stderr=log)
    writer_app = build_application(settings)
    writer = threading.Thread(target=write_cases, args=(writer_app, 100), kwargs={"pause": 0.005})
    writer.start()  # events keep coming while the relay runs, dies and comes back
    try:
        wait_until(lambda: (tracking.max_tracking_id(app.name) or 0) >= 300, 30,
                   "the relay to get half-way", interval=0.01)
        relay.send_signal(signal.SIGKILL)
        relay.wait(10)
        killed_at = tracking.max_tracking_id(app.name)
        status = json.loads(run_petition(env, "relay", "status", "--json"))
        assert status["position"] == killed_at
        assert status["lag"] > 0  # killed mid-stream, with events still to relay

        relay = subprocess.Popen(petition_argv("relay", "--batch-size", "20"), env=env,
                                 stdout=log, stderr=log)
        writer.join()
        head = app.recorder.max_notification_id()
        tracking.wait(app.name, head, timeout=60)
        relay.send_signal(signal.SIGTERM)
        assert relay.wait(15) == 0
    finally:
        if relay.poll() is None:
            relay.kill()
        writer.join()
        writer_app.close()
    assert relay_status(app).lag == 0

    expected = log_envelopes(app)
    assert len(expected) == 500
    raw = [e for _, e in read_topic(kafka_broker.bootstrap, TOPIC, at_least=len(expected))]
    assert len(raw) >= len(expected)  # at least once
    assert by_position(dedup(raw)) == expected

    printed = run_petition(env, "subscribe", "--group", "audit", "--from-beginning",
                           "--max-events", str(len(expected)), "--max-poll-interval-ms", "3000")
    lines = [json.loads(line) for line in printed.splitlines()]
    assert len(lines) == len(expected)  # each event printed once
    assert by_position(lines) == expected
    versions: dict[str, list[int]] = defaultdict(list)
    for envelope in lines:
        versions[envelope["case_id"]].append(envelope["case_version"])
    assert all(v == [1, 2] for v in versions.values())  # in order per case


def test_broker_outage_relay_waits_backs_off_and_delivers_everything_written_since(
    settings, app, kafka_broker
):
    acknowledged: set[int] = set()
    violations: list[int] = []

    class RecordingPublisher(Publisher):
        def publish(self, envelopes: Any) -> None:
            super().publish(envelopes)  # returns only once the broker acknowledged them all
            acknowledged.update(e["position"] for e in envelopes)

    def connect(config: RelayConfig) -> Publisher:
        relay_module.ensure_topic(config.bootstrap_servers, config.topic, partitions=3,
                                  replication=1, timeout_ms=500)
        return RecordingPublisher(config.bootstrap_servers, config.topic, config.timeouts)

    tracking = relay_tracking(app.factory.datastore)
    record = tracking.insert_tracking

    def checked(t: Tracking) -> None:  # the invariant: never past an unacknowledged event
        for n in app.recorder.select_notifications(start=1, limit=10_000, stop=t.notification_id):
            if is_case_event(n.topic) and n.id not in acknowledged:
                violations.append(n.id)
        record(t)

    tracking.insert_tracking = checked  # type: ignore[method-assign]
    config = RelayConfig(kafka_broker.bootstrap, TOPIC, partitions=3, batch_size=50,
                         backoff_initial=0.2, backoff_max=0.4, timeouts=FAST)
    relay = Relay(build_application(settings), config, tracking=tracking,
                  publisher_factory=connect)
    with capture_logs() as logs:
        relay.start()
        write_cases(app, 50)
        relay.wait_for(app.recorder.max_notification_id())

        kafka_broker.stop()
        before = relay.position
        stop_writing = threading.Event()
        writer_app = build_application(settings)
        writer = threading.Thread(target=write_cases, args=(writer_app, 10_000, stop_writing),
                                  kwargs={"pause": 0.01})
        writer.start()
        outage_started = time.monotonic()
        deadline = outage_started + 20
        while sum(e["event"] == "relay.broker_unavailable" for e in logs) < 3:
            assert time.monotonic() < deadline, logs
            time.sleep(0.1)
        outage = time.monotonic() - outage_started
        assert relay.position == before  # nothing acknowledged, nothing recorded
        assert app.recorder.max_notification_id() > before  # while events kept coming

        kafka_broker.start()  # a new, empty broker on the same address
        time.sleep(0.5)
        stop_writing.set()
        writer.join()
        writer_app.close()
        relay.wait_for(app.recorder.max_notification_id(), timeout=30)
        relay.close()
    assert relay.error is None
    assert violations == []

    failures = [e for e in logs if e["event"] == "relay.broker_unavailable"]
    delays = [e["retry_in_s"] for e in failures]
    for delay, ceiling in zip(delays[:3], [0.2, 0.4, 0.4], strict=True):
        assert ceiling / 2 - 0.01 <= delay <= ceiling  # exponential, capped, with jitter
    assert len(failures) <= outage / 0.1 + 5  # no busy loop
    assert all(e["log_level"] == "warning" and e["position"] == before for e in failures)
    assert any(e["event"] == "relay.recovered" for e in logs)

    expected = [e for e in log_envelopes(app) if e["position"] > before]
    assert len(expected) > 20
    raw = [e for _, e in read_topic(kafka_broker.bootstrap, TOPIC, at_least=len(expected))]
    assert by_position(dedup(raw)) == expected


def test_relay_with_bounded_failures_gives_up_without_moving(settings, app):
    register_sample(app)
    config = RelayConfig(f"127.0.0.1:{free_port()}", TOPIC, max_failures=3,
                         backoff_initial=0.05, timeouts=FAST)
    relay = Relay(build_application(settings), config)
    with capture_logs() as logs, pytest.raises(RelayGaveUp):
        relay.run()
    assert relay.position == 0
    relay.app.close()
    assert [e["event"] for e in logs if e["event"].startswith("relay.")] == [
        "relay.started", "relay.broker_unavailable", "relay.broker_unavailable",
        "relay.gave_up", "relay.stopped"]
