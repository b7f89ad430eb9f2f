"""Running `petition` commands as real processes in tests: start, wait, look at children, stop."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from adapters.settings import Settings
from tests.subprocess_env import petition_env

PETITION = [sys.executable, "-c", "from adapters.cli.main import main; main()"]


def environment(settings: Settings, **extra: str) -> dict[str, str]:
    return {**os.environ, **petition_env(settings), **extra}


@contextlib.contextmanager
def running(argv: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[str]]:
    """A `petition` process for the duration of the block, then SIGTERM (SIGKILL if stuck)."""
    with log.open("a") as out:
        process = subprocess.Popen([*PETITION, *argv], env=env, stdout=out, stderr=out,
                                   text=True, start_new_session=True)
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # its own session: the process and children
            process.wait(5)


# A wait on a condition costs nothing once the condition holds, so no wait gives up before this
# many seconds: the suite runs in four workers on two cores, often beside other work, and a
# tight deadline only turned a slow machine into a failed test. A bound that is itself the
# claim is asserted separately (e.g. the takeover time in tests/faults/test_worker_takeover.py).
MIN_WAIT = 120.0


def wait_until(condition: Callable[[], Any], timeout: float, what: str,
               interval: float = 0.05) -> Any:
    timeout = max(timeout, MIN_WAIT)
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (Linux /proc)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""
