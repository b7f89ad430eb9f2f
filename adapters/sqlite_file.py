"""The embedded store's file: created private, and checked for damage before anything uses it.

A file with garbage in the middle opens fine and fails only when a damaged page is read, so
without a check a server would report ready and then answer some requests with errors. The
check (``PRAGMA quick_check``) is bounded in time: on a file too big to check in time it gives
up with a warning rather than delay the start for minutes. A running server repeats it for
``/readyz`` (``IntegrityWatch``), throttled and in the background.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import structlog

EVENTS_TABLE = "stored_events"  # the library's table name for an application's events
DAMAGE_MARKERS = ("malformed", "not a database", "corrupt", "encrypted", "disk image")


class StoreDamaged(RuntimeError):
    """The SQLite file is damaged (CLI exit code 9)."""


def damaged(path: Path | str, problem: str) -> StoreDamaged:
    return StoreDamaged(
        f"the store file {path} is damaged ({problem}); stop every process using it and "
        "restore it and its keys/ folder from a backup (`sqlite3 FILE .recover` salvages "
        "what is readable)")


def is_damage(error: BaseException) -> bool:
    """Whether a database error says the file is damaged (rather than busy or missing)."""
    text = str(error).lower()
    return any(marker in text for marker in DAMAGE_MARKERS)


def create_private(path: Path) -> None:
    """Creates an empty database file readable by the owner only (SQLite gives its -wal and
    -shm files the same mode as the database file)."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def check_integrity(path: Path, seconds: float) -> None:
    """Raises StoreDamaged naming the file when quick_check finds a problem."""
    problem = find_damage(path, seconds)
    if problem:
        raise damaged(path, problem)


def find_damage(path: Path, seconds: float) -> str | None:
    """What quick_check reports, or None for a sound file (or a check that ran out of time).

    The check is one step of SQLite's machine, so a progress handler cannot stop it; a timer
    interrupts the connection instead."""
    if seconds <= 0 or not path.is_file() or path.stat().st_size == 0:
        return None
    conn = sqlite3.connect(path, timeout=10, check_same_thread=False)
    timer = threading.Timer(seconds, conn.interrupt)
    timer.start()
    try:
        rows = conn.execute("PRAGMA quick_check").fetchall()
    except sqlite3.OperationalError as error:
        if "interrupted" not in str(error):
            if is_damage(error):
                return str(error)
            raise
        structlog.get_logger().warning("store.integrity_check_skipped", file=str(path),
                                       seconds=seconds)
        return None
    except sqlite3.DatabaseError as error:  # e.g. "file is not a database"
        return str(error)
    finally:
        timer.cancel()
        conn.close()
    problems = [str(row[0]) for row in rows if row[0] != "ok"]
    return "; ".join(problems[:3]) if problems else None


def holds_events(path: Path) -> bool:
    """Whether the file holds any event (False for a missing file or a store never written)."""
    if not path.is_file() or path.stat().st_size == 0:
        return False
    conn = sqlite3.connect(path, timeout=10)
    try:
        row = conn.execute(f"SELECT EXISTS (SELECT 1 FROM {EVENTS_TABLE})").fetchone()
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return False
        raise
    finally:
        conn.close()
    return bool(row[0])


class IntegrityWatch:
    """The start-up check, repeated while the server runs, for ``/readyz``.

    A file damaged while the server runs (a disk fault, a careless copy over it) would
    otherwise be reported ready until the next start. ``problem()`` answers at once from the
    last check and, when that is older than ``every`` seconds, starts the next one in a thread
    of its own (one at a time, bounded by ``seconds`` like the start-up check): readiness never
    waits for ``quick_check``, and a file is checked at most once per ``every`` seconds
    whatever the rate of probes. Until the first repeat the start-up check's verdict stands."""

    def __init__(self, path: Path, seconds: float, every: float,
                 clock: Callable[[], float] = time.monotonic):
        self.path, self.seconds, self.every, self._clock = path, seconds, every, clock
        self._checked_at = clock()  # the start-up check
        self._problem: str | None = None
        self._running = threading.Lock()

    def problem(self) -> str | None:
        """What the last check found (None: sound, or not checked again yet)."""
        if self.every > 0 and self.seconds > 0 \
                and self._clock() - self._checked_at >= self.every \
                and self._running.acquire(blocking=False):
            threading.Thread(target=self._check, daemon=True, name="integrity-check").start()
        return self._problem

    def _check(self) -> None:
        try:
            self._problem = find_damage(self.path, self.seconds)
        except Exception as error:  # noqa: BLE001 - busy or away: the store checks say so
            structlog.get_logger().warning("store.integrity_recheck_failed", error=str(error))
        finally:
            self._checked_at = self._clock()
            self._running.release()
