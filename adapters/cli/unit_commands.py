"""`petition units …`: the organisation chart and each unit's performance."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adapters.cli.case_commands import open_app
from adapters.cli.file_loading import RESTART, load_file
from adapters.cli.output import console, print_json, print_table
from adapters.cli.root import root
from adapters.org_file import load_org_chart
from projections import queries
from projections import runner as r
from projections.unit_stats import unit_stats
from workflows.application import PetitionApplication
from workflows.case_summary import plain

units = typer.Typer(help="The organisation chart and per-unit supervision figures.",
                    no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json")]


def register(app: typer.Typer) -> None:
    app.add_typer(units, name="units")
    app.command("unsatisfied")(unsatisfied)


@units.command("load")
def load(file: Annotated[Path, typer.Argument(help="CSV or JSON rows: id, name, level, parent.")]
         ) -> None:
    """Validate an organisation chart and put it in force (recorded as an event)."""
    load_file(file, load_org_chart, PetitionApplication.load_units,
              lambda chart: f"loaded {len(chart)} units")
    console.print(RESTART)


@units.command("list")
def list_units(as_json: JsonOpt = False) -> None:
    """Every unit with its level and parent."""
    rows = [{"id": u.id, "name": u.name, "level": u.level.value, "parent": u.parent}
            for u in open_app().org]
    print_json(rows) if as_json else print_table("units", ("id", "name", "level", "parent"),
                                                 [list(x.values()) for x in rows])


@units.command("stats")
def stats(jurisdiction: Annotated[str | None, typer.Option(help="A unit and all below it.")] = None,
          as_json: JsonOpt = False) -> None:
    """Per unit: open cases, overdue, on-time answer rate, measures received, unsatisfied."""
    application = open_app()
    for name in ("case_view", "audit_trail"):
        r.catch_up(application, root().views, name)
    scope = application.org.subtree(jurisdiction) if jurisdiction else None
    rows = unit_stats(r.case_view(root().views), r.audit_trail(root().views),
                      application.clock.now(), scope)
    if as_json:
        print_json(rows)
        return
    columns = ("unit", "open", "overdue", "answered", "on_time_rate", "measures",
               "escalated_away", "unsatisfied")
    print_table("units", columns, ([row[c] for c in columns] for row in rows))


def unsatisfied(jurisdiction: Annotated[str | None, typer.Option()] = None,
                limit: int = 100, as_json: JsonOpt = False) -> None:
    """Cases rated unsatisfied that await a supervisor's reopen or confirm-answer."""
    application = open_app()
    r.catch_up(application, root().views, "case_view")
    rows, _ = queries.unsatisfied(application.org, r.case_view(root().views),
                                  jurisdiction=jurisdiction, limit=limit)
    out = [{k: plain(row[k]) for k in ("case_id", "status", "responsible_unit", "answered_by",
                                       "rating_attitude", "rating_efficiency", "rating_quality")}
           for row in rows]
    if as_json:
        print_json(out)
        return
    print_table("unsatisfied, awaiting a supervisor", list(out[0]) if out else ["case_id"],
                [list(x.values()) for x in out])
