"""`petition receptions publish | list | remind`: leaders' reception days (领导接访日) and video
reception (视频接访) for operators: the slots petitioners book with their query code."""

from __future__ import annotations

from typing import Annotated

import typer

from adapters.cli.case_commands import open_app
from adapters.cli.instants import aware_instant
from adapters.cli.output import print_json, print_table
from adapters.cli.root import root
from domain.values import ReceptionMode
from workflows.reception import slots as reception

receptions = typer.Typer(help="Reception slots of leaders (领导接访日, 视频接访).",
                         no_args_is_help=True)
JsonFlag = Annotated[bool, typer.Option("--json")]


def register(app: typer.Typer) -> None:
    app.add_typer(receptions, name="receptions")


@receptions.command("publish")
def publish(
    unit: Annotated[str, typer.Option(help="The unit whose leader receives.")],
    leader: Annotated[str, typer.Option(help="Who receives, e.g. 王区长.")],
    starts_at: Annotated[str, typer.Option(help="e.g. 2026-03-05T09:00+08:00")],
    ends_at: Annotated[str, typer.Option(help="e.g. 2026-03-05T09:30+08:00")],
    mode: Annotated[ReceptionMode, typer.Option(help="video or in_person")] =
    ReceptionMode.IN_PERSON,
    place: Annotated[str, typer.Option(help="Where (in person) or how to join.")] = "",
    actor: Annotated[str, typer.Option(help="Who publishes.")] = "cli",
    as_json: JsonFlag = False,
) -> None:
    """Publish one slot; the same unit, leader and start twice is refused (exit 3)."""
    command = reception.PublishSlot(actor=actor, unit=unit, leader=leader,
                                    starts_at=aware_instant(starts_at, "--starts-at"),
                                    ends_at=aware_instant(ends_at, "--ends-at"), mode=mode,
                                    place=place)
    slot = reception.publish(open_app(), command)
    out = {"slot_id": str(slot.id), "unit": slot.unit, "leader": slot.leader,
           "starts_at": slot.starts_at.isoformat(), "mode": slot.mode.value}
    print_json(out) if as_json else print_table("published", tuple(out), [tuple(out.values())])


@receptions.command("list")
def list_slots(
    unit: Annotated[str | None, typer.Option(help="Only this unit's subtree.")] = None,
    as_json: JsonFlag = False,
) -> None:
    """Slots from now for 90 days, with the booking case, if any."""
    app = open_app()
    units = set(app.org.subtree(unit)) if unit else None
    rows = [{"slot_id": str(s.id), "unit": s.unit, "leader": s.leader, "mode": s.mode.value,
             "starts_at": s.starts_at.isoformat(), "ends_at": s.ends_at.isoformat(),
             "place": s.place, "case_id": str(s.booked_by) if s.booked_by else None}
            for s in reception.slots(app, units, app.clock.now())]
    if as_json:
        print_json(rows)
        return
    print_table("reception slots", ("slot", "unit", "leader", "mode", "starts", "case"),
                ((r["slot_id"][:8], r["unit"], r["leader"], r["mode"], r["starts_at"],
                  r["case_id"] or "") for r in rows))


@receptions.command("remind")
def remind(as_json: JsonFlag = False) -> None:
    """Send the reminders now of bookings starting within a day (the timer does this too)."""
    app = open_app()
    done = root().reception_reminders().tick(app.clock.now())
    out = {"reminded": [str(c) for c in done]}
    print_json(out) if as_json else print_table("reminded", ("case",), ((c,) for c in
                                                                         out["reminded"]))
