"""`petition deadlines …`: apply a changed policy or calendar to running obligations, on purpose."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

import typer

from adapters.cli.case_commands import open_app
from adapters.cli.output import print_json, print_table
from adapters.cli.root import root
from projections import queries
from projections import runner as r
from workflows.case_summary import plain
from workflows.deadline_revision import revise_deadlines

deadlines = typer.Typer(help="Recorded deadlines: revise open ones to the policy in force.",
                        no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(deadlines, name="deadlines")


@deadlines.command("revise")
def revise(
    reason: Annotated[str, typer.Option(help="Why (recorded in each DeadlineRevised).")],
    unit: Annotated[str | None, typer.Option(
        help="Only cases whose obligated unit lies within this unit's jurisdiction.")] = None,
    case: Annotated[list[UUID] | None, typer.Option(
        help="Only this case (repeatable).")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show what would be revised; append nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Append one DeadlineRevised per open case whose running deadline the policy in force
    now computes differently (closed cases and unchanged deadlines are left alone)."""
    if not reason.strip():
        raise typer.BadParameter("must not be blank", param_hint="--reason")
    app = open_app()
    if case:
        candidates = case
    else:  # the open cases, from the case view brought up to the log's end
        r.catch_up(app, root().views, "case_view")
        candidates = queries.open_cases(app.org, r.case_view(root().views), unit=unit)
    done = revise_deadlines(app, candidates, reason=reason, unit=unit, dry_run=dry_run)
    rows = [{"case_id": str(r.case_id), "unit": r.unit, "kind": r.revised.kind.value,
             "previous_due_on": plain(r.previous.due_on), "due_on": plain(r.revised.due_on),
             "provisional": r.revised.provisional} for r in done]
    if as_json:
        print_json({"dry_run": dry_run, "revised": rows})
    else:
        title = f"{len(rows)} deadlines {'would be ' if dry_run else ''}revised"
        print_table(title, ("case", "unit", "kind", "was due", "now due", "provisional"),
                    [list(row.values()) for row in rows])
