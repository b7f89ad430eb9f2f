"""The organisation chart: responsible units in a city → district → street → community → grid
tree (a grid, 网格, is the smallest cell of grassroots governance: proxy agents serve grids).

The operator supplies it as data (see adapters/org_file.py); escalation goes up this tree and
delegation stays inside the holding unit's subtree.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from domain.errors import InvalidCommand, UnknownUnit


class UnitLevel(StrEnum):
    CITY = "city"  # 市
    DISTRICT = "district"  # 区/县
    STREET = "street"  # 街道/乡镇
    COMMUNITY = "community"  # 社区/村
    GRID = "grid"  # 网格: a block of a community, served by grid workers and proxy agents

    @property
    def rank(self) -> int:
        return list(UnitLevel).index(self)


@dataclass(frozen=True)
class Unit:
    id: str
    name: str
    level: UnitLevel
    parent: str | None = None


class OrgChart:
    """An immutable, validated tree of units with the ancestry queries the rules need."""

    def __init__(self, units: Iterable[Unit]):
        self._units: dict[str, Unit] = {}
        for unit in units:
            if unit.id in self._units:
                raise InvalidCommand(f"unit '{unit.id}' is listed twice")
            self._units[unit.id] = unit
        self._children: dict[str, list[str]] = {uid: [] for uid in self._units}
        for unit in self._units.values():
            self._check_parent(unit)
            if unit.parent is not None:
                self._children[unit.parent].append(unit.id)

    def _check_parent(self, unit: Unit) -> None:
        if unit.parent is None:
            return
        parent = self._units.get(unit.parent)
        if parent is None:
            raise InvalidCommand(f"unit '{unit.id}' has unknown parent '{unit.parent}'")
        if parent.level.rank >= unit.level.rank:
            raise InvalidCommand(
                f"unit '{unit.id}' ({unit.level}) cannot sit under '{parent.id}' ({parent.level})"
            )

    def __iter__(self) -> Iterator[Unit]:
        return iter(self._units.values())

    def __len__(self) -> int:
        return len(self._units)

    def __contains__(self, unit_id: object) -> bool:
        return unit_id in self._units

    def get(self, unit_id: str) -> Unit:
        try:
            return self._units[unit_id]
        except KeyError:
            raise UnknownUnit(unit_id) from None

    def name_of(self, unit_id: str) -> str:
        """The unit's name for display; the id itself for a unit not on the chart (a case or
        a figure may name a unit that a later chart dropped)."""
        unit = self._units.get(unit_id)
        return unit.name if unit is not None else unit_id

    def ancestors(self, unit_id: str) -> list[str]:
        """Ids from the parent up to the root (levels strictly decrease, so no cycles)."""
        chain: list[str] = []
        parent = self.get(unit_id).parent
        while parent is not None:
            chain.append(parent)
            parent = self._units[parent].parent
        return chain

    def is_within(self, unit_id: str, root_id: str) -> bool:
        """True when ``unit_id`` is ``root_id`` or lies below it."""
        self.get(root_id)
        return unit_id == root_id or root_id in self.ancestors(unit_id)

    def subtree(self, root_id: str) -> list[str]:
        """``root_id`` and every unit below it, depth first."""
        self.get(root_id)
        out, stack = [], [root_id]
        while stack:
            uid = stack.pop()
            out.append(uid)
            stack.extend(reversed(self._children[uid]))
        return out
