"""The roll-ups' pure parts: how a period is tiled by buckets, and which cases are repeats."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from projections.analysis_rollups import buckets, local_day, pieces, repeats
from projections.indicators import REPEAT_WINDOW
from projections.periods import Period

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31))


def _days_of(grain: str, bucket: str) -> list[date]:
    first = date.fromisoformat(bucket)
    if grain == "m":
        following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return [first + timedelta(days=n) for n in range((following - first).days)]
    return [first + timedelta(days=n) for n in range({"d": 1, "w": 7}[grain])]


@given(first=days, length=st.integers(0, 800))
def test_pieces_tile_the_period_with_whole_buckets(first, length):
    period = Period("range", first, first + timedelta(days=length))
    covered = []
    for grain, bucket in pieces(period):
        for day in _days_of(grain, bucket):
            assert (grain, bucket) in buckets(day)  # the bucket each day is counted in
            covered.append(day)
    assert covered == [first + timedelta(days=n) for n in range(length + 1)]


def test_a_month_and_an_iso_week_are_one_piece_each():
    assert pieces(Period("month", date(2026, 3, 1), date(2026, 3, 31))) == [("m", "2026-03-01")]
    assert pieces(Period("week", date(2026, 3, 2), date(2026, 3, 8))) == [("w", "2026-03-02")]
    assert len(pieces(Period("year", date(2025, 1, 1), date(2025, 12, 31)))) == 12


cases = st.lists(st.tuples(st.sampled_from(["a", "b", None]), st.sampled_from(["x", "y"]),
                           st.integers(0, 800), st.integers(0, 99)), max_size=25)


@given(cases=cases, start=st.sampled_from([datetime(2025, 1, 1, tzinfo=UTC),
                                            datetime(1, 1, 1, tzinfo=UTC)]))  # the calendar's start
def test_repeats_match_every_pair(cases, start):
    rows = [{"case_id": f"{n:03d}-{tie}", "petitioner_key": key, "category": cat,
             "registered_at": start + timedelta(days=day)}
            for n, (key, cat, day, tie) in enumerate(cases)]
    got = repeats(rows)
    for r in rows:
        want = bool(r["petitioner_key"]) and any(
            (o["petitioner_key"], o["category"]) == (r["petitioner_key"], r["category"])
            and (o["registered_at"], o["case_id"]) < (r["registered_at"], r["case_id"])
            and r["registered_at"] - o["registered_at"] <= REPEAT_WINDOW for o in rows)
        assert got[r["case_id"]] == int(want)


def test_the_last_hours_of_the_calendar_fall_on_its_last_local_day():
    """After 9999-12-31 15:54 UTC it is year 10000 in Shanghai: counted on the last day."""
    last = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)
    assert local_day(last) == date.max and buckets(local_day(last))[0] == ("d", "9999-12-31")
    assert local_day(datetime(1, 1, 1, tzinfo=UTC)) == date(1, 1, 1)
