"""`petition supervise`: run the closed-loop supervision process once, or every N seconds."""

from __future__ import annotations

from typing import Annotated

import typer

from adapters.cli.output import print_json, print_table
from adapters.cli.root import root
from projections import runner as r
from workflows.case_summary import plain


def register(app: typer.Typer) -> None:
    app.command("supervise")(supervise)


def supervise(
    every: Annotated[float | None, typer.Option(
        help="Keep running, one tick every this many seconds.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Issue every due rung of the 三函一约谈 ladder (and escalations) for overdue obligations."""
    services = root()
    application = services.app
    timer = services.supervision_timer(
        r.supervision_queue(root().views),
        refresh=lambda: r.catch_up(application, root().views, "supervision_queue"),
        interval=every or 60.0,
    )
    if every is not None:
        try:
            timer.run()
        except KeyboardInterrupt:
            return
    issued = timer.tick()
    rows = [{"case_id": str(i.case_id), "unit": i.unit, "rule": i.measure.rule,
             "due_at": plain(i.measure.due_at)} for i in issued]
    if as_json:
        print_json(rows)
    else:
        print_table(f"{len(rows)} measures issued", ("case", "unit", "rule", "due at"),
                    [list(row.values()) for row in rows])
