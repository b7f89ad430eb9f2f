"""`petition calendar …`: the yearly holiday arrangement (放假安排) that the package lacks."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from adapters.cli.case_commands import open_app
from adapters.cli.file_loading import RESTART, load_file
from adapters.cli.output import console, print_json, print_mapping
from adapters.holidays.holiday_file import read_holiday_file
from adapters.holidays.stored_arrangement import import_arrangement, stored_arrangement
from adapters.rest_days import PACKAGE_YEARS, years_not_covered

calendar = typer.Typer(help="Statutory holidays: import the State Council's yearly arrangement.",
                       no_args_is_help=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def register(app: typer.Typer) -> None:
    app.add_typer(calendar, name="calendar")


@calendar.command("import")
def import_file(file: Annotated[Path, typer.Argument(
        help="CSV with the header date,kind,name; kind is holiday or workday.")]) -> None:
    """Record a year's holidays and 调休 working days (they win over the package and the rule)."""
    load_file(file, read_holiday_file, import_arrangement, _imported)
    console.print(RESTART)


def _imported(days: list[dict[str, Any]]) -> str:
    years = sorted({d["date"][:4] for d in days})
    off = sum(d["kind"] == "holiday" for d in days)
    return f"imported {off} days off and {len(days) - off} working days for {', '.join(years)}"


@calendar.command("status")
def status(as_json: JsonOpt = False) -> None:
    """Which years are settled (package, imported, policy file) and which are provisional."""
    application = open_app()
    rest_days = application.policy.rest_days
    record = stored_arrangement(application)
    out = {
        "package_years": f"{PACKAGE_YEARS.start}–{PACKAGE_YEARS.stop - 1}",
        "imported_years": record.years if record else [],
        "imported_from": record.source if record else None,
        "policy_file_years": sorted({d.year for d in getattr(rest_days, "policy_days", {})}),
        "calendar_years_not_covered": years_not_covered(
            rest_days, application.clock.now().astimezone(application.policy.zone).date()),
    }
    print_json(out) if as_json else print_mapping("calendar", out)
