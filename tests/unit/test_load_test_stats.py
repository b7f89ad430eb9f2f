"""The load test's figures come from locust's final statistics (``--json-file``), not its CSV,
which is written on a timer and missed the end of a run (bench/load_test.py)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.load_test import _stats


def _entry(name: str, times: dict[str, int], start: float, last: float, failures: int = 0):
    return {"name": name, "method": name.split()[0], "start_time": start,
            "last_request_timestamp": last, "num_requests": sum(times.values()),
            "num_failures": failures, "response_times": times}


def test_routes_and_their_aggregate_from_the_final_statistics(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps([
        _entry("POST /status", {"10": 90, "100": 9, "400": 1}, 100.0, 110.0, failures=2),
        _entry("GET /petitions", {"20": 50, "30": 50}, 102.0, 112.0),
        _entry("GET /proxies", {}, 0.0, 0.0),  # a route that saw nothing
    ]))
    routes = _stats(path)
    assert routes["POST /status"] == {"requests": 100, "failures": 2, "rps": 10.0,
                                      "p50": 10, "p95": 100, "p99": 100}
    assert routes["GET /petitions"]["p50"] == 20 and routes["GET /petitions"]["p95"] == 30
    assert routes["GET /proxies"] == {"requests": 0, "failures": 0, "rps": 0.0,
                                      "p50": 0, "p95": 0, "p99": 0}
    total = routes["Aggregated"]
    assert (total["requests"], total["failures"]) == (200, 2)
    assert total["rps"] == 200 / 12  # from the first request's start to the last one
    assert (total["p50"], total["p95"], total["p99"]) == (20, 30, 100)  # of 200: 90, 140, 190, 199
