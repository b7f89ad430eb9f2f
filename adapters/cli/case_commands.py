"""Commands on single cases: register, act, show, history, info."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from uuid import UUID

import typer

from adapters.cli.instants import aware_instant
from adapters.cli.output import print_json, print_mapping, print_table
from adapters.cli.root import root
from adapters.rest_days import years_not_covered
from workflows import case_reads
from workflows.application import PetitionApplication
from workflows.case_summary import deadline_dict
from workflows.command_table import COMMANDS
from workflows.commands import ACTIONS, RegisterPetition

JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
PiiFlag = Annotated[bool, typer.Option("--pii", help="Show personal data (operators only).")]
CaseArg = Annotated[UUID, typer.Argument(help="The case id (UUID).")]


def open_app() -> PetitionApplication:
    """The application the composition root built for this process."""
    return root().app


def register(app: typer.Typer) -> None:
    app.command("register")(register_petition)
    app.command("act")(act)
    app.command("show")(show)
    app.command("history")(history)
    app.command("info")(info)


def register_petition(
    file: Annotated[Path, typer.Argument(help="JSON body of a RegisterPetition command.")],
    as_json: JsonFlag = False,
) -> None:
    """Register a petition from a JSON file; prints the case id and the query code (once)."""
    command = RegisterPetition.model_validate_json(file.read_text(encoding="utf-8"))
    application = open_app()
    result = application.register(command)
    out = {"case_id": str(result.case_id), "query_code": result.query_code,
           "status": result.status, "position": result.position,
           "deadline": deadline_dict(result.deadline),
           "concluded_flag": result.concluded_in}  # 不再受理: intake decides (concluded-matter)
    print_json(out) if as_json else print_mapping("registered", out)


def act(
    case_id: CaseArg,
    action: Annotated[str, typer.Argument(help=f"One of: {', '.join(ACTIONS)}.")],
    fields: Annotated[list[str] | None, typer.Argument(help="field=value pairs.")] = None,
    actor: Annotated[str, typer.Option(help="Who acts, e.g. handler:li@QH-D01-S01; for "
                                       "`extend`, the approver (required).")] = "cli",
    as_json: JsonFlag = False,
) -> None:
    """Run one command on a case, e.g. `petition act CASE accept handling_track=claim speed_track=general`."""
    if action not in COMMANDS:
        raise typer.BadParameter(f"unknown action '{action}'; use one of {', '.join(ACTIONS)}")
    if COMMANDS[action].upload:
        raise typer.BadParameter(f"{action} carries a file: send it to "
                                 f"POST /petitions/{{case_id}}/{action} (multipart), which "
                                 "checks and stores it")
    if COMMANDS[action].approver is not None and actor == "cli":
        raise typer.BadParameter(f"{action} records its approver: name them with --actor")
    body: dict[str, object] = {"case_id": str(case_id), "actor": actor}
    for pair in fields or []:
        key, sep, value = pair.partition("=")
        if not sep:
            raise typer.BadParameter(f"expected field=value, got '{pair}'")
        body[key] = value
    command = COMMANDS[action].command.model_validate_json(json.dumps(body))
    application = open_app()
    result = application.execute(command)
    out = {"case_id": str(result.case_id), "status": result.status, "version": result.version,
           "position": result.position, "deadline": deadline_dict(result.deadline)}
    print_json(out) if as_json else print_mapping(action, out)


def show(
    case_id: CaseArg,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="The case as it stood at this instant, e.g. 2026-03-20T09:00+08:00.")
    ] = None,
    as_json: JsonFlag = False,
    pii: PiiFlag = False,
) -> None:
    """The current state of a case, its deadlines and what may be done next."""
    application = open_app()
    if as_of:
        state = case_reads.state_as_of(application, case_id, aware_instant(as_of), pii=pii)
        print_json(state) if as_json else print_mapping(
            f"case {case_id} as of {state['as_of']}", state["case"])
        return
    summary = case_reads.case(application, case_id, pii=pii)
    print_json(summary) if as_json else print_mapping(f"case {case_id}", summary)


def history(
    case_id: CaseArg,
    as_of: Annotated[str | None, typer.Option(
        "--as-of", help="Only what was recorded by this instant, e.g. 2026-03-20T09:00+08:00.")
    ] = None,
    as_json: JsonFlag = False,
    pii: PiiFlag = False,
) -> None:
    """Every event of a case in order, with business time and recorded time."""
    records = case_reads.history(open_app(), case_id, pii=pii,
                                 as_of=aware_instant(as_of) if as_of else None)
    if as_json:
        print_json(records)
        return
    print_table(
        f"history of {case_id}",
        ("v", "event", "business time (at)", "recorded at (UTC)", "actor", "data"),
        ((r["version"], r["type"], _minute(r["at"]), _second(r["recorded_at"]), r["actor"],
          brief(r["data"])) for r in records),
    )


def _minute(iso: str) -> str:
    moment = datetime.fromisoformat(iso)
    return f"{moment:%Y-%m-%d %H:%M} {moment:%z}"


def _second(iso: str) -> str:
    return f"{datetime.fromisoformat(iso).astimezone(UTC):%Y-%m-%d %H:%M:%S}"


def brief(data: dict[str, object], width: int = 48) -> str:
    """An event's data in one table cell: each value cut to ``width``, except a recorded
    deadline, which shows its dates (the JSON would be cut before the due date)."""
    parts = []
    for key, value in data.items():
        if value in (None, "", []):
            continue
        if isinstance(value, dict) and {"kind", "due_on"} <= value.keys():
            parts.append(f"{key}={_deadline(value)}")
            continue
        text = json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value)
        parts.append(f"{key}={text if len(text) <= width else text[: width - 1] + '…'}")
    return "; ".join(parts)


def _deadline(deadline: dict[str, object]) -> str:
    notes = [f"{deadline['days']} days"] if deadline.get("days") is not None else []
    notes += ["provisional"] if deadline.get("provisional") else []
    return f"{deadline['kind']} due {deadline['due_on']}" + (
        f" ({', '.join(notes)})" if notes else "")


def info(as_json: JsonFlag = False) -> None:
    """Where the store is and what it holds."""
    settings = root().settings
    application = open_app()
    rest_days = application.policy.rest_days
    out = {
        "store": "postgresql" if settings.is_postgres else settings.store,
        "events": application.recorder.max_notification_id() or 0,
        "units": len(application.org),
        "policy": deadline_rules(application),
        "calendar_years_not_covered": years_not_covered(
            rest_days, application.clock.now().astimezone(application.policy.zone).date()),
    }
    print_json(out) if as_json else print_mapping("petition engine", out)


def deadline_rules(application: PetitionApplication) -> dict[str, object]:
    rules = application.policy.rules
    return {k: (dict(v) if isinstance(v, dict) else v) for k, v in vars(rules).items()}
