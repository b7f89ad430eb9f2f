"""Figure 11: analytics query latency (p50/p99) on a 10k-case and a 1M-case store.

Both stores span the same three years, so a month of the large one holds 100× the cases of
the small one's. For speed the fact rows are generated directly in the analysis view's table
(INSERT … SELECT generate_series, as figure 4 does for the queue), then the roll-ups are built
by the view's documented bulk path (``AnalysisView.rebuild_rollups``: the projection's own
contribution code over every fact row). The queries are the ones the CLI and the HTTP API run
(``analysis_queries``, ``hotspots``), with their default ``with_cases=False``; engine sides
alternate between the two stores so a drift in machine speed affects both alike.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg

from adapters.index_file import load_index_formula
from adapters.org_file import load_org_chart
from adapters.persistence.views import ViewStore
from bench.common import NOW, Figure, Place
from domain.units import UnitLevel
from projections import analysis_queries as aq
from projections import runner as r
from projections.hotspots import hotspots
from projections.periods import parse_period

_ORG = load_org_chart()
STREETS = [u.id for u in _ORG if u.level is UnitLevel.STREET]
DISTRICTS = [u.id.rsplit("-", 1)[0] for u in _ORG if u.level is UnitLevel.STREET]
CATEGORIES = ["城建", "环保", "物业", "噪音", "交通", "教育", "医疗", "劳动", "民政", "治安"]
CHANNELS = ["letter", "visit", "online", "phone", "email", "app", "hotline", "ywtb"]
RATINGS = ["satisfied", "basically_satisfied", "unsatisfied"]
SPAN_DAYS = 3 * 365


def fill_facts(url: str, schema: str, rows: int) -> None:
    """``rows`` cases registered evenly over the three years before NOW, over every street
    (received by the street or its district), with answers, ratings, reviews, repeats, group
    petitions and a few undecided cases (1%, in the last 20 days: the open backlog),
    deterministic in the row number."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            f'INSERT INTO "{schema}".analysis_facts SELECT md5(i::text), \'closed\', '
            "CASE WHEN i %% 3 = 0 THEN d ELSE s END, d, s, (%(ch)s::text[])[1 + (i / 7) %% 8], "
            "(%(cat)s::text[])[1 + (i * 13) %% 10], CASE WHEN i %% 50 = 0 THEN 4 ELSE 0 END, "
            "'K' || (i %% greatest(1, %(n)s / 3)), reg, reg + interval '15 days', "
            "36.6 + (i %% 97) / 1000.0, 117.0 + (i %% 89) / 1000.0, "
            "CASE WHEN open THEN NULL ELSE reg + (i %% 20) * interval '1 day' END, "
            "CASE WHEN open THEN NULL WHEN i %% 20 = 0 THEN 0 ELSE 1 END, "
            "ans, CASE WHEN ans IS NULL THEN NULL ELSE reg + interval '75 days' END, "
            "CASE WHEN ans IS NULL THEN NULL ELSE s END, CASE WHEN ans IS NULL THEN NULL ELSE s END, "
            "(i %% 17 = 0)::int, (i %% 31 = 0)::int, 0, (i %% 23 = 0)::int, 0, "
            "rate, rate, rate, rated, rate, rate, rate, rated, CASE WHEN rated IS NULL THEN NULL "
            "ELSE s END, CASE WHEN rated IS NULL THEN NULL WHEN i %% 5 = 0 THEN 'negative' "
            "ELSE 'positive' END, "
            "CASE WHEN i %% 40 = 0 AND ans IS NOT NULL THEN ans + interval '10 days' END, "
            "CASE WHEN i %% 40 = 0 AND ans IS NOT NULL THEN "
            "(CASE WHEN i %% 80 = 0 THEN 'revised' ELSE 'upheld' END) END, NULL, NULL, "
            "ans + interval '30 days', (i %% 60 = 0)::int, 0, (i %% 70 = 0)::int, "
            "(i %% 140 = 0)::int, CASE WHEN i %% 100 = 0 THEN reg + interval '2 days' END, "
            "(i %% 9 = 0)::int, i "
            "FROM (SELECT i, (%(s)s::text[])[1 + i %% %(ns)s] AS s, "
            "(%(d)s::text[])[1 + i %% %(ns)s] AS d, reg, open, "
            "CASE WHEN open OR i %% 20 = 0 THEN NULL ELSE reg + ((i::bigint * 7919) %% 90) "
            "* interval '1 day' + (i %% 86400) * interval '1 second' END AS ans, "
            "CASE WHEN i %% 2 = 1 OR open OR i %% 20 = 0 THEN NULL "
            "ELSE (%(r)s::text[])[1 + (i / 2) %% 3] END AS rate, "
            "CASE WHEN i %% 2 = 1 OR open OR i %% 20 = 0 THEN NULL ELSE reg + "
            "((i::bigint * 7919) %% 90 + 3) * interval '1 day' END AS rated "
            "FROM (SELECT i, %(start)s + (i::float8 / %(n)s * %(span)s) * interval '1 day' "
            "AS reg, (i %% 97 = 0 AND i::float8 / %(n)s * %(span)s > %(span)s - 20) AS open "
            "FROM generate_series(1, %(n)s) AS i) AS g) AS cases",
            {"ch": CHANNELS, "cat": CATEGORIES, "n": rows, "s": STREETS, "d": DISTRICTS,
             "ns": len(STREETS), "r": RATINGS, "start": NOW - timedelta(days=SPAN_DAYS),
             "span": SPAN_DAYS})
        conn.execute(f'VACUUM ANALYZE "{schema}".analysis_facts')


def prepare(place: Place, rows: int) -> tuple[Any, float]:
    """The store with ``rows`` fact rows and their roll-ups; the seconds the roll-ups took."""
    app = place.app()
    view = r.analysis_facts(ViewStore.beside(app))
    fill_facts(place.run.url, place.schema or "public", rows)
    started = time.perf_counter()
    view.rebuild_rollups()
    built = time.perf_counter() - started
    with psycopg.connect(place.run.url, autocommit=True) as conn:
        for table in ("analysis_rollup", "analysis_rollup_days"):
            conn.execute(f'VACUUM ANALYZE "{place.schema}".{table}')
    return app, built


def queries(app: Any) -> dict[str, Callable[[], Any]]:
    view = r.analysis_facts(ViewStore.beside(app))
    formula = load_index_formula()
    month, week, year = parse_period("2026-03"), parse_period("2026-W10"), parse_period("2025")
    street, district = STREETS[0], DISTRICTS[0]
    return {
        "indicators, city, month": lambda: aq.indicators(app.org, view, month, None, NOW),
        "indicators, street, month": lambda: aq.indicators(app.org, view, month, street, NOW),
        "indicators, city, year": lambda: aq.indicators(app.org, view, year, None, NOW),
        "index, district, month": lambda: aq.index(app.org, formula, view, month, district, NOW),
        "ranking of streets, month": lambda: aq.ranking(app.org, formula, view, month,
                                                        UnitLevel.STREET, None, NOW),
        "hotspots, district, week": lambda: hotspots(app.org, view, week, district),
    }


def measure(places: dict[int, Place], count: int) -> tuple[dict[int, dict[str, tuple[float, float]]],
                                                            dict[int, float]]:
    """p50/p99 (ms) of each query at each size, sizes alternating query by query."""
    apps, built = {}, {}
    try:
        for size, place in places.items():
            apps[size], built[size] = prepare(place, size)
        runs = {size: queries(app) for size, app in apps.items()}
        samples: dict[int, dict[str, list[float]]] = {s: {q: [] for q in runs[s]} for s in runs}
        for size in runs:
            for run in runs[size].values():
                run()  # warm up
        for _ in range(count):
            for name in next(iter(runs.values())):
                for size in runs:
                    t0 = time.perf_counter()
                    runs[size][name]()
                    samples[size][name].append((time.perf_counter() - t0) * 1000)
        out = {}
        for size, by_query in samples.items():
            out[size] = {}
            for name, values in by_query.items():
                values.sort()
                out[size][name] = (statistics.median(values),
                                   values[max(0, int(len(values) * 0.99) - 1)])
        return out, built
    finally:
        for app in apps.values():
            app.close()


def figure(results: dict[int, dict[str, tuple[float, float]]], built: dict[int, float]) -> Figure:
    small, large = min(results), max(results)
    ratios = {q: results[large][q][1] / results[small][q][1] for q in results[large]}
    worst = max(ratios, key=lambda q: ratios[q])
    return Figure(11, f"analytics query p99 at {large:,} cases, worst query ({worst})",
                  results[large][worst][1], "ms", f"p99 at {small:,} cases",
                  results[small][worst][1], "≤ 2×", ratios[worst] <= 2,
                  detail={"facts_built_directly_in_view_table": True,
                          "rollups_built_by": "AnalysisView.rebuild_rollups",
                          "rollup_build_s": {f"{s}": v for s, v in built.items()},
                          "query_ratios": ratios,
                          "latency_ms_p50_p99": {f"{s}": v for s, v in results.items()}})
