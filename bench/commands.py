"""Figures 1 and 2: command throughput, one client and eight, against the bare baselines."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from typing import Any

from adapters.persistence.group_commit import GroupCommitRecorder
from bench import baselines as b
from bench.common import Figure, Run, lifecycle

Tick = Callable[[], None]


ROUNDS = 3


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
    """``clients`` threads, each driving its own cases, with and without group commit."""
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
    engine = rates["group_commit"]
    ratio = engine / bare_single
    # This process alone cannot go faster than its cores allow (the database needs CPU too):
    # when commits are cheap, that ceiling, not the table lock, bounds the figure.
    ceiling = (os.cpu_count() or 1) / cpu_per_event
    stats |= {"client_cpu_ms_per_event": cpu_per_event * 1000,
              "cpu_ceiling_events_per_s": ceiling, "cpu_ceiling_ratio": ceiling / bare_single}
    return Figure(2, f"{clients} concurrent clients, postgres, group commit", engine, "events/s",
                  "bare eventsourcing, 1 client", bare_single, "≥ 5×", ratio >= 5,
                  detail={"clients": clients, "events": clients * cases_each * 5,
                          "without_group_commit_events_per_s": rates["plain"], **stats})


def _threads(app: Any, clients: int, cases_each: int) -> float:
    errors: list[BaseException] = []
    start = threading.Barrier(clients + 1)

    def client(k: int) -> None:
        start.wait()
        try:
            for n in range(cases_each):
                lifecycle(app, k * 1_000_000 + n)
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
