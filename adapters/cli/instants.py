"""The one parser of instants on the command line (``--as-of``, a slot's start and end):
workflows.as_of.parse_instant (RFC 3339 with a timezone, within the bounds every query has, as
over HTTP), else a usage error (exit 2)."""

from __future__ import annotations

from datetime import datetime

import typer

from workflows.as_of import parse_instant


def aware_instant(text: str, option: str = "--as-of") -> datetime:
    try:
        return parse_instant(text)
    except ValueError as error:
        raise typer.BadParameter(f"{option}: {error}") from None
