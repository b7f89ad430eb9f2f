"""The static checks of .ci/run, also in the suite: whoever runs the tests before merging sees a
broken dependency rule, lint or type error, not only CI."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECKS = {
    "lint-imports": [shutil.which("lint-imports") or "lint-imports"],
    "ruff": [sys.executable, "-m", "ruff", "check", "."],
    "mypy": [sys.executable, "-m", "mypy"],
}


@pytest.mark.parametrize("check", CHECKS)
def test_static_check_passes(check):
    done = subprocess.run(CHECKS[check], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          check=False)
    assert done.returncode == 0, f"{check} failed:\n{done.stdout}{done.stderr}"
