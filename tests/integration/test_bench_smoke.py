"""The whole benchmark suite runs end to end on tiny sizes, so its code cannot rot (the real
sizes are run by hand: ``python -m bench``; see docs/performance.md)."""

from __future__ import annotations

import json

import pytest

from bench.__main__ import main
from tests.conftest import PG_URL, require_postgres


def test_bench_smoke_prints_every_figure_and_writes_json(tmp_path, capsys):
    require_postgres()
    out = tmp_path / "latest.json"
    figures = main(["--url", PG_URL, "--smoke", "--only", "1,2,3,4,5,6,7,8,9,10,11",
                    "--out", str(out)])
    assert sorted({f.number for f in figures}) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert all(f.ratio is not None and f.ratio > 0 for f in figures)
    assert "analysis_facts_events_per_s" in next(f for f in figures if f.number == 3).detail
    concurrent = next(f for f in figures if f.number == 2).detail  # both ceilings, side by side
    assert concurrent["cpu_ceiling_events_per_s"] <= concurrent["client_only_ceiling_events_per_s"]
    document = json.loads(out.read_text())
    assert document["smoke"] is True and len(document["figures"]) == len(figures)
    printed = capsys.readouterr().out
    assert "200 open" in printed and "400 open" in printed and "ratio" in printed
    assert "Analytics query latency" in printed and "400 cases" in printed  # figure 11
    assert "if the database used no CPU at all" in printed  # figure 2's client-only ceiling


@pytest.mark.timeout(900)  # five server starts (each imports the app; ~30 s on the loaded machine)
def test_load_test_and_follow_page_smoke(tmp_path, capsys):
    """Figures 12-13 (``--only 12,13``): locust against ``serve --workers 1`` and ``2`` on two
    generated stores, with every route answering and nothing failing, then the follow page."""
    require_postgres()
    out = tmp_path / "latest.json"
    figures = main(["--url", PG_URL, "--smoke", "--only", "12,13", "--out", str(out)])
    assert [f.number for f in figures] == [12, 12, 13]
    assert all(f.ratio is not None and f.ratio > 0 for f in figures)
    assert figures[0].detail["errors"] == 0
    assert "cpu_ceiling_ratio" in figures[1].detail
    runs = json.loads(out.read_text())["load_test"]
    assert [(r["cases"], r["workers"]) for r in runs] == [(100, 1), (100, 2), (200, 1), (200, 2)]
    assert all(r["routes"]["Aggregated"]["requests"] > 0 for r in runs)
    printed = capsys.readouterr().out
    assert "POST /status" in printed and "allow at most" in printed
    # where the CPU went, by process class, PostgreSQL's backends included (bench/cpu_split.py)
    assert all(r["cpu_s"]["api"] > 0 and r["cpu_s"]["pg backends (api)"] > 0 and
               r["cpu_s"]["locust"] > 0 for r in runs)
    assert 0 < figures[1].detail["cpu_bound_ratio"] <= 2
    assert "2a/(a+o)" in printed
