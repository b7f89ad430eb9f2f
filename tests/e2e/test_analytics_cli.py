"""`petition analytics …` on a demo store, on both stores: figures, index, ranking, refusals."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime, timedelta, timezone

from tests.e2e.test_cli import run

CST = timezone(timedelta(hours=8))


def _last_days(days: int) -> str:
    """A range period over the demo's days (the demo draws cases back from now)."""
    today = datetime.now(CST).date()
    return f"{today - timedelta(days=days)}..{today}"


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
    assert "建议征集" in table and "suggestion_responded" in table  # 三项建议权, from events


def test_bad_period_and_unit_exit_3_with_one_line(settings):
    for args in (["--period", "2026-13"], ["--period", "2026-10", "--unit", "NOPE"]):
        done = run(settings, "analytics", "indicators", *args, expect=3)
        assert done.stderr.count("\n") == 1


def test_report_writes_html_csv_and_pdf_when_chromium_is_there(settings, tmp_path):
    run(settings, "demo", "--cases", "60", "--days", "40", "--seed", "4", "--json")
    out = tmp_path / "bulletin"
    month = _last_days(45)
    run(settings, "report", "--period", month, "--unit", "QH", "--out", str(out))
    names = {p.name for p in out.iterdir()}
    assert {"bulletin.html", "indicators.csv", "index_breakdown.csv", "hotspots.csv",
            "overdue.csv", "ranking_streets.csv", "ranking_districts.csv"} <= names
    page = (out / "bulletin.html").read_text(encoding="utf-8")
    assert "信访工作通报" in page and "<script" not in page and "建议征集" in page
    with (out / "indicators.csv").open(encoding="utf-8-sig") as handle:
        rows = {row["name"]: row for row in csv.DictReader(handle)}
    assert int(rows["received"]["numerator"]) > 0
    assert ("bulletin.pdf" in names) == bool(shutil.which("chromium"))
    assert run(settings, "report", "--period", month, "--unit", "NOPE", "--out", str(out),
               expect=3).stderr.count("\n") == 1


def test_hotspots_geojson_and_similar_from_the_cli(settings, tmp_path):
    run(settings, "demo", "--cases", "80", "--days", "30", "--seed", "9", "--json")
    month = _last_days(35)
    geo = tmp_path / "hot.geojson"
    found = json.loads(run(settings, "analytics", "hotspots", "--period", month,
                           "--geojson", str(geo), "--json").stdout)
    assert found["items"] and "Poisson" in found["rule"]
    features = json.loads(geo.read_text(encoding="utf-8"))
    assert features["type"] == "FeatureCollection"
    assert len(features["features"]) == len(found["items"])
    clusters_geo = tmp_path / "clusters.geojson"
    clusters = json.loads(run(settings, "analytics", "clusters", "--period", month,
                              "--radius-m", "3000", "--geojson", str(clusters_geo),
                              "--json").stdout)
    assert clusters["items"] and "3000 m" in clusters["rule"]
    assert all(i["count"] >= 2 for i in clusters["items"])
    assert len(json.loads(clusters_geo.read_text(encoding="utf-8"))["features"]) == len(
        clusters["items"])
    assert run(settings, "analytics", "clusters", "--period", month, "--radius-m", "1",
               expect=2).stderr
    similar = json.loads(run(settings, "analytics", "similar", "物业公司长期不维修电梯",
                             "--json").stdout)
    assert similar and all(item["answer"] for item in similar)
