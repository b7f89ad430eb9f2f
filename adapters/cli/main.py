"""Entry point of the ``petition`` console script.

Commands parse input, call the application and print; every failure becomes one line on
stderr and a non-zero exit code (see ``errors.py``), never a traceback.
"""

from __future__ import annotations

import os

import typer

from adapters.cli import (
    analytics_commands,
    blob_commands,
    calendar_commands,
    case_commands,
    deadline_commands,
    demo_command,
    inbound_commands,
    index_commands,
    kafka_commands,
    key_commands,
    outbox_command,
    projection_commands,
    proxy_commands,
    reception_commands,
    serve_command,
    simulate_command,
    supervise_command,
    token_commands,
    unit_commands,
    worker_command,
)
from adapters.cli.errors import run_guarded

app = typer.Typer(
    name="petition",
    help="Event-sourced case-workflow engine for citizen petitions (信访).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
case_commands.register(app)
demo_command.register(app)
token_commands.register(app)
serve_command.register(app)
projection_commands.register(app)
supervise_command.register(app)
unit_commands.register(app)
proxy_commands.register(app)
kafka_commands.register(app)
key_commands.register(app)
simulate_command.register(app)
calendar_commands.register(app)
deadline_commands.register(app)
index_commands.register(app)
analytics_commands.register(app)
outbox_command.register(app)
reception_commands.register(app)
worker_command.register(app)
inbound_commands.register(app)
blob_commands.register(app)


def main() -> None:
    os.umask(0o077)  # every file the engine creates (store, -wal/-shm, keys, locks) is private
    run_guarded(app)
