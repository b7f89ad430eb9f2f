"""`petition outbox list`: the texts waiting for citizens' phones (verification codes).

With the embedded notifier there is no SMS gateway: an operator (or a test) reads the outbox
and passes the code on. Newest first; rows older than a day are gone.
"""

from __future__ import annotations

from typing import Annotated

import typer

from adapters.cli.output import print_json, print_table
from adapters.cli.root import root

outbox = typer.Typer(help="Messages to citizens' phones (the embedded notifier).",
                     no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(outbox, name="outbox")


@outbox.command("list")
def list_messages(
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The newest messages with their phone numbers (personal data: operators only)."""
    messages = root().outbox().list(limit)
    rows = [{"id": m.id, "at": m.created_at.isoformat(), "phone": m.phone, "message": m.message}
            for m in messages]
    if as_json:
        print_json(rows)
        return
    print_table("outbox", ("id", "at", "phone", "message"),
                ((r["id"], r["at"], r["phone"], r["message"]) for r in rows))
