"""The installed schemathesis CLI against `petition serve` on a demo store: zero failures.

``schemathesis run URL/openapi.json --checks all`` with an admin token, every phase (examples,
coverage — which tries boundary values, e.g. of instants and cursors —, fuzzing, and stateful
runs that follow the document's links from a registration to the new case), a bounded number
of examples per operation so the run stays within about two minutes on two cores. The
project's ``schemathesis.toml`` (read from the repository root, where the run starts) lists the
operations on which a schema-valid request may still be refused with 422, and why.

``PETITION_FUZZ_EXAMPLES`` and ``PETITION_FUZZ_SEED`` widen or vary the run by hand.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.settings import Settings
from tests.e2e.conftest import free_port
from tests.subprocess_env import petition_env

ROOT = Path(__file__).resolve().parents[2]
PETITION = [sys.executable, "-c", "from adapters.cli.main import main; main()"]
EXAMPLES = os.environ.get("PETITION_FUZZ_EXAMPLES", "25")
SEED = os.environ.get("PETITION_FUZZ_SEED", "20261129")


def _petition(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*PETITION, *args], env=env, capture_output=True, text=True,
                          timeout=300, cwd=ROOT, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(base URL, admin token) of `petition serve` on a small demo store."""
    env = {**os.environ, **petition_env(settings), "PETITION_SUPERVISION_INTERVAL": "0",
           "PYTHONPATH": str(ROOT)}
    _petition(env, "demo", "--cases", "60", "--seed", "3", "--json")
    token = json.loads(_petition(env, "token", "issue", "--role", "admin", "--unit", "QH",
                                 "--json"))["token"]
    port = free_port()
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([*PETITION, "serve", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "petition serve did not start"
            time.sleep(0.2)
        # the first request for the OpenAPI document builds it (seconds on a loaded machine):
        # schemathesis waits 10 s for it, so it is built before schemathesis asks
        assert httpx.get(f"{url}/openapi.json", timeout=120).status_code == 200
        yield url, token
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    served_log = (tmp_path / "serve.log").read_text()
    assert '"status": 5' not in served_log, "the service answered a 5xx (see its log)"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_schemathesis_finds_nothing(served: tuple[str, str], tmp_path: Path) -> None:
    cli = shutil.which("schemathesis") or shutil.which("st")
    assert cli, "schemathesis is a dev dependency: pip install -e '.[dev]'"
    url, token = served
    done = subprocess.run(
        [cli, "--no-color", "run", f"{url}/openapi.json", "--checks", "all",
         "-H", f"Authorization: Bearer {token}", "--max-examples", EXAMPLES, "--seed", SEED,
         "--workers", "1", "--generation-database", "none", "--request-timeout", "30"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
        env={**os.environ, "SCHEMATHESIS_HOOKS": ""})
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-12000:]
    assert "passed" in report and "failure" not in report.split("SUMMARY")[-1], report[-4000:]
