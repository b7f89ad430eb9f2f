"""CLI for the read side: projections status/rebuild/run, cases, overdue, due-soon, trail and verify.

Register with ``projection_commands.register(app)``; ``python -m adapters.cli.projection_commands``
runs the same commands without the rest of the CLI (used by the crash test).
"""

from __future__ import annotations

import json
import signal
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from adapters.cli.case_commands import open_app
from adapters.cli.errors import run_guarded
from adapters.cli.instants import aware_instant
from adapters.cli.output import print_json, print_table
from adapters.cli.root import root
from adapters.settings import Settings
from adapters.sqlite_file import damaged, find_damage
from domain.values import Status
from projections import queries
from projections import runner as r
from projections.case_trail import case_trail
from projections.case_view import CaseFilter
from projections.cursor import InvalidCursor
from projections.view import ViewStalled
from workflows.access import Principal, Role, reach

VERIFY_INTEGRITY_SECONDS = 600.0
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def _print(rows: list[dict[str, Any]], as_json: bool, title: str) -> None:
    if as_json:
        typer.echo(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
        return
    columns = list(rows[0]) if rows else ["(none)"]
    print_table(title, columns, ([_cell(row[k]) for k in columns] for row in rows))


def _cell(value: Any) -> Any:
    """Compact cells: minutes for instants, whole days for durations."""
    if isinstance(value, datetime):
        return f"{value:%Y-%m-%d %H:%M %z}"
    if isinstance(value, timedelta):
        return f"{value.days} d"
    return value


def _obligation(row: dict[str, Any]) -> dict[str, Any]:
    """The columns shown; with the ladder (rung reached, what comes next and when) when the
    read has one."""
    keep = ("case_id", "kind", "unit", "due_on", "expires_at", "overdue_by", "status")
    return {**{k: row.get(k) for k in keep}, **row.get("ladder", {})}


projections = typer.Typer(help="Read models: status, rebuild, run.", no_args_is_help=True)


@projections.command("status")
def status_command(as_json: JsonOpt = False) -> None:
    """Each projection's position, its lag behind the event log and its state: `following`,
    or `stalled` before an event it cannot apply (the event, its case and the error)."""
    app = open_app()
    try:
        rows = r.status(app, root().views)
    finally:
        app.close()
    if as_json:
        _print(rows, True, "Projections")
        return
    _print([{"name": row["name"], "position": row["position"], "log_end": row["log_end"],
             "lag": row["lag"], "state": row["state"], "detail": _stall_detail(row)}
            for row in rows], False, "Projections")


def _stall_detail(row: dict[str, Any]) -> str:
    if row["state"] != "stalled":
        return ""
    return (f"event {row['stalled_at']} of case {row['case_id']} since {row['since']}: "
            f"{row['error']}")


@projections.command("rebuild")
def rebuild_command(
    name: Annotated[str | None, typer.Argument(help="case_view, audit_trail or supervision_queue")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Rebuild every projection.")] = False,
    batch_size: Annotated[int, typer.Option(min=1, max=r.MAX_CATCH_UP_BATCH,
                                            help="Events per transaction.")] = r.CATCH_UP_BATCH,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Continue an interrupted rebuild from each view's position.")] = False,
) -> None:
    """Drops a view and its position and rebuilds it from the log (stop runners first).

    Every batch commits its rows with the view's position, so a rebuild that was killed
    left each view consistent at some position: ``--resume`` goes on from there instead of
    starting again (docs/operations.md)."""
    names = list(r.READ_MODELS) if all_ else [name] if name else []
    if not names or any(n not in r.READ_MODELS for n in names):
        raise typer.BadParameter(f"give one of {', '.join(r.READ_MODELS)} or --all")
    app = open_app()
    try:
        if not resume:  # all emptied first: a kill in any view leaves the rest to --resume
            for n in names:
                root().views.open(n).reset()
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn()) as bar:
            for n in names:
                start = root().views.open(n).max_tracking_id(app.name) or 0
                task = bar.add_task(f"{n} (from {start:,})" if start else n,
                                    total=app.recorder.max_notification_id() or 0,
                                    completed=start)
                r.catch_up(app, root().views, n, batch_size=batch_size,
                           progress=lambda done, total, t=task: bar.update(t, completed=done,
                                                                           total=total))
                bar.update(task, completed=bar.tasks[task].total)
    finally:
        app.close()


@projections.command("run")
def run_command(batch_size: int = 500) -> None:
    """Follows the log in the foreground until interrupted (Ctrl-C or SIGTERM)."""
    signal.signal(signal.SIGTERM, _interrupt)
    runner = root().projection_runner(batch_size=batch_size).start()
    typer.echo(f"following {', '.join(runner.views)}", err=True)
    try:
        runner.run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        runner.stop()
        runner.app.close()


def overdue_command(
    unit: Annotated[str | None, typer.Option(help="Only this unit's obligations.")] = None,
    jurisdiction: Annotated[str | None, typer.Option(help="A unit and all below it.")] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="ISO instant; default now.")] = None,
    limit: int = 100,
    as_json: JsonOpt = False,
) -> None:
    """Obligations past their deadline, most overdue first (from the supervision queue)."""
    app = open_app()
    try:
        instant = aware_instant(as_of) if as_of else app.clock.now()
        r.catch_up(app, root().views, "supervision_queue")
        rows, _ = queries.overdue_with_ladder(app, r.supervision_queue(root().views), instant, unit=unit,
                                              jurisdiction=jurisdiction, limit=limit)
        _print([_obligation(x) for x in rows], as_json,
               f"Overdue as of {instant.isoformat()}")
    finally:
        app.close()


OPERATOR = Principal(token_id="cli", role=Role.ADMIN, unit="")
"""Who reads at the command line: the operator of the store, reaching every case as an
administrator does over HTTP (``--jurisdiction`` narrows that reach the same way)."""
CASE_COLUMNS = ("case_id", "status", "responsible_unit", "category", "registered_at",
                "deadline_kind", "deadline_due_on", "concluded_flag")
"""The table's columns; ``--json`` prints every field a listed case shows (as over HTTP)."""


def cases_command(
    status: Annotated[Status | None, typer.Option(help="Only cases in this status.")] = None,
    unit: Annotated[str | None, typer.Option(help="Only cases this unit is responsible for.")
                    ] = None,
    jurisdiction: Annotated[str | None, typer.Option(
        help="Only cases reached through this unit (received, held or handled there or "
             "below), as GET /petitions?jurisdiction= gives an administrator.")] = None,
    registered_from: Annotated[str | None, typer.Option(
        "--registered-from", help="Registered at or after this ISO instant.")] = None,
    registered_to: Annotated[str | None, typer.Option(
        "--registered-to", help="Registered before this ISO instant.")] = None,
    concluded_flag: Annotated[bool | None, typer.Option(
        "--concluded-flag/--not-concluded-flag",
        help="Only cases flagged as a concluded matter (不再受理) that wait for intake's "
             "decision, or only the others.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    cursor: Annotated[str | None, typer.Option(help="The next_cursor of a previous page.")
                      ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Cases by registration time, as GET /petitions lists them (the same read, no personal
    data); --concluded-flag is intake's queue of 不再受理 flags to decide."""
    app = open_app()
    try:
        where = CaseFilter(
            status=status.value if status else None,
            unit=app.org.get(unit).id if unit else None,
            reach=reach(OPERATOR, app.org, narrowed_to=jurisdiction),
            registered_from=aware_instant(registered_from, "--registered-from")
            if registered_from else None,
            registered_to=aware_instant(registered_to, "--registered-to")
            if registered_to else None,
            concluded_flag=concluded_flag)
        r.catch_up(app, root().views, "case_view")
        try:
            items, next_cursor = queries.cases(r.case_view(root().views), where, limit=limit,
                                               cursor=cursor)
        except InvalidCursor:
            raise typer.BadParameter("--cursor: not a cursor this list gave") from None
        if as_json:
            typer.echo(json.dumps({"items": items, "next_cursor": next_cursor},
                                  ensure_ascii=False, indent=2))
            return
        _print([{k: row.get(k) for k in CASE_COLUMNS} for row in items], False, "Cases")
        if next_cursor:
            typer.echo(f"more: --cursor {next_cursor}")
    finally:
        app.close()


def due_soon_command(
    days: Annotated[int, typer.Option("--days", min=0)] = 3,
    unit: Annotated[str | None, typer.Option()] = None,
    limit: int = 100,
    as_json: JsonOpt = False,
) -> None:
    """Obligations not yet overdue whose deadline falls within N days."""
    app = open_app()
    try:
        r.catch_up(app, root().views, "supervision_queue")
        rows, _ = queries.due_soon(app.org, r.supervision_queue(root().views), app.clock.now(), days,
                                   unit=unit, limit=limit)
        _print([_obligation(x) for x in rows], as_json, f"Due within {days} days")
    finally:
        app.close()


def verify_command(
    case: Annotated[str | None, typer.Argument(help="A case id; default every case.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Recomputes the audit hash chains from the stored events; exit 8 if anything differs.

    A damaged SQLite file is a finding too (the chains cannot be read from it), and so is a
    stored event the trail cannot chain (it stops before it; the events after it are not
    verified until it is repaired)."""
    damage = _store_damage(root().settings)
    if damage:
        _print([damage], as_json, "Audit findings")
        raise typer.Exit(8)
    app = open_app()
    try:
        try:
            r.catch_up(app, root().views, "audit_trail")
        except ViewStalled:
            pass  # recorded in the store: verify names that event as an `unchained` finding
        findings = r.audit_trail(root().views).verify(UUID(case) if case else None,
                                             application_name=app.name)
        rows = [vars(f) for f in findings]
        if rows or as_json:
            _print(rows, as_json, "Audit findings")
        else:
            typer.echo("verified: every stored case event matches the audit trail")
    finally:
        app.close()
    if findings:
        raise typer.Exit(8)


def trail_command(
    case_id: Annotated[UUID, typer.Argument(help="The case id (UUID).")],
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Only what was recorded by this instant, e.g. 2026-03-20T09:00+08:00.")
    ] = None,
    as_json: JsonOpt = False,
    pii: Annotated[bool, typer.Option("--pii", help="Show personal data (operators only).")
                   ] = False,
) -> None:
    """A case's audit trail, hash-chained, as GET /petitions/{id}/history serves it; exit 8 if
    its chain does not recompute from the stored events."""
    app = open_app()
    try:
        instant = aware_instant(as_of) if as_of else None
        app.get_petition(case_id)  # an unknown case is exit 4, as `show`
        try:
            r.catch_up(app, root().views, "audit_trail")
        except ViewStalled:
            pass  # as `verify`: the event it stopped before is an `unchained` finding
        read = case_trail(app, r.audit_trail(root().views), case_id, as_of=instant, pii=pii)
    finally:
        app.close()
    if as_json:
        print_json(read)
    else:
        verdict = "valid" if read["chain_valid"] else "BROKEN"
        print_table(f"trail of {case_id}: chain {verdict}",
                    ("v", "event", "recorded at (UTC)", "actor", "entry hash"),
                    ((e["version"], e["type"], e["recorded_at"], e["actor"],
                      e["entry_hash"][:16]) for e in read["entries"]))
        if read["findings"]:
            _print(read["findings"], False, "Audit findings")
    if not read["chain_valid"]:
        raise typer.Exit(8)


def _store_damage(settings: Settings) -> dict[str, Any] | None:
    """The SQLite integrity check as a finding (bounded, but longer than at start-up)."""
    if settings.is_postgres:
        return None
    problem = find_damage(Path(settings.store), VERIFY_INTEGRITY_SECONDS)
    if problem is None:
        return None
    return {"case_id": None, "version": None, "position": None, "problem": "damaged-store",
            "detail": str(damaged(settings.store, problem))}


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def register(app: typer.Typer) -> None:
    app.add_typer(projections, name="projections")
    app.command("cases")(cases_command)
    app.command("overdue")(overdue_command)
    app.command("due-soon")(due_soon_command)
    app.command("trail")(trail_command)
    app.command("verify")(verify_command)


standalone = typer.Typer(no_args_is_help=True, add_completion=False)

register(standalone)

if __name__ == "__main__":
    run_guarded(standalone)
