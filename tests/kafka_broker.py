"""A Tansu broker process on a loopback port, and helpers the Kafka tests share."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from adapters.settings import Settings
from domain.events import PetitionEvent
from tests.subprocess_env import petition_env
from workflows.application import PetitionApplication
from workflows.event_envelope import envelope


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TansuBroker:
    def __init__(self, binary: str, log_file: Path, port: int | None = None):
        self.binary = binary
        self.port = port or free_port()
        self.log_file = log_file
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        url = f"tcp://127.0.0.1:{self.port}"
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(
                [self.binary, "broker", "--listener-url", url, "--advertised-listener-url", url,
                 "--storage-engine", "memory://tansu/"],
                stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"tansu exited: {self.log_file.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"tansu did not listen on {self.port}")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(5)
        self._process = None




# ---------------------------------------------------------------------- shared helpers
def settings_env(settings: Settings, broker: TansuBroker | None = None,
                 topic: str | None = None) -> dict[str, str]:
    """The environment that gives a subprocess (``petition relay``) the same store."""
    env = petition_env(settings)
    if broker is not None:
        env["KAFKA_BOOTSTRAP_SERVERS"] = broker.bootstrap
    if topic is not None:
        env["PETITION_KAFKA_TOPIC"] = topic
    return env


def log_envelopes(app: PetitionApplication) -> list[dict[str, Any]]:
    """The envelope of every case event in the log, in log order: what subscribers must get."""
    out, start = [], 0
    while True:
        batch = app.recorder.select_notifications(start=start, limit=1000,
                                                  inclusive_of_start=False)
        if not batch:
            return out
        for notification in batch:
            event = app.mapper.to_domain_event(notification)
            if isinstance(event, PetitionEvent):
                out.append(envelope(event, notification.id))
        start = batch[-1].id


def read_topic(bootstrap: str, topic: str, *, at_least: int,
               timeout: float = 120.0) -> list[tuple[int, dict[str, Any]]]:
    """Every message of ``topic`` as (partition, envelope), in partition order, no group.

    Reads until at least ``at_least`` messages arrived and then until the end offsets.
    """
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    deadline = time.monotonic() + timeout
    try:
        while not (numbers := consumer.partitions_for_topic(topic)):
            if time.monotonic() > deadline:  # the relay creates the topic when it starts
                raise TimeoutError(f"topic {topic} was never created")
            time.sleep(0.1)
            consumer.topics()  # refreshes the cluster metadata
        partitions = [TopicPartition(topic, p) for p in numbers]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        out: list[tuple[int, dict[str, Any]]] = []
        while time.monotonic() < deadline:
            for tp, messages in consumer.poll(timeout_ms=300).items():
                out.extend((tp.partition, json.loads(m.value)) for m in messages)
            if len(out) >= at_least:
                ends = consumer.end_offsets(partitions)
                if all(consumer.position(tp) >= ends[tp] for tp in partitions):
                    return out
        raise TimeoutError(f"read {len(out)} of at least {at_least} messages from {topic}")
    finally:
        consumer.close()


def dedup(envelopes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """First occurrence of each event_id, in the order received."""
    seen: set[str] = set()
    out = []
    for e in envelopes:
        if e["event_id"] not in seen:
            seen.add(e["event_id"])
            out.append(e)
    return out


def by_position(envelopes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(envelopes, key=lambda e: e["position"])


def wait_until(condition: Any, timeout: float, what: str, interval: float = 0.05) -> None:
    """As tests/processes.py's: never gives up before ``MIN_WAIT`` seconds."""
    from tests.processes import MIN_WAIT

    deadline = time.monotonic() + max(timeout, MIN_WAIT)
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(interval)


def petition_argv(*args: str) -> list[str]:
    """``petition ARGS`` as a subprocess; falls back to the Kafka commands' own entry point
    while adapters/cli/main.py does not register them yet."""
    import sys

    from adapters.cli.main import app

    names = {c.name for c in app.registered_commands} | {g.name for g in app.registered_groups}
    if "relay" in names:
        return [sys.executable, "-c", "from adapters.cli.main import main; main()", *args]
    return [sys.executable, "-m", "adapters.cli.kafka_commands", *args]


def is_case_event(topic: str) -> bool:
    """A notification's topic names its event class; case events live in domain.events."""
    return topic.startswith("domain.events:")
