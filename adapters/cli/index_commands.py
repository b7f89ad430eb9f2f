"""`petition index …`: the concluded-matter index (不再受理) — backfill the cases answered before it."""

from __future__ import annotations

from typing import Annotated

import typer

from adapters.cli.case_commands import open_app
from adapters.cli.output import print_json
from workflows.concluded_matters_backfill import BackfillProgress, backfill_index

index = typer.Typer(help="The concluded-matter index: backfill cases answered before it.",
                    no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(index, name="index")


@index.command("backfill")
def backfill(
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Count the missing records; append nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Give every answered case on a review track its concluded-matter record (one pass over
    the log's answers; re-running adds nothing). Progress goes to stderr."""

    def report(step: BackfillProgress) -> None:
        typer.echo(f"index backfill: {step.answered} answered cases read, {step.indexed} "
                   f"records {'missing' if dry_run else 'added'}", err=True)

    done = backfill_index(open_app(), dry_run=dry_run, progress=report)
    if as_json:
        print_json({"dry_run": dry_run, "answered": done.answered, "indexed": done.indexed})
    else:
        typer.echo(f"{done.indexed} records {'would be ' if dry_run else ''}added "
                   f"({done.answered} answered cases read)")
