"""The service index (信访"家门口"服务指数): indicators turned into 100 points and a grade.

The formula is data (``adapters/data/index.toml``, read by ``adapters/index_file.py``): five
dimensions, their indicators with points and the values that earn none and all of them, the
grade thresholds and the minimum case count. Scoring only adds up what the formula says, and
returns the breakdown (every indicator's value, numerator, denominator and points), so a
score can always be explained.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidCommand
from projections.indicators import INDICATORS, Figure

NOT_RATED = "不参评"
FAIL = "不合格"


@dataclass(frozen=True)
class IndexIndicator:
    name: str
    points: float
    zero: float
    full: float

    def earned(self, value: float) -> float:
        share = (value - self.zero) / (self.full - self.zero)
        return self.points * min(1.0, max(0.0, share))


@dataclass(frozen=True)
class Dimension:
    key: str
    name: str
    points: float
    indicators: tuple[IndexIndicator, ...]
    has_source: bool
    note: str


@dataclass(frozen=True)
class IndexFormula:
    dimensions: tuple[Dimension, ...]
    grades: tuple[tuple[str, float], ...]  # highest threshold first
    min_cases: int

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> IndexFormula:
        """Checks the formula as it loads: known indicators, points adding up, full ≠ zero."""
        try:
            dimensions = tuple(_dimension(d) for d in data["dimension"])
            grades = tuple(sorted(((str(k), float(v)) for k, v in data["grades"].items()),
                                  key=lambda g: -g[1]))
            min_cases = int(data.get("min_cases", 1))
        except (KeyError, TypeError, ValueError) as error:
            raise InvalidCommand(f"index formula: missing or bad {error}") from None
        total = sum(d.points for d in dimensions)
        if abs(total - 100) > 1e-9:
            raise InvalidCommand(f"index formula: dimensions add up to {total}, not 100")
        return cls(dimensions, grades, min_cases)

    def grade(self, score: float) -> str:
        for name, lowest in self.grades:
            if score >= lowest:
                return name
        return FAIL


def _dimension(d: Mapping[str, Any]) -> Dimension:
    indicators = tuple(IndexIndicator(str(i["name"]), float(i["points"]), float(i["zero"]),
                                      float(i["full"])) for i in d.get("indicator", ()))
    has_source = d.get("source", "events") != "none"
    for i in indicators:
        if i.name not in INDICATORS:
            raise InvalidCommand(f"index formula: unknown indicator '{i.name}'")
        if i.full == i.zero:
            raise InvalidCommand(f"index formula: '{i.name}' has full = zero")
    points = float(d["points"])
    if has_source and abs(sum(i.points for i in indicators) - points) > 1e-9:
        raise InvalidCommand(f"index formula: indicators of '{d['key']}' do not add up to "
                             f"{points}")
    if not has_source and indicators:
        raise InvalidCommand(f"index formula: '{d['key']}' has no source but indicators")
    return Dimension(str(d["key"]), str(d["name"]), points, indicators, has_source,
                     " ".join(str(d.get("note", "")).split()))


def score(formula: IndexFormula, figures: list[Figure]) -> dict[str, Any]:
    """The score out of 100, its grade and the breakdown; "not rated" under ``min_cases``.

    Points without data (no source, or no case in an indicator's denominator) are left out of
    both what was earned and what could be earned, so the missing weight is carried
    proportionally by what exists and the breakdown says so.
    """
    by_name = {f.name: f for f in figures}
    received = by_name["received"].numerator
    dims, earned, possible = [], 0.0, 0.0
    for d in formula.dimensions:
        rows = []
        for i in d.indicators:
            figure = by_name[i.name]
            got = None if figure.value is None else i.earned(figure.value)
            rows.append({"indicator": i.name, "value": figure.value,
                         "numerator": figure.numerator, "denominator": figure.denominator,
                         "points": None if got is None else round(got, 4), "max_points": i.points,
                         "zero": i.zero, "full": i.full})
            if got is not None:
                earned, possible = earned + got, possible + i.points
        dims.append({"key": d.key, "name": d.name, "points": d.points,
                     "earned": round(sum(r["points"] or 0 for r in rows), 4),
                     "counted": sum(r["max_points"] for r in rows if r["points"] is not None),
                     "has_source": d.has_source, "note": d.note, "indicators": rows})
    rated = received >= formula.min_cases and possible > 0
    value = round(100 * earned / possible, 2) if rated else None
    return {"score": value, "grade": formula.grade(value) if value is not None else NOT_RATED,
            "received": received, "min_cases": formula.min_cases,
            "points_counted": possible, "dimensions": dims}
