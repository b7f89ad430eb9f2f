"""A probe (not a figure, not a test): CPU of the views runner per live event on PostgreSQL.

Seeds ``--cases`` cases (registered, accepted, delegated: three events each) in bulk, catches
the four views up, starts a ``ProjectionRunner`` following live, then a writer *process*
(its own PostgreSQL sessions, named apart) supervises ``--commands`` random older cases one
by one. The probe process runs only the runner meanwhile, so its CPU over the live phase is
the runner's; its PostgreSQL backends are found by ``application_name``. ``--per-view`` runs
one runner per view instead, as ``petition worker views`` does (each under its own leader
lock), sharing what the process's root shares (``runner.Shared``). ``--profile`` runs
the runner's threads under cProfile (thread CPU time) and prints where the time goes.

    PYTHONPATH=$PWD python3 -m bench.live_views_probe --cases 3000 --commands 300
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import subprocess
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

LABEL = f"probe-views-{uuid.uuid4().hex[:6]}"
os.environ["PGAPPNAME"] = LABEL  # before any connection of this process

import psutil  # noqa: E402
import psycopg  # noqa: E402

from adapters.persistence.views import ViewStore  # noqa: E402
from bench.common import DISTRICT, NOW, STREET, Run, id_number, postgres_url  # noqa: E402
from domain.petition import Petition  # noqa: E402
from domain.values import Location, Petitioner  # noqa: E402
from projections import runner as r  # noqa: E402

WAVE = 1000


def seed(app: Any, cases: int) -> list[UUID]:
    at = NOW - timedelta(days=60)
    ids: list[UUID] = []
    for start in range(0, cases, WAVE):
        wave = [Petition.register(
            case_id=uuid.uuid4(), at=at, actor="bench", channel="letter", subject="s",
            content="c", category="k", location=Location(district=DISTRICT, street=STREET),
            petitioner=Petitioner("王小明", id_number(start + n), "13800000000"),
            co_petitioners=0, received_by=DISTRICT, proxy_agent=None, query_code_hash="h",
            org=app.org) for n in range(min(WAVE, cases - start))]
        steps = [None,
                 lambda p: p.accept(at=at, actor="intake", handling_track="claim",
                                    speed_track="general"),
                 lambda p: p.delegate(at=at, actor="dispatcher", unit=STREET, mode="assign",
                                      note="n", org=app.org)]
        for step in steps:
            batch = []
            for case in wave:
                if step is not None:
                    step(case)
                batch.extend(case.collect_events())
            app.events.put(batch)
        ids.extend(case.id for case in wave)
    return ids


def writer(env: dict[str, str], ids_file: str, commands: int, seed_value: int,
           pace: float = 0.0) -> None:
    """The writer process: supervises random cases one command at a time, like the API."""
    from adapters.settings import Settings
    from adapters.wiring import build_application
    from workflows.clock import ManualClock

    app = build_application(Settings.from_env(env), clock=ManualClock(NOW))
    ids = [UUID(line) for line in Path(ids_file).read_text().split()]
    rng = random.Random(seed_value)
    try:
        for n in range(commands):
            case = app.get_petition(rng.choice(ids))
            case.supervise(at=NOW - timedelta(days=59), actor="supervisor",
                           level="reminder", reason=f"r{n}")
            app.save(case)
            time.sleep(pace)  # the bench's writes are spread out: batches of one event
        print(app.recorder.max_notification_id())
    finally:
        app.close()


def backends(url: str) -> dict[int, float]:
    out = {}
    with psycopg.connect(url, autocommit=True) as conn:
        pids = [row[0] for row in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name = %s", (LABEL,))]
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            out[pid] = t.user + t.system
        except psutil.Error:
            pass
    return out


def thread_cpu() -> dict[str, float]:
    out: dict[str, float] = {}
    for thread in threading.enumerate():
        if thread.ident is None or thread is threading.main_thread():
            continue
        try:
            clock = time.pthread_getcpuclockid(thread.ident)
            out[f"{thread.name}#{thread.ident}"] = time.clock_gettime(clock)
        except (OSError, ProcessLookupError):
            pass
    return out


class Profiled:
    """cProfile in each runner thread (thread CPU time), merged at the end."""

    def __init__(self) -> None:
        self.profiles: list[cProfile.Profile] = []
        self.lock = threading.Lock()
        original = r.ProjectionRunner._follow

        def follow(runner: Any, name: str) -> None:
            profile = cProfile.Profile(time.thread_time)
            with self.lock:
                self.profiles.append(profile)
            profile.enable()
            try:
                original(runner, name)
            finally:
                profile.disable()

        r.ProjectionRunner._follow = follow  # type: ignore[method-assign,assignment]

    def report(self, top: int = 45) -> str:
        out = io.StringIO()
        stats = pstats.Stats(self.profiles[0], stream=out)
        for profile in self.profiles[1:]:
            stats.add(profile)
        stats.sort_stats("cumulative").print_stats(top)
        stats.sort_stats("tottime").print_stats(top)
        return out.getvalue()


def probe(cases: int, commands: int, profile: bool, pace: float, share: bool = True,
          per_view: bool = False) -> dict[str, Any]:
    url = postgres_url()
    run = Run(url)
    profiled = Profiled() if profile else None
    try:
        place = run.place("postgres", "liveviews")
        app = place.app()
        loads = {"n": 0}
        get_petition = app.get_petition

        def counted(case_id: UUID, version: int | None = None) -> Petition:
            loads["n"] += 1
            return get_petition(case_id, version=version)

        app.get_petition = counted  # type: ignore[method-assign]
        batches = {"n": 0}
        apply = r.apply

        def counted_apply(*args: Any) -> None:
            batches["n"] += 1
            apply(*args)

        r.apply = counted_apply  # type: ignore[assignment]
        t0 = time.process_time()
        ids = seed(app, cases)
        views = ViewStore.beside(app)
        for name in r.READ_MODELS:
            r.catch_up(app, views, name)
        seeded = app.recorder.max_notification_id() or 0
        print(f"seeded {len(ids)} cases, {seeded} events, {time.process_time() - t0:.1f} s CPU",
              file=sys.stderr)
        ids_file = run.tmp / "ids.txt"
        ids_file.write_text("\n".join(str(i) for i in ids))
        if per_view:  # as ``petition worker views`` runs them: one runner per view
            shared = r.Shared.of(app, views) if hasattr(r, "Shared") else None
            extra = {"shared": shared} if shared is not None else {}
            runners = [r.ProjectionRunner(app, views, [name], **extra) for name in r.READ_MODELS]
        else:
            runners = [r.ProjectionRunner(app, views)]
        runner = runners[0]
        if not share and hasattr(runner, "loads"):  # before/after in the same probe
            runner.loads = lambda case_id, version: app.get_petition(case_id, version=version)
        for each in runners:
            each.start()
        for each in runners:
            each.wait_all(seeded, timeout=60)
        time.sleep(1.0)  # subscriptions settled
        loads["n"] = batches["n"] = 0
        before_pg, before_threads = backends(url), thread_cpu()
        before = time.process_time()
        env = {**os.environ, **place.env, "PGAPPNAME": "probe-writer",
               "PYTHONPATH": os.getcwd()}
        out = subprocess.run(
            [sys.executable, "-c",
             "import sys; from bench.live_views_probe import writer; "
             "writer(dict(__import__('os').environ), sys.argv[1], int(sys.argv[2]), 7, "
             "float(sys.argv[3]))",
             str(ids_file), str(commands), str(pace)],
            env=env, check=True, capture_output=True, text=True)
        end = int(out.stdout.split()[-1])
        for each in runners:
            each.wait_all(end, timeout=120)
        cpu = time.process_time() - before
        after_pg, after_threads = backends(url), thread_cpu()
        for each in runners:
            each.stop()
        events = end - seeded
        pg = sum(after_pg[p] - before_pg.get(p, 0.0) for p in after_pg)
        per_thread = {k.split("#")[0]: round((v - before_threads.get(k, 0.0)) * 1000 / events, 3)
                      for k, v in after_threads.items()}
        result = {"shared": share, "per_view": per_view, "cases": cases, "live_events": events,
                  "batches": batches["n"],
                  "runner_cpu_ms_per_event": round(cpu * 1000 / events, 3),
                  "pg_backends_cpu_ms_per_event": round(pg * 1000 / events, 3),
                  "pg_backends": len(after_pg),
                  "case_loads_per_event": round(loads["n"] / events, 2),
                  "shared_loads_per_event": round(
                      getattr(getattr(runner, "loads", None), "shared", 0) / events, 2),
                  "thread_cpu_ms_per_event": per_thread}
        if profiled is not None:
            print(profiled.report(), file=sys.stderr)
        app.close()
        return result
    finally:
        run.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=3000)
    parser.add_argument("--commands", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-share", action="store_true", help="each view loads on its own")
    parser.add_argument("--per-view", action="store_true",
                        help="one runner per view, as `petition worker views` runs them")
    parser.add_argument("--pace", type=float, default=0.03, help="seconds between commands")
    args = parser.parse_args()
    print(json.dumps(probe(args.cases, args.commands, args.profile, args.pace,
                           not args.no_share, args.per_view), indent=1))


if __name__ == "__main__":
    main()
