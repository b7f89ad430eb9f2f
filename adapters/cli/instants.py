"""The one parser of ``--as-of`` instants: workflows.as_of.parse_instant (RFC 3339 with a
timezone, within the bounds every query has, as over HTTP), else a usage error (exit 2)."""

from __future__ import annotations

from datetime import datetime

import typer

from workflows.as_of import parse_instant


def aware_instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError as error:
        raise typer.BadParameter(f"--as-of: {error}") from None
