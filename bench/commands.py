"""Figures 1 and 2: command throughput, one client and eight, against the bare baselines."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from adapters.persistence.group_commit import GroupCommitRecorder
from adapters.settings import Settings
from adapters.wiring import build_application
from bench import baselines as b
from bench.common import NOW, Figure, Run, lifecycle
from bench.server_cpu import ServerCpu, Used, used
from bench.table_lock import LockSampler, LockUse
from workflows.clock import ManualClock

Tick = Callable[[], None]


ROUNDS = 3
# Figure 2's processes run this many times the threads' lifecycles: at ~2,000 events/s the
# threads' 1,000 events last half a second, too short to read the server's CPU reliably.
PROCESS_RUN = 4


def single_client(run: Run, backend: str, cases: int, tick: Tick) -> Figure:
    """Engine and bare application measured in alternating rounds, so a drift in the
    machine's speed during the run falls on both sides of the ratio alike. Each side's own
    CPU per event is recorded too: on a loaded machine wall time follows the neighbours,
    CPU time much less (the CPU ratio is printed under the table)."""
    place = run.place(backend, f"cmd_{backend[:2]}")
    app = place.app()
    bare_app = b.BareApplication(place.library_env())
    timings = {"engine": 0.0, "bare": 0.0}
    cpu = {"engine": 0.0, "bare": 0.0}
    events = {"engine": 0, "bare": 0}
    try:
        lifecycle(app, -1)  # warm up connections and prepared statements
        b.bare_lifecycle(bare_app, -1)
        per_round = max(1, cases // ROUNDS)
        for r in range(ROUNDS):
            numbers = range(r * per_round, (r + 1) * per_round)
            for side, run_one, target in (("engine", lifecycle, app),
                                          ("bare", b.bare_lifecycle, bare_app)):
                c0, t0 = time.process_time(), time.perf_counter()
                events[side] += sum(run_one(target, n) for n in numbers)
                timings[side] += time.perf_counter() - t0
                cpu[side] += time.process_time() - c0
    finally:
        app.close()
        bare_app.close()
    tick()
    engine = events["engine"] / timings["engine"]
    bare = events["bare"] / timings["bare"]
    tick()
    single = b.raw_inserts(place, per_round * ROUNDS * 5)
    batched = b.raw_inserts(place, per_round * ROUNDS * 5, batch=500)
    tick()
    ratio = engine / bare
    cpu_us = {side: cpu[side] / events[side] * 1e6 for side in cpu}
    return Figure(1, f"single-client commands, {backend}", engine, "events/s",
                  "bare eventsourcing, 1 client", bare, "≥ 1.0×", ratio >= 1.0,
                  detail={"events": events["engine"], "rounds": ROUNDS,
                          "engine_cpu_us_per_event": cpu_us["engine"],
                          "bare_cpu_us_per_event": cpu_us["bare"],
                          "cpu_ratio": cpu_us["bare"] / cpu_us["engine"],
                          "raw_single_insert_rows_per_s": single,
                          "raw_batched_insert_rows_per_s": batched,
                          "vs_raw_single": engine / single, "vs_raw_batched": engine / batched})


def concurrent_clients(run: Run, clients: int, cases_each: int, bare_single: float,
                       tick: Tick) -> Figure:
    """``clients`` client processes, each its own application with group commit, against
    the CPU ceiling of this machine's cores: the clients' CPU per event plus, when the
    database is on this machine, the server's (``clients`` threads in one process, with and
    without group commit, beside it, as before)."""
    rates: dict[str, float] = {}
    stats: dict[str, Any] = {}
    for mode in ("plain", "group_commit"):
        place = run.place("postgres", f"conc_{mode[:5]}")
        app = place.app(group_commit=mode == "group_commit")
        try:
            lifecycle(app, -1)
            cpu = time.process_time()
            rates[mode] = _threads(app, clients, cases_each)
            cpu_per_event = (time.process_time() - cpu) / (clients * cases_each * 5)
            recorder = app.events.recorder
            if isinstance(recorder, GroupCommitRecorder) and recorder.batches:
                stats = {"saves": recorder.saves, "transactions": recorder.batches,
                         "saves_per_transaction": recorder.saves / recorder.batches}
        finally:
            app.close()
        tick()
    place = run.place("postgres", "conc_procs")
    processes = min(clients, os.cpu_count() or 1)  # one per core, the clients spread over them
    measured = _processes(place.env, processes, clients // processes, cases_each * PROCESS_RUN,
                          server=ServerCpu.find(run.url), url=run.url, schema=place.schema)
    tick()
    cores = os.cpu_count() or 1
    thread_ceiling = cores / cpu_per_event
    stats |= measured.detail(cores) | {
        "vs_bare_single": measured.events_per_s / bare_single,
        "bare_single_events_per_s": bare_single,
        "threads_events_per_s": rates["group_commit"],
        "threads_cpu_ms_per_event": cpu_per_event * 1000,
        "threads_of_ceiling": rates["group_commit"] / thread_ceiling,
        "threads_without_group_commit_events_per_s": rates["plain"]}
    ceiling = stats["cpu_ceiling_events_per_s"]
    stats["cpu_ceiling_ratio"] = ceiling / bare_single
    if measured.server is not None:
        baseline = "CPU ceiling: cores / (the clients' + the database's CPU per event)"
    else:
        baseline = "CPU ceiling: cores / the clients' CPU per event (database not measured)"
    return Figure(2, f"{clients} clients in {processes} processes, postgres, group commit",
                  measured.events_per_s, "events/s", baseline, ceiling,
                  "≥ 0.8× of the ceiling", measured.events_per_s / ceiling >= 0.8,
                  detail={"clients": clients, "processes": processes,
                          "events": measured.events, "threads_events": clients * cases_each * 5,
                          **stats})


@dataclass
class ProcessRun:
    """Figure 2's client processes: their rate, their CPU, the server's, the lock's use."""

    events: int
    events_per_s: float
    client_cpu_per_event: float  # seconds
    saves_per_transaction: float  # group commit's coalescing within each process
    server: Used | None  # None: the database's processes cannot be read from here
    lock: LockUse | None

    def detail(self, cores: int) -> dict[str, Any]:
        """The figure's detail: both ceilings, so neither is hidden (docs/performance.md)."""
        client_ceiling = cores / self.client_cpu_per_event
        out: dict[str, Any] = {
            "client_cpu_ms_per_event": self.client_cpu_per_event * 1000,
            "client_only_ceiling_events_per_s": client_ceiling,
            "of_client_only_ceiling": self.events_per_s / client_ceiling,
            "cpu_ceiling_events_per_s": client_ceiling,
            "processes_saves_per_transaction": self.saves_per_transaction}
        if self.server is not None:
            server = self.server.counted / self.events
            out |= {"server_cpu_ms_per_event": server * 1000,
                    "server_backends_cpu_ms_per_event":
                        self.server.client_backends / self.events * 1000,
                    "server_background_cpu_ms_per_event":
                        self.server.background / self.events * 1000,
                    "server_backends_measured": self.server.backends,
                    "server_backends_started_in_run": self.server.started,
                    "server_backends_exited_unmeasured": self.server.exited,
                    "other_backends_cpu_s_not_counted": self.server.other_backends,
                    "cpu_ceiling_events_per_s":
                        cores / (self.client_cpu_per_event + server)}
        if self.lock is not None:
            out |= {"table_lock_held_share": self.lock.held,
                    "table_lock_waiting_mean": self.lock.waiting,
                    "table_lock_samples": self.lock.samples}
        return out


def _processes(env: dict[str, str], processes: int, threads: int, cases_each: int, *,
               server: ServerCpu | None = None, url: str | None = None,
               schema: str | None = None, target: Callable[..., None] | None = None
               ) -> ProcessRun:
    """``processes`` processes of ``threads`` clients each, started together (each warmed up
    first): their events/s and CPU per event, summed over the processes; with ``server``, the
    database's CPU in the same span (its backends live until it is read after the run); with
    ``url`` and ``schema``, how busy the events table's lock was.

    Each process is an application of its own with group commit, as ``serve --workers N``
    runs: saves coalesce within a process; across processes they queue for the events
    table's lock (see docs/performance.md, figure 2)."""
    context = multiprocessing.get_context("spawn")  # no connection pool crosses a fork
    ready, go, release = context.Barrier(processes + 1), context.Event(), context.Event()
    results = context.Queue()
    workers = [context.Process(target=target or _client_process,
                               args=(env, k, threads, cases_each, ready, go, release, results))
               for k in range(processes)]
    for worker in workers:
        worker.start()
    pids = [w.pid for w in workers if w.pid is not None]
    sampler = LockSampler(url, schema) if url and schema else None
    try:
        try:
            ready.wait(timeout=300)
        except threading.BrokenBarrierError:
            raise RuntimeError(f"a client process failed: {results.get(timeout=30)}") from None
        before = server.snapshot(pids) if server else None
        with sampler or nullcontext():
            go.set()
            reports = [results.get(timeout=1800) for _ in workers]
        after = server.snapshot(pids) if server else None
    finally:
        release.set()
        for worker in workers:
            worker.join(timeout=30)
            if worker.is_alive():
                worker.kill()
    errors = [r for r in reports if isinstance(r, str)]
    if errors:
        raise RuntimeError(f"a client process failed: {errors[0]}")
    events = sum(r[0] for r in reports)
    started, ended = min(r[2] for r in reports), max(r[3] for r in reports)
    return ProcessRun(events, events / (ended - started), sum(r[1] for r in reports) / events,
                      sum(r[4] for r in reports) / max(1, sum(r[5] for r in reports)),
                      used(before, after) if before and after else None,
                      sampler.between(started, ended) if sampler else None)


def _client_process(env: dict[str, str], k: int, threads: int, cases_each: int, ready: Any,
                    go: Any, release: Any, results: Any) -> None:
    """One process: its own application (group commit on), warmed up, then ``threads``
    clients of ``cases_each`` lifecycles from the common start; reports (events, CPU s,
    started, ended, saves, transactions) or an error, and keeps its connections until
    released."""
    try:
        settings = replace(Settings.from_env(env), group_commit=True)
        app = build_application(settings, clock=ManualClock(NOW - timedelta(days=90)))
    except BaseException as error:  # noqa: BLE001 - reported to the parent
        ready.abort()
        results.put(f"{type(error).__name__}: {error}")
        return
    try:
        lifecycle(app, -1 - k)
        ready.wait(timeout=300)
        go.wait(timeout=300)
        cpu, started = time.process_time(), time.monotonic()
        recorder = app.events.recorder
        assert isinstance(recorder, GroupCommitRecorder)
        saves, batches = recorder.saves, recorder.batches
        _threads(app, threads, cases_each, first=k * threads)
        results.put((threads * cases_each * 5, time.process_time() - cpu, started,
                     time.monotonic(), recorder.saves - saves, recorder.batches - batches))
        release.wait(timeout=120)  # the server's CPU is read while the backends live
    except BaseException as error:  # noqa: BLE001 - reported to the parent
        ready.abort()  # the parent does not wait for a process that failed in the warm-up
        results.put(f"{type(error).__name__}: {error}")
    finally:
        app.close()


def _threads(app: Any, clients: int, cases_each: int, *, first: int = 0) -> float:
    errors: list[BaseException] = []
    start = threading.Barrier(clients + 1)

    def client(k: int) -> None:
        start.wait()
        try:
            for n in range(cases_each):
                lifecycle(app, (first + k) * 1_000_000 + n)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for thread in threads:
        thread.start()
    start.wait()
    t0 = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return clients * cases_each * 5 / elapsed
