"""Keyset cursors: the sort key of a page's last row, as opaque URL-safe text.

A cursor comes back from the caller, so decoding trusts nothing: the text must be base64 of a
JSON list of exactly the expected kinds, with instants in the bounds every query accepts
(workflows.as_of). Anything else is InvalidCursor (HTTP 422), never an error deeper down.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from workflows.as_of import parse_instant

MAX_TEXT = 200  # longer than any key part the views write (ids, kinds)


class InvalidCursor(ValueError):
    def __init__(self) -> None:
        super().__init__("not a cursor this list gave out; start again without one")


def encode(*parts: datetime | str) -> str:
    plain = [p.isoformat() if isinstance(p, datetime) else p for p in parts]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode()


def decode(cursor: str, *kinds: type) -> tuple[Any, ...]:
    """The parts of ``cursor``, each of the kind at its place (``datetime`` or ``str``)."""
    try:
        parts = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")).decode())
    except (UnicodeError, binascii.Error, ValueError, RecursionError):
        raise InvalidCursor() from None
    if not isinstance(parts, list) or len(parts) != len(kinds):
        raise InvalidCursor()
    if not all(isinstance(p, str) and 0 < len(p) <= MAX_TEXT and "\x00" not in p
               for p in parts):
        raise InvalidCursor()
    try:
        return tuple(parse_instant(p) if kind is datetime else p
                     for p, kind in zip(parts, kinds, strict=True))
    except ValueError:
        raise InvalidCursor() from None
