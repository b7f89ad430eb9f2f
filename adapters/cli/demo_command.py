"""`petition demo`: load a synthetic city's petitions and print what was loaded."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from adapters.cli.case_commands import open_app
from adapters.cli.output import console, print_json, print_table
from adapters.cli.root import root
from adapters.persistence.views import ViewStore
from adapters.synthetic.demo import DemoDistrict
from projections.runner import READ_MODELS, catch_up
from workflows.application import PetitionApplication


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    cases: Annotated[int, typer.Option(min=1, max=200_000, help="How many petitions.")] = 3000,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Spread over this many days.")] = 183,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 2026,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Load a realistic synthetic data set (districts, streets, months of cases), then summarise."""
    application = open_app()
    district = DemoDistrict(application, seed=seed, now=application.clock.now(), days=days)
    with Progress(TextColumn("loading demo petitions"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, disable=as_json) as progress:
        task = progress.add_task("demo", total=cases)
        summary = district.run(cases, lambda n: progress.advance(task, n))
    build_read_models(application, root().views, quiet=as_json)
    if as_json:
        print_json({"cases": summary.cases, "events": summary.events,
                    "by_status": dict(summary.by_status), "overdue": summary.overdue,
                    "samples": summary.samples, "sample_query_code": summary.sample_query_code})
        return
    print_table("petitions by status", ("status", "cases"), sorted(summary.by_status.items()))
    print_table("petitions by district", ("district", "cases"),
                ((f"{application.org.get(d).name} ({d})", n)
                 for d, n in sorted(summary.by_district.items())))
    console.print(f"{summary.cases} cases, {summary.events} events; "
                  f"{summary.overdue} open cases are past their acceptance or answer deadline.")
    print_table("try these", ("status", "command"),
                ((status, f"petition history {case}") for status, case in
                 sorted(summary.samples.items())))
    console.print(f"a petitioner's query code (shown once, like at registration): "
                  f"{summary.sample_query_code}")
    console.print("next: `petition overdue`, `petition units stats`, or `petition serve` and "
                  "`petition token issue --role supervisor --unit QH` for the HTTP API")


def build_read_models(application: PetitionApplication, views: ViewStore, *, quiet: bool
                      ) -> None:
    """Brings every read model up to the log's end, with a progress bar per model."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, disable=quiet) as progress:
        for name in READ_MODELS:
            task = progress.add_task(f"building {name}", total=None)

            def advance(position: int, target: int, task: TaskID = task) -> None:
                progress.update(task, completed=position, total=target)

            catch_up(application, views, name, progress=advance)
