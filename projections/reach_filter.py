"""The access rule's reach (workflows.access.Reach) as a SQL condition on a read model's rows.

Lists and queues filter with this, reading one case checks ``Reach.covers``: both test the same
case fields against the same units, so a listed case is always readable and the reverse.
"""

from __future__ import annotations

from typing import Any

from workflows.access import Reach


def reach_clause(reach: Reach, columns: dict[str, str]) -> tuple[str, list[Any]]:
    """SQL true for rows whose stored reach fields (case field → column) meet ``reach``."""
    units = sorted(reach.units)
    if not units:
        return "1 = 0", []
    marks = ", ".join("?" for _ in units)
    parts = [f"{columns[field]} IN ({marks})" for field in reach.through]
    return "(" + " OR ".join(parts) + ")", [u for _ in reach.through for u in units]
