"""`petition proxies …`: the proxy-agent roster (代办员名册)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from adapters.cli.case_commands import open_app
from adapters.cli.file_loading import load_file
from adapters.cli.output import print_json, print_table
from adapters.proxy_file import read_roster
from workflows.proxy_agents import load_roster, roster

proxies = typer.Typer(help="The proxy agents (代办员) and the grids they serve.",
                      no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(proxies, name="proxies")


@proxies.command("load")
def load(file: Annotated[Path, typer.Argument(
        help="CSV (id, name, grids separated by ';', token) or a JSON list.")]) -> None:
    """Validate the roster against the organisation chart and put it in force (an event)."""
    load_file(file, read_roster, lambda app, agents, source: load_roster(
        app, agents, app.org, source=source), lambda agents: f"loaded {len(agents)} proxy agents")


@proxies.command("list")
def list_agents(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every active agent with the grids served and whether a token signs them in."""
    record = roster(open_app())
    rows = [a.row() for a in (record.listing() if record is not None else [])]
    if as_json:
        print_json(rows)
        return
    print_table("proxy agents", ("id", "name", "grids", "token"),
                [[r["id"], r["name"], ";".join(r["grids"]), r["token"] or ""] for r in rows])
