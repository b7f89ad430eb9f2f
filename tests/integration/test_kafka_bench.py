"""Smoke test of bench/kafka_relay.py: it runs end to end on a tiny load and reports numbers."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "kafka_relay.py"


def test_the_benchmark_runs_and_reports(kafka_broker, monkeypatch):
    monkeypatch.delenv("PETITION_STORE", raising=False)
    spec = importlib.util.spec_from_file_location("kafka_relay_bench", BENCH)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    result = bench.run(events=50, latency_events=10, bootstrap=kafka_broker.bootstrap)
    assert result["events"] == 50
    assert result["relay_events_per_s"] > 0 and result["bare_producer_events_per_s"] > 0
    assert result["latency_samples"] == 10
    assert 0 < result["latency_p50_ms"] <= result["latency_p99_ms"]
