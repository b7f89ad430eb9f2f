"""A rebuild killed with SIGKILL resumes: ``projections rebuild --all --resume`` goes on from
each view's committed position, and the views end equal to an uninterrupted rebuild."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from projections import runner as r
from tests.integration.helpers import register_sample, run_steps
from tests.subprocess_env import petition_env
from tests.views import views_of

ROOT = Path(__file__).resolve().parents[2]
CASES = 120


def _rebuild(settings, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "adapters.cli.projection_commands", "projections", "rebuild",
         "--all", "--batch-size", "10", *extra],
        env={**os.environ, **petition_env(settings), "PYTHONPATH": str(ROOT)}, cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_killed_rebuild_resumes_where_it_stopped(app, clock, settings):
    for i in range(CASES):
        reg = register_sample(app)
        run_steps(app, clock, reg.case_id, until=("accept", "delegate", "answer")[i % 3])
    end = app.recorder.max_notification_id()
    for name in r.READ_MODELS:
        r.catch_up(app, views_of(app), name)  # views exist and are complete; the rebuild starts over
    process = _rebuild(settings)
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        if 0 < (views_of(app).open("case_view").max_tracking_id(app.name) or 0) < end // 2:
            break
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()
    positions = {n: views_of(app).open(n).max_tracking_id(app.name) or 0 for n in r.READ_MODELS}
    assert 0 < positions["case_view"] < end, positions  # killed in the middle of it
    assert all(positions[n] == 0 for n in r.READ_MODELS if n != "case_view"), positions

    resumed = _rebuild(settings, "--resume")
    output = resumed.communicate(timeout=300)[0].decode()
    assert resumed.returncode == 0, output
    assert f"case_view (from {positions['case_view']:,})" in output
    assert all(views_of(app).open(n).max_tracking_id(app.name) == end for n in r.READ_MODELS)
    after_resume = {name: views_of(app).open(name).dump() for name in r.READ_MODELS}
    assert len(after_resume["case_view"]["case_view"]) == CASES
    for name in r.READ_MODELS:
        r.rebuild(app, views_of(app), name)
        assert views_of(app).open(name).dump() == after_resume[name], name
