"""Reads the proxy-agent roster the operator supplies: CSV rows of ``id, name, grids, token``
(grids separated by ``;``, token optional) or a JSON list of the same objects."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from domain.errors import InvalidCommand
from domain.proxy_roster import ProxyAgent


def read_roster(path: Path) -> list[ProxyAgent]:
    return parse_roster(path.read_text(encoding="utf-8"), path.suffix.lstrip(".").lower())


def parse_roster(text: str, kind: str) -> list[ProxyAgent]:
    if kind == "json":
        rows = json.loads(text)
        if not isinstance(rows, list):
            raise InvalidCommand("proxy file: expected a JSON list of agents")
    elif kind == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
    else:
        raise InvalidCommand(f"proxy file: unsupported format '{kind}' (use .csv or .json)")
    return [_agent(row, number) for number, row in enumerate(rows, start=1)]


def _agent(row: Any, number: int) -> ProxyAgent:
    try:
        grids = row["grids"]
        if isinstance(grids, str):
            grids = grids.split(";")
        token = str(row.get("token") or "").strip() or None
        return ProxyAgent(id=str(row["id"]).strip(), name=str(row["name"]).strip(),
                          grids=tuple(str(g).strip() for g in grids if str(g).strip()),
                          token=token)
    except (KeyError, TypeError, AttributeError) as error:
        raise InvalidCommand(f"proxy file: row {number} is invalid ({error})") from None
