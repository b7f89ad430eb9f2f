"""`petition analytics …`: indicators, the service index and the ranking, for operators.

Like `units stats`, each command first brings the analysis view up to the log's end, so what
it prints includes every event recorded before it ran.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from adapters.cli.case_commands import open_app
from adapters.cli.instants import aware_instant
from adapters.cli.output import print_json, print_table
from adapters.index_file import configured_formula
from domain.units import UnitLevel
from projections import analysis_queries as aq
from projections import runner as r
from projections.periods import parse_period
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


def _ready(as_of: str | None) -> tuple[PetitionApplication, Any, datetime]:
    application = open_app()
    r.catch_up(application, "analysis_facts")
    moment = aware_instant(as_of) if as_of else application.clock.now()
    return application, r.analysis_facts(application), moment


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
    out = aq.index(application.org, configured_formula(), view, chosen, unit, moment)
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
    out = aq.ranking(application.org, configured_formula(), view, chosen, UnitLevel(level),
                     within, moment)
    if as_json:
        print_json(out)
        return
    columns = ("rank", "unit", "name", "score", "grade", "received", "previous_score", "change")
    print_table(f"ranking {out['period']} ({level})", columns,
                ([row[c] for c in columns] for row in out["items"]))
