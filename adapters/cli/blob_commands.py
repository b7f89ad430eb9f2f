"""`petition blobs sweep`: deletes attachments' blobs that no event names (abandoned filings).

Run it from cron (or a Kubernetes CronJob) on any one machine with the store's settings, e.g.
daily with ``--older-than 2d``. See adapters/blobs/sweep.py for why it never deletes a blob an
event names, and docs/operations.md.
"""

from __future__ import annotations

from typing import Annotated

import typer

from adapters.blobs.sweep import sweep
from adapters.cli.output import console, print_json
from adapters.cli.root import root
from adapters.cli.token_commands import lifetime
from workflows.attachment_references import referenced_blobs

blobs = typer.Typer(help="The attachments' bytes (the blob folder or bucket).",
                    no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(blobs, name="blobs")


@blobs.command("sweep")
def sweep_command(
    older_than: Annotated[str, typer.Option(
        "--older-than", help="Only blobs last written longer ago than this: 2d, 12h, 90m "
                             "(at least 1h).")] = "2d",
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Count what would be deleted; delete nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Delete blobs no event names (files of filings never verified), once old enough."""
    age = lifetime(older_than, "--older-than")
    built = root()
    app = built.app
    try:
        report = sweep(built.blobs(), lambda: referenced_blobs(app), now=app.clock.now(),
                       older_than=age, dry_run=dry_run)
    except ValueError as error:
        raise typer.BadParameter(str(error)) from None
    result = {"examined": report.examined, "older": report.old, "named_by_events": report.named,
              "deleted": len(report.deleted), "dry_run": dry_run}
    if as_json:
        print_json(result)
        return
    verb = "would delete" if dry_run else "deleted"
    console.print(f"{report.examined} blobs, {report.old} older than {older_than}: "
                  f"{report.named} named by events, {verb} {len(report.deleted)}")
