"""Query parameters parsed in one place: instants within the engine's bounds, unit ids.

An instant goes through workflows.as_of.parse_instant, as the CLI's ``--as-of`` does, so year 1
at +14:00 is a 422 naming the parameter, never an overflow deeper down. Cursors are checked by
projections.cursor when a list decodes them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Query
from pydantic import AwareDatetime, BeforeValidator, WithJsonSchema

from workflows.as_of import EARLIEST, LATEST, RFC3339, parse_instant

Instant = Annotated[datetime, BeforeValidator(parse_instant),
                    WithJsonSchema({"type": "string", "format": "date-time"})]
"""Text only (pydantic alone would also take a number as seconds since 1970)."""


def _rfc3339_text(value: object) -> object:
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        raise ValueError("not an RFC 3339 instant with a timezone, e.g. 2026-03-20T09:00+08:00")
    return value


BusinessTime = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text),
                         WithJsonSchema({"type": "string", "format": "date-time"})]
"""A body's business time: RFC 3339 text; its bounds are the deadline policy's (422
``rule_violated`` from the decision), not a query's."""
INSTANT_HELP = (f"An instant with a timezone, e.g. 2026-03-20T09:00+08:00, between "
                f"{EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC).")
PLAIN_TEXT = r"^[^\x00-\x1f\x7f]+$"  # no control characters (a NUL is not storable text)


def unit_query(what: str) -> Any:
    """An optional unit id in the query (``name: unit_query(...) = None``)."""
    return Annotated[str | None, Query(min_length=1, max_length=64, pattern=PLAIN_TEXT,
                                       description=what)]


def instant_query(what: str) -> Any:
    """An optional instant in the query (``name: instant_query(...) = None``). In Annotated
    form: FastAPI drops a type's validators when ``Query()`` is the default instead."""
    return Annotated[Instant | None, Query(description=f"{what} {INSTANT_HELP}")]


Cursor = Query(default=None, max_length=500, pattern=r"^[A-Za-z0-9_=-]+$",
               description="From the previous page's next_cursor.")
Limit = Query(default=50, ge=1, le=500)
