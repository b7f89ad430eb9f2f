"""Reads an operator's holiday file: the State Council's yearly arrangement, one day a row.

CSV with the header ``date,kind,name``: ``date`` ISO (2027-02-05), ``kind`` ``holiday`` (a day
off, statutory or bridging) or ``workday`` (a working day, e.g. a 调休 Saturday), ``name`` free
text (e.g. 春节). Blank lines and lines starting with ``#`` are skipped. Each year present in the
file is taken as entered in full: list every day off and every swapped working day of it.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path
from typing import Any

from domain.errors import InvalidCommand
from domain.holiday_arrangement import HOLIDAY, WORKDAY

HEADER = ["date", "kind", "name"]
MAX_ROWS = 5000


def read_holiday_file(path: Path) -> list[dict[str, Any]]:
    """Validated rows {date, kind, name}; any bad row is refused with its line number."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidCommand(f"holiday file {path.name}: {error}") from None
    return parse_holidays(text, path.name)


def parse_holidays(text: str, source: str = "holiday file") -> list[dict[str, Any]]:
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1)
             if line.strip() and not line.lstrip().startswith("#")]
    if not lines or [c.strip() for c in next(csv.reader([lines[0][1]]))] != HEADER:
        raise InvalidCommand(f"{source}: the first line must be the header {','.join(HEADER)}")
    if len(lines) > MAX_ROWS:
        raise InvalidCommand(f"{source}: more than {MAX_ROWS} rows")
    rows: dict[str, dict[str, Any]] = {}
    for number, line in lines[1:]:
        row = _row(next(csv.reader(io.StringIO(line))), f"{source} line {number}")
        if row["date"] in rows:
            raise InvalidCommand(f"{source} line {number}: {row['date']} is listed twice")
        rows[row["date"]] = row
    if not rows:
        raise InvalidCommand(f"{source}: no days")
    return sorted(rows.values(), key=lambda r: r["date"])


def _row(cells: list[str], where: str) -> dict[str, Any]:
    if len(cells) not in (2, 3):
        raise InvalidCommand(f"{where}: expected date,kind,name")
    day, kind = cells[0].strip(), cells[1].strip().lower()
    try:
        parsed = date.fromisoformat(day)
    except ValueError:
        raise InvalidCommand(f"{where}: not an ISO date: {day!r}") from None
    if kind not in (HOLIDAY, WORKDAY):
        raise InvalidCommand(f"{where}: kind must be {HOLIDAY} or {WORKDAY}, got {kind!r}")
    name = cells[2].strip() if len(cells) == 3 else ""
    if len(name) > 100:
        raise InvalidCommand(f"{where}: name longer than 100 characters")
    return {"date": parsed.isoformat(), "kind": kind, "name": name}
