"""Where figure 12's CPU goes, per class of process, including PostgreSQL's backends.

The ratio of 2 API workers to 1 is bounded by the CPU split: the 1-worker run is bound by its
one API process's core, so with ``a`` ms of that process and ``o`` ms of everything else per
request (PostgreSQL, the views worker, locust, uvicorn's supervisor) two cores allow at most
``2a / (a + o)`` times the 1-worker throughput. This module measures ``a`` and the parts of
``o`` so the bench can print them.

The service's processes are known by pid. Their PostgreSQL backends are known by
``application_name``: ``serving`` starts the API and the views worker with ``PGAPPNAME`` set to
a label of this run, which libpq sends on every pooled connection. A sampler thread reads
``pg_stat_activity`` and each backend's CPU (psutil; the bench runs on the database's machine)
twice a second, so a backend that closes during the run loses at most half a second of CPU.
PostgreSQL's own background processes (WAL writer, checkpointer, autovacuum...) are counted
apart: they serve every session on the server, this run's and any neighbour's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import psutil
import psycopg

SAMPLE_EVERY = 0.5
CLASSES = ("api", "uvicorn supervisor", "views worker", "pg backends (api)",
           "pg backends (views worker)", "pg background", "locust")


def _cpu(process: psutil.Process) -> float | None:
    try:
        times = process.cpu_times()
        return times.user + times.system
    except psutil.Error:
        return None


def _postmaster() -> psutil.Process | None:
    for process in psutil.process_iter(["name", "cmdline"]):
        try:
            if process.name() in ("postgres", "postmaster") and (
                    process.ppid() == 1 or process.parent().name() not in ("postgres",
                                                                           "postmaster")):
                return process
        except psutil.Error:
            continue
    return None


class CpuSplit:
    """CPU seconds per class between ``start`` and ``stop``."""

    def __init__(self, url: str, label: str, server: psutil.Process, views: psutil.Process):
        self.url, self.label, self.server, self.views = url, label, server, views
        self._first: dict[tuple[str, int], float] = {}
        self._last: dict[tuple[str, int], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._postmaster = _postmaster()
        self._conn: psycopg.Connection | None = None

    def start(self) -> None:
        self._conn = psycopg.connect(self.url, autocommit=True)
        self._sample(first=True)
        self._thread.start()

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        self._sample()
        if self._conn is not None:
            self._conn.close()
        split = dict.fromkeys(CLASSES[:-1], 0.0)
        for (kind, pid), cpu in self._last.items():
            split[kind] += cpu - self._first.get((kind, pid), 0.0)
        return split

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY):
            self._sample()

    def _sample(self, *, first: bool = False) -> None:
        for kind, process in self._processes():
            cpu = _cpu(process)
            if cpu is None:
                continue
            key = (kind, process.pid)
            if first:
                self._first[key] = cpu
            self._last[key] = cpu

    def _processes(self) -> Iterable[tuple[str, psutil.Process]]:
        workers = _children(self.server)  # none with --workers 1: uvicorn serves in-process
        yield ("uvicorn supervisor" if workers else "api"), self.server
        for child in workers:
            yield ("uvicorn supervisor" if _is_tracker(child) else "api"), child
        yield "views worker", self.views
        for child in _children(self.views):
            yield "views worker", child
        backends = self._backends()
        mine = set(backends)
        if self._conn is not None:
            mine.add(self._conn.info.backend_pid)  # the sampler's own: counted nowhere
        for pid, kind in backends.items():
            try:
                yield kind, psutil.Process(pid)
            except psutil.Error:
                continue
        for child in _children(self._postmaster) if self._postmaster else ():
            if child.pid not in mine and _is_background(child):
                yield "pg background", child

    def _backends(self) -> dict[int, str]:
        assert self._conn is not None
        rows = self._conn.execute(
            "SELECT pid, application_name FROM pg_stat_activity WHERE application_name "
            "IN (%s, %s)", (f"{self.label}-api", f"{self.label}-views")).fetchall()
        return {pid: "pg backends (api)" if name.endswith("-api")
                else "pg backends (views worker)" for pid, name in rows}


def _children(process: psutil.Process) -> list[psutil.Process]:
    try:
        return process.children(recursive=True)
    except psutil.Error:
        return []


def _is_tracker(process: psutil.Process) -> bool:
    """multiprocessing's resource tracker, which a spawning supervisor may start."""
    try:
        return "resource_tracker" in " ".join(process.cmdline())
    except psutil.Error:
        return False


def _is_background(process: psutil.Process) -> bool:
    """A PostgreSQL process serving no client connection (its title names no client)."""
    try:
        title = " ".join(process.cmdline())
    except psutil.Error:
        return False
    return "(" not in title and "[local]" not in title
