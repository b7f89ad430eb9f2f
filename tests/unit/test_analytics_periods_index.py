"""Reporting periods (local midnight in Asia/Shanghai) and the service index's arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.index_file import load_index_formula
from domain.errors import InvalidCommand
from projections.indicators import INDICATORS, Figure
from projections.periods import parse_period
from projections.service_index import NOT_RATED, IndexFormula, score

CST = timezone(timedelta(hours=8))


def test_a_month_runs_from_local_midnight_to_local_midnight():
    october = parse_period("2026-10")
    assert october.start == datetime(2026, 9, 30, 16, 0, tzinfo=UTC)
    assert october.end == datetime(2026, 10, 31, 16, 0, tzinfo=UTC)
    assert october.contains(datetime(2026, 10, 31, 23, 59, 59, tzinfo=CST))
    assert not october.contains(datetime(2026, 11, 1, 0, 0, tzinfo=CST))
    assert october.contains(datetime(2026, 10, 1, 0, 0, tzinfo=CST))
    assert not october.contains(datetime(2026, 9, 30, 15, 59, 59, tzinfo=UTC))


@pytest.mark.parametrize(("label", "kind", "first", "last", "previous", "year_before"), [
    ("2026", "year", "2026-01-01", "2026-12-31", "2025", "2025"),
    ("2026-Q1", "quarter", "2026-01-01", "2026-03-31", "2025-Q4", "2025-Q1"),
    ("2026-03", "month", "2026-03-01", "2026-03-31", "2026-02", "2025-03"),
    ("2026-W01", "week", "2025-12-29", "2026-01-04", "2025-W52", "2025-W01"),
    ("2026-02-28", "day", "2026-02-28", "2026-02-28", "2026-02-27", "2025-02-28"),
    ("2026-10-01..2026-10-15", "range", "2026-10-01", "2026-10-15",
     "2026-09-16..2026-09-30", "2025-10-01..2025-10-15"),
])
def test_labels_previous_periods_and_the_year_before(label, kind, first, last, previous,
                                                     year_before):
    period = parse_period(label)
    assert (period.kind, period.first.isoformat(), period.last.isoformat()) == (kind, first, last)
    assert period.label == label
    assert period.previous().label == previous
    assert period.year_before().label == year_before


@pytest.mark.parametrize("label", ["", "2026-13", "2026-00", "2026-Q5", "2026-W54", "2021-W53",
                                   "2026-02-30", "26-10", "2026-10-15..2026-10-01",
                                   "2020-01-01..2026-01-01", "0001", "next month"])
def test_bad_periods_are_refused_by_name(label):
    with pytest.raises(InvalidCommand, match=r"bad (period|range)"):
        parse_period(label)


@given(st.text(max_size=30))
def test_any_text_is_a_period_or_a_clear_refusal(text):
    try:
        period = parse_period(text)
    except InvalidCommand:
        return
    assert period.start < period.end


@given(st.dates(min_value=datetime(1971, 1, 1).date(), max_value=datetime(2998, 1, 1).date()))
def test_consecutive_months_tile_time(day):
    month = parse_period(f"{day.year}-{day.month:02d}")
    assert month.previous().end == month.start
    assert month.contains(datetime.combine(day, datetime.min.time(), tzinfo=CST))


# ---------------------------------------------------------------------------- the index
def _figures(value: float | None, received: int = 10) -> list[Figure]:
    figures = [Figure(name, 0, 1 if value is not None else 0, value) for name in INDICATORS]
    figures[0] = Figure("received", received, received, float(received))
    return figures


FORMULA = IndexFormula.from_mapping({
    "min_cases": 5,
    "grades": {"优秀": 90, "良好": 80, "合格": 60},
    "dimension": [
        {"key": "a", "name": "A", "points": 60,
         "indicator": [{"name": "satisfaction", "points": 60, "zero": 0.0, "full": 1.0}]},
        {"key": "b", "name": "B", "points": 30,
         "indicator": [{"name": "repeat_share", "points": 30, "zero": 1.0, "full": 0.0}]},
        {"key": "c", "name": "C", "points": 10, "source": "none"},
    ],
})


@pytest.mark.parametrize(("value", "grade"), [(0.9, "优秀"), (0.8999, "良好"), (0.8, "良好"),
                                             (0.7999, "合格"), (0.6, "合格"), (0.5999, "不合格")])
def test_grades_at_their_thresholds(value, grade):
    """satisfaction = v earns 60v of 60, repeat_share = v earns 30(1 − v) of 30."""
    figures = [f if f.name not in ("satisfaction",) else Figure(f.name, 1, 1, value)
               for f in _figures(None)]
    result = score(FORMULA, figures)
    assert result["score"] == pytest.approx(100 * value, abs=0.01)
    assert result["grade"] == grade
    assert result["points_counted"] == 60  # repeat_share had no case, C has no source


def test_missing_data_is_carried_by_what_exists_not_invented():
    result = score(FORMULA, _figures(0.5))
    a, b, c = result["dimensions"]
    assert (a["earned"], b["earned"], c["earned"]) == (30, 15, 0)
    assert c["has_source"] is False and result["points_counted"] == 90
    assert result["score"] == pytest.approx(50.0)


def test_too_few_cases_is_not_rated():
    result = score(FORMULA, _figures(1.0, received=4))
    assert (result["score"], result["grade"]) == (None, NOT_RATED)


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["dimension"][0]["indicator"][0].update(name="nonsense"), "unknown indicator"),
    (lambda d: d["dimension"][0].update(points=50), "do not add up"),
    (lambda d: d["dimension"][1]["indicator"][0].update(full=1.0), "full = zero"),
    (lambda d: d.pop("grades"), "missing or bad"),
])
def test_a_bad_formula_is_refused_by_name(change, message):
    data = {
        "grades": {"优秀": 90},
        "dimension": [
            {"key": "a", "name": "A", "points": 60,
             "indicator": [{"name": "satisfaction", "points": 60, "zero": 0.0, "full": 1.0}]},
            {"key": "b", "name": "B", "points": 40,
             "indicator": [{"name": "repeat_share", "points": 40, "zero": 1.0, "full": 0.0}]},
        ],
    }
    change(data)
    with pytest.raises(InvalidCommand, match=message):
        IndexFormula.from_mapping(data)


def test_the_packaged_formula_has_five_dimensions_of_100_points():
    formula = load_index_formula()
    assert [d.name for d in formula.dimensions] == ["领导责任", "法治规范", "多元化解", "建议征集",
                                                    "基层治理"]
    assert sum(d.points for d in formula.dimensions) == 100
    assert [g for g, _ in formula.grades] == ["优秀", "良好", "合格"]
    suggestions = next(d for d in formula.dimensions if d.key == "suggestion_collection")
    assert suggestions.has_source  # issue 15: the 三项建议权 on the unit's cases
    assert [i.name for i in suggestions.indicators] == ["suggestion_responded"]
