"""`petition analytics …`: indicators, the service index and the ranking, for operators.

Like `units stats`, each command first brings the analysis view up to the log's end, so what
it prints includes every event recorded before it ran.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.bulletin import Table, write_bulletin
from adapters.cli.case_commands import open_app
from adapters.cli.instants import aware_instant
from adapters.cli.output import console, print_json, print_table
from adapters.cli.root import root
from adapters.index_file import configured_formula
from domain.units import UnitLevel
from projections import analysis_queries as aq
from projections import queries
from projections import runner as r
from projections.hotspots import geojson, hotspots
from projections.periods import parse_period
from projections.place_clusters import (
    MAX_RADIUS_M,
    MIN_RADIUS_M,
    RADIUS_M,
    clusters,
    geojson_clusters,
)
from workflows.application import PetitionApplication

analytics = typer.Typer(help="Indicators, the service index (服务指数) and rankings.",
                        no_args_is_help=True)
PeriodOpt = Annotated[str, typer.Option(help="2026, 2026-Q4, 2026-10, 2026-W40, 2026-10-05 or "
                                             "2026-10-01..2026-10-15 (local days).")]
UnitOpt = Annotated[str | None, typer.Option(help="A unit and all below it (default: all).")]
AsOfOpt = Annotated[str | None, typer.Option("--as-of", help="Instant for 'overdue' (ISO 8601, "
                                                             "with offset); default now.")]
JsonOpt = Annotated[bool, typer.Option("--json")]


def register(app: typer.Typer) -> None:
    app.add_typer(analytics, name="analytics")
    app.command("report")(report)


def _ready(as_of: str | None) -> tuple[PetitionApplication, Any, datetime]:
    application = open_app()
    r.catch_up(application, root().views, "analysis_facts")
    moment = aware_instant(as_of) if as_of else application.clock.now()
    return application, r.analysis_facts(root().views), moment


@analytics.command("indicators")
def indicators(period: PeriodOpt, unit: UnitOpt = None, as_of: AsOfOpt = None,
               cases: Annotated[bool, typer.Option(help="List the case ids behind each.")] = False,
               as_json: JsonOpt = False) -> None:
    """Every indicator of a unit's subtree for a period, with numerator and denominator."""
    chosen = parse_period(period)
    application, view, moment = _ready(as_of)
    out = aq.indicators(application.org, view, chosen, unit, moment, with_cases=cases)
    if as_json:
        print_json(out)
        return
    print_table(f"indicators {out['period']} {unit or 'all'}",
                ("indicator", "value", "numerator", "denominator"),
                ([f["name"], f["value"], f["numerator"], f["denominator"]]
                 for f in out["indicators"]))


@analytics.command("index")
def index(period: PeriodOpt, unit: UnitOpt = None, as_of: AsOfOpt = None,
          as_json: JsonOpt = False) -> None:
    """The service index of a unit: score, grade, and the points of every indicator."""
    chosen = parse_period(period)
    application, view, moment = _ready(as_of)
    out = aq.index(application.org, configured_formula(root().settings), view, chosen, unit, moment)
    if as_json:
        print_json(out)
        return
    rows = [[d["name"], i["indicator"], i["value"], i["numerator"], i["denominator"],
             i["points"], i["max_points"]] for d in out["dimensions"] for i in d["indicators"]]
    rows += [[d["name"], "(no data source)", None, None, None, None, d["points"]]
             for d in out["dimensions"] if not d["has_source"]]
    print_table(f"服务指数 {out['period']} {unit or 'all'}: {out['score']} {out['grade']} "
                f"(change {out['change']})",
                ("dimension", "indicator", "value", "num", "den", "points", "of"), rows)


@analytics.command("ranking")
def ranking(period: PeriodOpt,
            level: Annotated[str, typer.Option(help="street or district")] = "street",
            within: UnitOpt = None, as_of: AsOfOpt = None, as_json: JsonOpt = False) -> None:
    """Streets (or districts) ranked by the service index, with the change since last period."""
    chosen = parse_period(period)
    if level not in ("street", "district"):
        raise typer.BadParameter("level must be street or district")
    application, view, moment = _ready(as_of)
    out = aq.ranking(application.org, configured_formula(root().settings), view, chosen, UnitLevel(level),
                     within, moment)
    if as_json:
        print_json(out)
        return
    columns = ("rank", "unit", "name", "score", "grade", "received", "previous_score", "change")
    print_table(f"ranking {out['period']} ({level})", columns,
                ([row[c] for c in columns] for row in out["items"]))


@analytics.command("hotspots")
def hot(period: PeriodOpt, unit: UnitOpt = None,
        geojson_file: Annotated[Path | None, typer.Option(
            "--geojson", help="Also write the hotspots as GeoJSON to this file.")] = None,
        as_json: JsonOpt = False) -> None:
    """Cases by street × category with the trend and the rising ones flagged (rule shown)."""
    chosen = parse_period(period)
    application, view, _ = _ready(None)
    found = hotspots(application.org, view, chosen, unit)
    if geojson_file is not None:
        geojson_file.write_text(json.dumps(geojson(found), ensure_ascii=False, indent=1),
                                encoding="utf-8")
    if as_json:
        print_json(found)
        return
    columns = ("place_name", "category", "count", "previous", "trailing_mean",
               "same_period_last_year", "p_value", "rising")
    print_table(f"hotspots {found['period']} — {found['rule']}", columns,
                ([i[c] for c in columns] for i in found["items"]))


@analytics.command("clusters")
def place_clusters(period: PeriodOpt, unit: UnitOpt = None,
                   radius_m: Annotated[float, typer.Option(
                       "--radius-m", min=MIN_RADIUS_M, max=MAX_RADIUS_M,
                       help="Largest distance that links two petitions' points.")] = RADIUS_M,
                   geojson_file: Annotated[Path | None, typer.Option(
                       "--geojson", help="Also write the clusters as GeoJSON to this file.")
                   ] = None,
                   as_json: JsonOpt = False) -> None:
    """Petitions about the same place (within a radius, or the same street) and matter."""
    chosen = parse_period(period)
    application, view, _ = _ready(None)
    found = clusters(application.org, view, chosen, unit, radius_m=radius_m)
    if geojson_file is not None:
        geojson_file.write_text(json.dumps(geojson_clusters(found), ensure_ascii=False,
                                           indent=1), encoding="utf-8")
    if as_json:
        print_json(found)
        return
    columns = ("basis", "place_name", "category", "count", "centre", "extent_m", "first",
               "last")
    print_table(f"clusters {found['period']} — {found['rule']}", columns,
                ([i[c] for c in columns] for i in found["items"]))


@analytics.command("similar")
def similar(text: Annotated[str, typer.Argument(help="The new petition's text.")],
            unit: UnitOpt = None,
            limit: Annotated[int, typer.Option(min=1, max=50)] = 5,
            as_json: JsonOpt = False) -> None:
    """The answered cases most similar to a text (jieba + BM25), with their answers."""
    application = open_app()
    if unit:
        application.org.get(unit)
    units = application.org.subtree(unit) if unit else None
    found = root().similar_cases().search(text, limit=limit, units=units)
    if as_json:
        print_json(found)
        return
    columns = ("case_id", "score", "category", "subject", "answer")
    print_table("similar answered cases", columns, ([i[c] for c in columns] for i in found))


def report(period: PeriodOpt,
           unit: Annotated[str, typer.Option(help="The unit reported on, with all below it.")],
           out: Annotated[Path, typer.Option(help="The folder to write into.")] = Path("report"),
           ) -> None:
    """The monthly bulletin (通报): HTML, a CSV per table, and PDF if Chromium is installed."""
    chosen = parse_period(period)
    application, view, now = _ready(None)
    r.catch_up(application, root().views, "supervision_queue")
    org, formula = application.org, configured_formula(root().settings)
    application.org.get(unit)
    as_of = min(now, chosen.end)
    tables = [*_league(org, formula, view, chosen, unit, as_of),
              _indicator_table(aq.indicators(org, view, chosen, unit, as_of)),
              _breakdown(aq.index(org, formula, view, chosen, unit, as_of)),
              _hotspot_table(hotspots(org, view, chosen, unit)),
              _overdue(application, unit, as_of)]
    notes = [f"{org.get(unit).name} · {chosen.label} · local days {chosen.first} to "
             f"{chosen.last} (Asia/Shanghai) · figures as of {as_of.isoformat()}",
             "Every figure is numerator / denominator; `petition analytics indicators --cases` "
             "lists the cases behind it. Definitions and the index formula: docs/analytics.md."]
    written = write_bulletin(out, f"信访工作通报 {chosen.label} — {org.get(unit).name}", notes,
                             tables)
    for path in written:
        console.print(str(path))
    if not any(p.suffix == ".pdf" for p in written):
        console.print("no PDF: no headless Chromium found (the HTML prints as it is)")


def _league(org: Any, formula: Any, view: Any, period: Any, unit: str,
            as_of: datetime) -> list[Table]:
    out = []
    for level, title in ((UnitLevel.DISTRICT, "districts"), (UnitLevel.STREET, "streets")):
        ranked = aq.ranking(org, formula, view, period, level, unit, as_of)["items"]
        if ranked:
            columns = ("rank", "unit", "name", "score", "grade", "received", "previous_score",
                       "change")
            out.append(Table(f"ranking_{title}", f"服务指数 ranking of {title}", columns,
                             [[row[c] for c in columns] for row in ranked],
                             chart=("name", "score")))
    return out


def _indicator_table(found: dict[str, Any]) -> Table:
    columns = ("name", "value", "numerator", "denominator")
    return Table("indicators", "Indicators", columns,
                 [[f[c] for c in columns] for f in found["indicators"]])


def _breakdown(found: dict[str, Any]) -> Table:
    rows = [[d["name"], i["indicator"], i["value"], i["numerator"], i["denominator"],
             i["points"], i["max_points"]] for d in found["dimensions"] for i in d["indicators"]]
    rows += [[d["name"], "(no data source yet)", None, None, None, None, d["points"]]
             for d in found["dimensions"] if not d["has_source"]]
    return Table("index_breakdown", f"服务指数 {found['score']} {found['grade']} "
                 f"(previous {found['previous_score']}, change {found['change']})",
                 ("dimension", "indicator", "value", "numerator", "denominator", "points",
                  "of"), rows)


def _hotspot_table(found: dict[str, Any]) -> Table:
    columns = ("place_name", "category", "count", "previous", "trailing_mean",
               "same_period_last_year", "p_value", "rising")
    return Table("hotspots", f"Hotspots — {found['rule']}", columns,
                 [[i[c] for c in columns] for i in found["items"]],
                 chart=("category", "count"))


def _overdue(application: PetitionApplication, unit: str, as_of: datetime) -> Table:
    rows, _ = queries.overdue_with_ladder(application, r.supervision_queue(root().views), as_of,
                                          jurisdiction=unit, limit=20)
    columns = ("case_id", "kind", "unit", "expires_at", "overdue_days", "rung")
    return Table("overdue", "Longest overdue", columns, [[
        row["case_id"], row["kind"], row["unit"], row["expires_at"].isoformat(),
        round(row["overdue_by"].total_seconds() / 86400, 1),
        (row.get("ladder") or {}).get("rung")] for row in rows])
