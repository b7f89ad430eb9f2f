"""Exactly-once under failure: SIGKILL the projection process mid-catch-up, several times.

After each kill the views are at some committed position; the next run resumes from there.
The final views must equal a full rebuild — no duplicated, missing or half-applied rows.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from projections import runner as r
from tests.integration.helpers import proxy_agent, register_sample, run_steps
from tests.subprocess_env import petition_env
from tests.views import views_of

ROOT = Path(__file__).resolve().parents[2]
CASES = 150


def _env(settings) -> dict[str, str]:
    return {**os.environ, **petition_env(settings), "PYTHONPATH": str(ROOT)}


def _start(settings) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "adapters.cli.projection_commands", "projections", "run",
         "--batch-size", "1"], env=_env(settings), cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_past(process: subprocess.Popen[bytes], app, mark: float) -> None:
    """SIGKILLs the process as soon as some view has passed ``mark`` (a random point)."""
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline:
        if max(s["position"] for s in r.status(app, views_of(app))) >= mark:
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_killed_projection_process_resumes_exactly_once(app, clock, settings):
    for i in range(CASES):
        reg = register_sample(app, proxy_agent=proxy_agent(app) if i % 3 == 0 else None)
        run_steps(app, clock, reg.case_id, until=("accept", "delegate", "answer")[i % 3])
    end = app.recorder.max_notification_id()
    rng = random.Random(os.environ.get("PETITION_TEST_SEED", "7"))
    seen_partial = False
    for _ in range(4):
        process = _start(settings)
        _kill_past(process, app, rng.uniform(0.1, 0.9) * end)
        positions = [s["position"] for s in r.status(app, views_of(app))]
        seen_partial |= any(0 < p < end for p in positions)
    assert seen_partial, "no kill landed in the middle of a catch-up; raise CASES"
    process = _start(settings)
    try:
        for name in r.READ_MODELS:
            views_of(app).open(name).wait(app.name, end, timeout=60)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    incremental = {name: views_of(app).open(name).dump() for name in r.READ_MODELS}
    assert len(incremental["case_view"]["case_view"]) == CASES
    for name in r.READ_MODELS:
        r.rebuild(app, views_of(app), name)
        assert views_of(app).open(name).dump() == incremental[name], name
