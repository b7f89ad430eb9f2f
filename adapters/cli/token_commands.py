"""`petition token issue|revoke|list`: staff credentials. A token is printed once, never stored."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated
from uuid import UUID

import typer

from adapters.cli.case_commands import open_app
from adapters.cli.output import console, print_json, print_table
from adapters.cli.root import root
from domain.api_token import ApiToken
from workflows.access import Role
from workflows.tokens import TokenService

tokens = typer.Typer(help="Issue and revoke API tokens.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    app.add_typer(tokens, name="token")


def _service() -> TokenService:
    return root().tokens


@tokens.command("issue")
def issue(
    role: Annotated[Role, typer.Option(help="intake, handler, supervisor, auditor or admin.")],
    unit: Annotated[str, typer.Option(help="The unit the token acts for (its subtree is its reach).")],
    pii: Annotated[bool, typer.Option("--pii", help="May read personal data.")] = False,
    proxy: Annotated[bool, typer.Option("--proxy", help="An intake user who is a proxy agent (代办员).")] = False,
    label: Annotated[str, typer.Option(help="A note for operators, e.g. the holder's name.")] = "",
    expires_in: Annotated[str, typer.Option(
        "--expires-in", help="How long it lives: 180d, 12h or 30m (1 minute to 3650 days).")
    ] = "180d",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Issue a token; it is shown now and never again (only its hash is stored)."""
    issued = _service().issue(role, unit, pii=pii, proxy=proxy, label=label,
                              expires_in=lifetime(expires_in))
    out = {"token": issued.token, "token_id": str(issued.token_id), "role": role.value,
           "unit": unit, "pii": pii, "proxy": proxy,
           "expires_at": issued.expires_at.isoformat()}
    if as_json:
        print_json(out)
        return
    console.print(f"token (shown once): {issued.token}")
    console.print(f"token id (for revoking): {issued.token_id}  role={role.value} unit={unit}"
                  f" pii={pii} proxy={proxy} expires_at={issued.expires_at.isoformat()}")


_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def lifetime(text: str, option: str = "--expires-in") -> timedelta:
    """``180d``, ``12h`` or ``30m`` (a bare number is days)."""
    found = re.fullmatch(r"\s*(\d{1,7})\s*([dhm]?)\s*", text)
    if not found:
        raise typer.BadParameter(f"{option}: not a duration like 180d, 12h or 30m: {text!r}")
    return timedelta(**{_UNITS[found[2] or "d"]: int(found[1])})


@tokens.command("revoke")
def revoke(token_id: Annotated[UUID, typer.Argument(help="The token id printed at issue.")]) -> None:
    """Revoke a token at once."""
    _service().revoke(token_id)
    console.print(f"revoked {token_id}")


@tokens.command("list")
def list_tokens(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Every token ever issued, with its role, unit, expiry and whether it is revoked."""
    application = open_app()
    now = application.clock.now()
    topic = "domain.api_token:ApiToken.Issued"
    ids = [n.originator_id for n in application.recorder.select_notifications(
        start=None, limit=1_000_000, topics=[topic])]
    rows = []
    for token_id in ids:
        record = application.repository.get(token_id)
        assert isinstance(record, ApiToken)
        rows.append({"token_id": str(record.id), "role": record.role, "unit": record.unit,
                     "pii": record.pii, "proxy": record.proxy, "label": record.label,
                     "issued_at": record.issued_at.isoformat(),
                     "expires_at": record.expires_at.isoformat(),
                     "expired": record.expired(now),
                     "revoked": record.revoked_at is not None})
    if as_json:
        print_json(rows)
        return
    print_table("tokens", list(rows[0]) if rows else ["token_id"],
                [list(r.values()) for r in rows])
