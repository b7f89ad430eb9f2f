"""The benchmark suite: every figure next to a baseline measured in the same run (issue 7).

    python -m bench                 # the whole table, ~10-15 min on the 2-core machine
    python -m bench --smoke         # tiny sizes, < 60 s (run in CI by tests/integration)
    python -m bench --only 1,4      # some figures only

Figures: (1) single-client command throughput vs bare eventsourcing (SQLite and PostgreSQL),
with raw single-row and batched INSERTs alongside; (2) 8 concurrent clients in one process per
core, each an application with group commit, vs the CPU ceiling of their own CPU per event
(8 threads of one process beside it); (3) projection catch-up vs raw batched INSERT; (4) overdue
query p50/p99 at 10k and 1M open cases (rows built directly in the view table); (5) loading a
1,000-event case from snapshots vs bare replay; (6) peak RSS of ``petition serve``; (7)
precision@5 of similar-case search on families of near-duplicate petitions; (8) Kafka relay
throughput vs a bare kafka-python producer and (9) commit → subscriber latency p99 vs bare
produce → consume, on a Tansu broker started for the run; (10) every view rebuilt from
1M events (``--only 10``; ~15 min on the loaded 2-core machine) vs raw batched INSERT; (11)
analytics query p99 on a 1M-case store vs a 10k one (fact rows built directly, roll-ups by the
view's bulk path); (12) a locust load test of ``serve --workers 1`` and ``2`` on 10k- and
1M-case stores (p99 at 1M vs 10k, 2 workers vs 1) and (13) the citizen's follow page p95 at 1M
vs 10k, on the same stores (``--only 12,13``; the stores are generated in tables, see
bench/load_store.py; ~45 min at 1M on the loaded machine). Prints the
table and writes it as JSON (bench/results/latest.json unless --out). See docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench import analytics, kafka_relay, load_test, memory, queue, rebuild, replay, similar
from bench import catch_up as cu
from bench import commands as cmd
from bench.common import Figure, Run, postgres_url

FULL = {"cases": 300, "clients": 8, "cases_each": 25, "events": 100_000,
        "sizes": "10000,1000000", "queries": 200, "replay_events": 1000, "rss_queries": 200, "per_family": 8,
        "kafka_events": 5000, "latency_events": 300, "rebuild_events": 1_000_000,
        "analytics_sizes": "10000,1000000", "analytics_queries": 100,
        "load_sizes": "10000,1000000", "templates": 500, "users": 24, "load_seconds": 60,
        "follow_samples": 300}
SMOKE = {"cases": 3, "clients": 2, "cases_each": 2, "events": 200, "sizes": "200,400",
         "queries": 5, "replay_events": 60, "rss_queries": 4, "per_family": 2,
         "kafka_events": 30, "latency_events": 10, "rebuild_events": 300,
         "analytics_sizes": "200,400", "analytics_queries": 3,
         "load_sizes": "100,200", "templates": 10, "users": 6, "load_seconds": 5,
         "follow_samples": 10}
DEFAULT_OUT = Path(__file__).parent / "results" / "latest.json"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--url", default=postgres_url(),
                        help="PostgreSQL (default: PETITION_TEST_POSTGRES, as the tests)")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, for CI")
    parser.add_argument("--only", default="1,2,3,4,5,6,7,8,9,10,11,12,13",
                        help="figures to run, e.g. 1,4")
    parser.add_argument("--sizes", help="open cases for figure 4, e.g. 10000,1000000")
    parser.add_argument("--queries", type=int, help="queries per latency figure")
    parser.add_argument("--events", type=int, help="events for the catch-up figure")
    parser.add_argument("--rebuild-events", type=int, help="events for the rebuild figure")
    parser.add_argument("--analytics-sizes", help="cases for figure 11, e.g. 10000,1000000")
    parser.add_argument("--load-sizes", help="cases of figures 12-13's stores, e.g. 10000,1000000")
    parser.add_argument("--load-seconds", type=int, help="how long each locust run lasts")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the JSON file to write")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> list[Figure]:
    args = parse(argv)
    size = dict(SMOKE if args.smoke else FULL)
    size.update({k: v for k, v in (("sizes", args.sizes), ("queries", args.queries),
                                   ("events", args.events), ("rebuild_events", args.rebuild_events),
                                   ("analytics_sizes", args.analytics_sizes),
                                   ("load_sizes", args.load_sizes),
                                   ("load_seconds", args.load_seconds))
                 if v is not None})
    only = {int(n) for n in args.only.split(",")}
    console = Console()
    figures: list[Figure] = []
    queue_results: dict[int, dict[str, tuple[float, float]]] = {}
    analytics_results: dict[int, dict[str, tuple[float, float]]] = {}
    load_results: list[load_test.Result] = []
    run = Run(args.url)
    started = time.perf_counter()
    try:
        with _progress(console) as progress:
            if only & {1, 2}:
                task = progress.add_task("1. single-client commands", total=6)
                tick = lambda: progress.advance(task)  # noqa: E731
                pg = cmd.single_client(run, "postgres", size["cases"], tick)
                figures += [pg, cmd.single_client(run, "sqlite", size["cases"], tick)]
                if 2 in only:
                    task = progress.add_task("2. concurrent clients", total=2)
                    figures.append(cmd.concurrent_clients(
                        run, size["clients"], size["cases_each"], pg.baseline_value,
                        lambda: progress.advance(task)))
            if 3 in only:
                task = progress.add_task("3. recording, then catching up", total=size["events"])
                figures.append(cu.catch_up(run, size["events"],
                                           lambda n: progress.advance(task, n)))
            if only & {4, 6}:
                sizes = [int(s) for s in size["sizes"].split(",")]
                task = progress.add_task("4. overdue queue", total=len(sizes))
                places = {}
                for rows in sizes:
                    places[rows] = run.place("postgres", f"queue{rows}")
                    queue_results[rows] = queue.measure(places[rows], rows, size["queries"])
                    progress.advance(task)
                figures.append(queue.figure(queue_results))
                if 6 in only:
                    task = progress.add_task("6. petition serve RSS", total=2)
                    largest = places[max(sizes)]
                    memory.prepare(largest)
                    progress.advance(task)
                    figures.append(memory.serve_rss(largest, size["rss_queries"]))
                    progress.advance(task)
            if 5 in only:
                task = progress.add_task("5. replay of a long case", total=1)
                figures.append(replay.replay(run, size["replay_events"], 20 if args.smoke else 50))
                progress.advance(task)
            if 7 in only:
                task = progress.add_task("7. similar cases", total=2)
                figures.append(similar.precision_at_5(run, size["per_family"],
                                                      lambda: progress.advance(task)))
            if only & {8, 9}:
                task = progress.add_task("8–9. Kafka relay and latency", total=3)
                figures += [f for f in kafka_relay.figures(
                    run, size["kafka_events"], size["latency_events"],
                    lambda: progress.advance(task)) if f.number in only]
            if 10 in only:
                task = progress.add_task("10. rebuild of every view", total=4)
                figures.append(rebuild.rebuild_all(run, size["rebuild_events"],
                                                   lambda n: progress.advance(task, n)))
            if 11 in only:
                task = progress.add_task("11. analytics queries", total=1)
                sizes = [int(s) for s in size["analytics_sizes"].split(",")]
                analytics_results, built = analytics.measure(
                    {n: run.place("postgres", f"facts{n}") for n in sizes},
                    size["analytics_queries"])
                figures.append(analytics.figure(analytics_results, built))
                progress.advance(task)
            if only & {12, 13}:
                sizes = [int(s) for s in size["load_sizes"].split(",")]
                task = progress.add_task("12–13. load test and follow page", total=3 * len(sizes))
                found, load_results = load_test.figures(
                    run, sizes, size["templates"], size["users"], size["load_seconds"],
                    size["follow_samples"], lambda: progress.advance(task))
                figures += [f for f in found if f.number in only]
    finally:
        run.close()
    figures.sort(key=lambda f: f.number)
    elapsed = time.perf_counter() - started
    console.print(table(figures))
    for line in regime(figures):
        console.print(line)
    if queue_results:
        console.print(latency_table(queue_results, size["queries"]))
    if analytics_results:
        console.print(latency_table(analytics_results, size["analytics_queries"],
                                    title="Analytics query latency", rows="cases"))
    if load_results:
        console.print(route_table(load_results))
        console.print(cpu_table(load_results))
    write(args.out, figures, queue_results, elapsed, smoke=args.smoke,
          load=[r.as_dict() for r in load_results])
    console.print(f"{len(figures)} figures in {elapsed:.0f} s; written to {args.out}")
    return figures


@contextmanager
def _progress(console: Console) -> Iterator[Progress]:
    with Progress(TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                  TimeElapsedColumn(), console=console, transient=False) as progress:
        yield progress


def table(figures: list[Figure]) -> Table:
    out = Table(title="Benchmark: each figure against its baseline from the same run")
    for column in ("#", "figure", "value", "baseline", "baseline value", "ratio", "target",
                   "met"):
        out.add_column(column)
    for f in figures:
        out.add_row(str(f.number), f.name, f"{f.value:,.2f} {f.unit}", f.baseline,
                    f"{f.baseline_value:,.2f} {f.unit}",
                    f"{f.ratio:.2f}×" if f.ratio is not None else "-", f.target,
                    {True: "yes", False: "NO", None: "-"}[f.met])
    return out


def regime(figures: list[Figure]) -> list[str]:
    """What bounds the command figures in this run: the cost of a commit, or the CPU."""
    lines = []
    for f in figures:
        if f.number == 1 and "raw_single_insert_rows_per_s" in f.detail:
            per_commit = 1000 / f.detail["raw_single_insert_rows_per_s"]
            lines.append(f"{f.name}: a single-row INSERT transaction took {per_commit:.2f} ms "
                         "in this run")
        if f.number == 1 and "cpu_ratio" in f.detail:
            d = f.detail
            lines.append(f"{f.name}: CPU per event {d['engine_cpu_us_per_event']:.0f} µs, bare "
                         f"{d['bare_cpu_us_per_event']:.0f} µs: {d['cpu_ratio']:.2f}× by CPU")
        if f.number == 8 and "cpu_ratio" in f.detail:
            d = f.detail
            lines.append(f"figure 8: CPU per event {d['relay_cpu_us_per_event']:.0f} µs, bare "
                         f"producer {d['bare_cpu_us_per_event']:.0f} µs: {d['cpu_ratio']:.2f}× "
                         "by CPU")
        if f.number == 2 and "cpu_ceiling_ratio" in f.detail:
            lines += _figure_2_regime(f)
        if f.number == 12 and "cpu_ceiling_ratio" in f.detail:
            d = f.detail
            lines.append(
                f"figure 12: with 1 worker the service used {d['server_cpu_ms_per_request']:.2f} ms "
                f"and locust {d['locust_cpu_ms_per_request']:.2f} ms of CPU per request, so this "
                f"machine's {os.cpu_count()} cores allow at most "
                f"{d['cpu_ceiling_requests_per_s']:,.0f} requests/s ({d['cpu_ceiling_ratio']:.2f}× "
                "1 worker) even if PostgreSQL used no CPU at all; 2 workers vs 1 on the small "
                f"store: {d['small_store_ratio']:.2f}×")
            if d.get("cpu_bound_ratio"):
                split = d["cpu_ms_per_request"]
                lines.append(
                    f"figure 12: its API process spent {split['api']:.2f} ms per request and "
                    f"everything else {sum(split.values()) - split['api']:.2f} ms (PostgreSQL "
                    f"{split['pg backends (api)'] + split['pg backends (views worker)']:.2f}, "
                    f"views worker {split['views worker']:.2f}, locust {split['locust']:.2f}): "
                    f"a 1-worker run bound by its API process's core allows 2 workers on "
                    f"{os.cpu_count()} cores at most {d['cpu_bound_ratio']:.2f}× it (2a/(a+o))")
    return lines


def _figure_2_regime(f: Figure) -> list[str]:
    """Both of figure 2's ceilings (the clients' alone, and with the database's CPU), what the
    events table's lock did, and the threads of one process beside them."""
    d = f.detail
    lines = [
        f"figure 2: the client processes' own CPU was {d['client_cpu_ms_per_event']:.2f} ms per "
        f"event: the cores allow {d['client_only_ceiling_events_per_s']:,.0f} events/s if the "
        f"database used no CPU at all; they reached {f.value:,.0f} events/s, "
        f"{d['of_client_only_ceiling']:.2f} of that, {d['vs_bare_single']:.2f}× the bare single "
        f"client ({d['bare_single_events_per_s']:,.0f} events/s)"]
    if "server_cpu_ms_per_event" in d:
        lines.append(
            f"figure 2: PostgreSQL, on the same cores, used {d['server_cpu_ms_per_event']:.2f} ms "
            f"per event ({d['server_backends_cpu_ms_per_event']:.2f} in the clients' "
            f"{d['server_backends_measured']} backends, {d['server_background_cpu_ms_per_event']:.2f}"
            f" in its own processes; {d['server_backends_exited_unmeasured']} backends exited "
            f"unmeasured): the system's ceiling is {d['cpu_ceiling_events_per_s']:,.0f} events/s "
            f"and the figure {f.ratio:.2f} of it")
    else:
        lines.append("figure 2: PostgreSQL's processes could not be read from here (another "
                     "machine?): the ceiling is the clients' alone")
    if "table_lock_held_share" in d:
        lines.append(
            f"figure 2: the events table's write lock was held in {d['table_lock_held_share']:.0%}"
            f" of {d['table_lock_samples']} samples, {d['table_lock_waiting_mean']:.2f} "
            "transactions waiting for it on average; each process's group commit wrote "
            f"{d['processes_saves_per_transaction']:.2f} saves per transaction")
    lines.append(
        f"figure 2: as threads of one process (as before): {d['threads_events_per_s']:,.0f} "
        f"events/s with group commit, {d['threads_of_ceiling']:.2f} of their own ceiling; "
        f"{d['threads_without_group_commit_events_per_s']:,.0f} without")
    return lines


def latency_table(results: dict[int, dict[str, tuple[float, float]]], queries: int, *,
                  title: str = "Supervision-queue query latency", rows: str = "open") -> Table:
    out = Table(title=f"{title}, ms (p50 / p99 of {queries}); "
                      "the ratio is p99 at the largest size over p99 at the smallest")
    out.add_column("query")
    for size in results:
        out.add_column(f"{size:,} {rows}")
    out.add_column("p99 ratio")
    small, large = min(results), max(results)
    for name in next(iter(results.values())):
        out.add_row(name, *(f"{results[s][name][0]:.2f} / {results[s][name][1]:.2f}"
                            for s in results),
                    f"{results[large][name][1] / results[small][name][1]:.2f}")
    return out


def route_table(results: list[load_test.Result]) -> Table:
    out = Table(title="Load test (figure 12), per route: requests, failures, "
                      "p50 / p95 / p99 ms, by store size and API workers")
    out.add_column("route")
    for r in results:
        out.add_column(f"{r.cases:,} cases, {r.workers} worker{'s' if r.workers > 1 else ''}")
    names = sorted({name for r in results for name in r.routes}, key=lambda n: (n == "Aggregated", n))
    for name in names:
        cells = []
        for r in results:
            row = r.routes.get(name)
            cells.append(f"{row['requests']:.0f} ({row['failures']:.0f}) "
                         f"{row['p50']:.0f} / {row['p95']:.0f} / {row['p99']:.0f}"
                         if row else "-")
        out.add_row(name, *cells)
    out.add_row("requests/s", *(f"{r.throughput:.1f}" for r in results))
    return out


def cpu_table(results: list[load_test.Result]) -> Table:
    """Figure 12's CPU per request by class of process (bench/cpu_split.py): the 1-worker run
    is bound by its API process's core, so ``2a / (a + o)`` bounds 2 workers against 1."""
    out = Table(title="Load test (figure 12): CPU ms per request by process class "
                      "(2a/(a+o) bounds 2 workers vs 1; a = api, o = the rest)")
    out.add_column("class")
    for r in results:
        out.add_column(f"{r.cases:,} cases, {r.workers} worker{'s' if r.workers > 1 else ''}")
    for kind in dict.fromkeys(k for r in results for k in r.cpu):
        out.add_row(kind, *(f"{r.cpu_per_request().get(kind, 0.0):.2f}" for r in results))
    out.add_row("all", *(f"{sum(r.cpu_per_request().values()):.2f}" for r in results))
    out.add_row("2a/(a+o)", *(f"{r.bound():.2f}×" for r in results))
    # the bound assumes the 1-worker run kept its API process's core busy: how busy it was
    out.add_row("API processes' cores used (a × requests/s)",
                *(f"{r.cpu_per_request().get('api', 0.0) * r.throughput / 1000:.2f}"
                  for r in results))
    out.add_row("requests/s", *(f"{r.throughput:.1f}" for r in results))
    out.add_row("load average (1 min) after", *(f"{r.load[0]:.2f}" for r in results))
    out.add_row("warm-up before the run, s (until /readyz 200)",
                *(f"{r.warm_s:.1f}" for r in results))
    return out


def write(path: Path, figures: list[Figure], latencies: dict[int, Any], elapsed: float, *,
          smoke: bool, load: list[dict[str, Any]] | None = None) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "smoke": smoke,
        "seconds": round(elapsed, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "figures": [f.as_dict() for f in figures],
        "queue_latency_ms": {str(k): {q: {"p50": v[0], "p99": v[1]} for q, v in rows.items()}
                             for k, rows in latencies.items()},
        "load_test": load or [],
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=str) + "\n")


if __name__ == "__main__":
    main()
