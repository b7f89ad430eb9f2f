"""Reads the organisation chart the operator supplies: CSV or JSON rows of id, name, level, parent."""

from __future__ import annotations

import csv
import io
import json
from importlib import resources
from pathlib import Path
from typing import Any

from domain.errors import InvalidCommand
from domain.units import OrgChart, Unit, UnitLevel

DEMO_UNITS = "demo_units.csv"


def load_org_chart(path: Path | None = None) -> OrgChart:
    """The chart in ``path``, or the demo city's when no file is configured."""
    if path is None:
        text = resources.files("adapters.data").joinpath(DEMO_UNITS).read_text(encoding="utf-8")
        return parse_org(text, "csv")
    return parse_org(path.read_text(encoding="utf-8"), path.suffix.lstrip(".").lower())


def parse_org(text: str, kind: str) -> OrgChart:
    if kind == "json":
        rows = json.loads(text)
        if not isinstance(rows, list):
            raise InvalidCommand("org file: expected a JSON list of units")
    elif kind == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        raise InvalidCommand(f"org file: unsupported format '{kind}' (use .csv or .json)")
    return OrgChart(_unit(row, number) for number, row in enumerate(rows, start=1))


def _unit(row: dict[str, Any], number: int) -> Unit:
    try:
        level = UnitLevel(str(row["level"]).strip().lower())
        return Unit(
            id=str(row["id"]).strip(),
            name=str(row["name"]).strip(),
            level=level,
            parent=(str(row.get("parent") or "").strip() or None),
        )
    except (KeyError, ValueError, TypeError) as error:
        raise InvalidCommand(f"org file: row {number} is invalid ({error})") from None
