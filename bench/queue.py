"""Figure 4: overdue-queue latency (p50/p99) at a small and a large number of open cases.

For speed the rows are generated directly in the view table (INSERT … SELECT generate_series),
not by replaying commands; the query is the one ``petition overdue`` and the HTTP API run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import psycopg

from adapters.org_file import load_org_chart
from adapters.persistence.views import ViewStore
from bench.common import NOW, Figure, Place
from projections import runner as r
from projections.supervision_queue import unit_path

UNITS = ["QH-D01", "QH-D01-S01", "QH-D01-S02", "QH-D02", "QH-D02-S01", "QH"]
_ORG = load_org_chart()


def fill_queue(url: str, schema: str, rows: int) -> None:
    """``rows`` open obligations spread over units and ±60 days around NOW (about half late)."""
    paths = [unit_path(_ORG, u) for u in UNITS]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            f'INSERT INTO "{schema}".supervision_queue SELECT md5(i::text), '
            "'answer', (%s::text[])[1 + i %% %s], (%s::text[])[1 + i %% %s], "
            "%s - interval '30 days', '2026-01-01', "
            "%s + (((i::bigint * 7919) %% 120) - 60) * interval '1 day' + (i %% 86400) * interval '1 second', "
            "'in_handling', i FROM generate_series(1, %s) AS i",
            (UNITS, len(UNITS), paths, len(paths), NOW, NOW, rows))
        conn.execute(f'VACUUM ANALYZE "{schema}".supervision_queue')


def latencies(app: Any, queries: int) -> dict[str, tuple[float, float]]:
    queue = r.supervision_queue(ViewStore.beside(app))
    cases: dict[str, Callable[[], Any]] = {
        "overdue (all)": lambda: queue.overdue(NOW, limit=50),
        "overdue by unit": lambda: queue.overdue(NOW, unit="QH-D01-S01", limit=50),
        "overdue in subtree": lambda: queue.overdue(NOW, path=unit_path(_ORG, "QH-D01"), limit=50),
        "due within 7 days": lambda: queue.due_within(NOW, 7, limit=50),
    }
    out = {}
    for name, run in cases.items():
        run()  # warm up
        samples = []
        for _ in range(queries):
            t0 = time.perf_counter()
            run()
            samples.append((time.perf_counter() - t0) * 1000)
        samples.sort()
        out[name] = (statistics.median(samples), samples[max(0, int(len(samples) * 0.99) - 1)])
    return out


def measure(place: Place, rows: int, queries: int) -> dict[str, tuple[float, float]]:
    app = place.app()
    try:
        r.supervision_queue(ViewStore.beside(app))
        fill_queue(place.run.url, place.schema or "public", rows)
        return latencies(app, queries)
    finally:
        app.close()


def figure(results: dict[int, dict[str, tuple[float, float]]]) -> Figure:
    small, large = min(results), max(results)
    p99_small, p99_large = results[small]["overdue (all)"][1], results[large]["overdue (all)"][1]
    worst = max(results[large][q][1] / results[small][q][1] for q in results[large])
    return Figure(4, f"overdue query p99 at {large:,} open (p50 {results[large]['overdue (all)'][0]:.2f})",
                  p99_large, "ms", f"p99 at {small:,} open", p99_small, "≤ 2×",
                  p99_large <= 2 * p99_small,
                  detail={"rows_built_directly_in_view_table": True,
                          "worst_query_ratio": worst,
                          "latency_ms_p50_p99": {f"{size}": v for size, v in results.items()}})
