"""`petition index backfill` end to end: a case answered before the concluded-matter index
(不再受理) existed gets its record from the command, in another process, with progress on
stderr; a second run adds nothing; the same matter brought again is then flagged. Both stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta

import pytest

from adapters.settings import Settings
from tests.integration.helpers import SAMPLE_PETITIONER, register_sample, run_steps
from tests.subprocess_env import petition_env
from workflows.concluded_matters import ConcludedMatterIndex

PETITION = [sys.executable, "-c", "from adapters.cli.main import main; main()"]
AGAIN = {"petitioner": SAMPLE_PETITIONER, "subject": "路灯还是不亮",
         "content": "文昌街道第一社区的路灯已经坏了两个月，仍未修好。"}


def backfill(settings: Settings, *args: str) -> tuple[dict[str, object], str]:
    done = subprocess.run([*PETITION, "index", "backfill", "--json", *args],
                          env={**os.environ, **petition_env(settings)}, capture_output=True,
                          text=True, check=False, timeout=120)
    assert done.returncode == 0, (done.stdout, done.stderr)
    return json.loads(done.stdout), done.stderr


def test_backfill_indexes_an_older_answer_once(app, settings, clock,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as before_the_index:
        before_the_index.setattr(ConcludedMatterIndex, "record_of", lambda *args, **kwargs: None)
        earlier = register_sample(app, petitioner=SAMPLE_PETITIONER).case_id
        run_steps(app, clock, earlier, until="answer")
    clock.advance(timedelta(days=60))  # the review window (7 + 30 days) has passed

    dry, _ = backfill(settings, "--dry-run")
    assert dry == {"dry_run": True, "answered": 1, "indexed": 1}
    done, progress = backfill(settings)
    assert done == {"dry_run": False, "answered": 1, "indexed": 1}
    assert progress == "index backfill: 1 answered cases read, 1 records added\n"
    assert backfill(settings)[0]["indexed"] == 0  # re-run: nothing new

    again = register_sample(app, **AGAIN).case_id
    assert app.get_petition(again).concluded_flag == str(earlier)
