"""`petition analytics …` on a demo store, on both stores: figures, index, ranking, refusals."""

from __future__ import annotations

import json

from tests.e2e.test_cli import run


def test_analytics_commands_on_the_demo(settings):
    run(settings, "demo", "--cases", "120", "--days", "60", "--seed", "3", "--json")
    figures = json.loads(run(settings, "analytics", "indicators", "--period",
                             "2025-01-01..2026-12-31", "--json").stdout)
    by_name = {f["name"]: f for f in figures["indicators"]}
    assert by_name["received"]["numerator"] == 120
    assert by_name["answer_on_time"]["denominator"] > 0
    assert 0 <= by_name["satisfaction"]["value"] <= 1
    district = json.loads(run(settings, "analytics", "indicators", "--period",
                              "2025-01-01..2026-12-31", "--unit", "QH-D01", "--json").stdout)
    assert 0 < {f["name"]: f for f in district["indicators"]}["received"]["numerator"] < 120
    ranking = json.loads(run(settings, "analytics", "ranking", "--period", "2025-01-01..2026-12-31",
                             "--level", "district", "--json").stdout)
    assert [row["rank"] for row in ranking["items"] if row["score"] is not None][:2] == [1, 2]
    table = run(settings, "analytics", "index", "--period", "2025-01-01..2026-12-31",
                "--unit", "QH-D01").stdout
    assert "建议征集" in table and "no data source" in table


def test_bad_period_and_unit_exit_3_with_one_line(settings):
    for args in (["--period", "2026-13"], ["--period", "2026-10", "--unit", "NOPE"]):
        done = run(settings, "analytics", "indicators", *args, expect=3)
        assert done.stderr.count("\n") == 1
