"""The proxy service in generated data: the entrustment (委托书) a generated agent files under.

Deterministic without drawing from the generators' random streams (a draw here would shift
every later case of a seeded run): the grid and the form follow from the street's id.
"""

from __future__ import annotations

import zlib
from datetime import datetime, timedelta

from domain.units import OrgChart, UnitLevel
from domain.values import ProxyForm, ProxyScope
from workflows.commands import EntrustmentIn

PERIOD = timedelta(days=180)  # a half-year entrustment, renewed by signing again
SCOPE = [ProxyScope.FILE, ProxyScope.FOLLOW, ProxyScope.REVIEW]


def grids_of(org: OrgChart, unit: str) -> list[str]:
    return [u for u in org.subtree(unit) if org.get(u).level is UnitLevel.GRID]


def entrustment(org: OrgChart, street: str, at: datetime, salt: str = "") -> EntrustmentIn:
    """The entrustment of a petitioner in one of ``street``'s grids, signed at ``at``."""
    grids = grids_of(org, street)
    pick = zlib.crc32(f"{street}/{salt}".encode())
    return EntrustmentIn(form=list(ProxyForm)[pick % len(ProxyForm)],
                         grid=grids[pick % len(grids)], scope=SCOPE, valid_until=at + PERIOD)
