"""The one parser of ``--as-of`` instants: ISO 8601 with a timezone, else a usage error (exit 2)."""

from __future__ import annotations

from datetime import datetime

import typer


def aware_instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not an ISO instant: {text!r}") from None
    if moment.tzinfo is None:
        raise typer.BadParameter("--as-of needs a timezone, e.g. 2026-03-20T09:00+08:00")
    return moment
