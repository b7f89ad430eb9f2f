"""docs/architecture.md's privacy table is the one in workflows/privacy.py."""

from __future__ import annotations

import re
from pathlib import Path

from workflows.privacy import PERSONAL_DATA, Audience

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"
COLUMNS = {"petitioner": Audience.PETITIONER, "staff": Audience.STAFF,
           "staff + pii": Audience.STAFF_PII, "auditor": Audience.AUDITOR,
           "auditor + pii": Audience.AUDITOR_PII, "subscriber": Audience.SUBSCRIBER}


def documented() -> dict[str, dict[Audience, str]]:
    block = DOC.read_text(encoding="utf-8").split("<!-- privacy-table -->", 1)[1]
    lines = [line for line in block.strip().splitlines() if line.startswith("|")]
    head = [cell.strip() for cell in lines[0].strip("|").split("|")]
    table = {}
    for line in lines[2:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if found := re.match(r"`([\w.]+)`", cells[0]):
            table[found[1]] = {COLUMNS[h]: c for h, c in zip(head[1:], cells[1:], strict=True)}
    return table


def test_the_documented_table_is_the_code_table() -> None:
    code = {field: {a: t.value for a, t in by.items()} for field, by in PERSONAL_DATA.items()}
    assert documented() == code
