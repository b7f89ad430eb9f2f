"""A page of cases is read in one statement, and equals the cases read one by one.

The overdue page (API and CLI) gives each row the case's ladder, which needs the case: read
through the repository that was a read of the store per case (two for a case not in the
aggregate cache). ``PetitionApplication.get_petitions`` reads the page's cases together
(adapters/persistence/case_histories.py); on SQLite and PostgreSQL, warm cache or cold, the
number of reads does not grow with the page, and the cases are the repository's own — also
for histories another process extended after this one cached the case.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from adapters.wiring import build_application
from projections.queries import overdue_with_ladder
from projections.runner import catch_up, supervision_queue
from tests.integration.helpers import LIFECYCLE, STEP_NAMES, register_sample, run_steps
from tests.views import views_of
from workflows.application import PetitionApplication
from workflows.errors import CaseNotFound
from workflows.ladder_status import ladder_status


@contextmanager
def counted_reads(app: PetitionApplication) -> Iterator[list[str]]:
    """Every read of the event store the application makes (each is one statement)."""
    reads: list[str] = []

    def counting(name: str, read: Callable[..., Any]) -> Callable[..., Any]:
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            reads.append(name)
            return read(*args, **kwargs)
        return wrapped

    recorders = [app.recorder, *([app.snapshots.recorder] if app.snapshots else [])]
    batch = getattr(app, "case_batch", None)
    for recorder in recorders:
        recorder.select_events = counting("select_events", recorder.select_events)  # type: ignore[method-assign]
    if batch is not None and batch.events_after is not None:
        app.case_batch = dataclasses.replace(
            batch, events_after=counting("events_after", batch.events_after))
    try:
        yield reads
    finally:
        for recorder in recorders:
            del recorder.select_events
        if batch is not None:
            app.case_batch = batch


def _overdue_cases(app: PetitionApplication, n: int) -> list[UUID]:
    return [register_sample(app).case_id for _ in range(n)]  # acceptance due in 10 days


def _page(app: PetitionApplication, clock: Any) -> list[dict[str, Any]]:
    catch_up(app, views_of(app), "supervision_queue")
    rows, _ = overdue_with_ladder(app, supervision_queue(views_of(app)), clock.now(), limit=50)
    return rows


@pytest.mark.parametrize("cold", [False, True], ids=["cached", "fresh process"])
def test_an_overdue_page_reads_the_store_once_whatever_its_size(app, settings, clock, cold):
    reads_by_size = {}
    ladders_by_size = {}
    for n, more in ((2, 2), (9, 7)):
        _overdue_cases(app, more)
        clock.advance(timedelta(days=30))
        reader = build_application(settings, clock=clock) if cold else app
        try:
            with counted_reads(reader) as reads:
                rows = _page(reader, clock)
            assert len(rows) == n
            reads_by_size[n] = reads
            ladders_by_size[n] = [row["ladder"] for row in rows]
            # the same ladders as read case by case
            assert ladders_by_size[n] == [ladder_status(reader, row["case_id"], row["kind"])
                                          for row in rows]
        finally:
            if cold:
                reader.close()
    assert reads_by_size[2] == reads_by_size[9] == ["events_after"]
    assert all(ladder["next_rung"] is not None for ladder in ladders_by_size[9])


def test_a_missing_case_is_not_found_as_one_by_one(app):
    case_id = register_sample(app).case_id
    with pytest.raises(CaseNotFound):
        app.get_petitions([case_id, UUID(int=7)])


cases = st.lists(st.tuples(st.integers(0, len(STEP_NAMES)),  # steps before this app reads it
                           st.integers(0, 3),  # steps another process adds afterwards
                           st.booleans()),  # evicted from this process's cache
                 min_size=1, max_size=6)


@hsettings(max_examples=12, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(drawn=cases)
def test_cases_read_together_equal_the_repositorys_one_by_one(app, settings, clock, drawn):
    other = build_application(settings, clock=clock)  # another process writing the same store
    try:
        ids: list[UUID] = []
        for first, later, evicted in drawn:
            case_id = register_sample(app).case_id
            done = min(first, len(STEP_NAMES))
            if done:
                run_steps(app, clock, case_id, until=STEP_NAMES[done - 1])
            app.get_petition(case_id)  # cached here at this version
            for name in STEP_NAMES[done:done + later]:
                run_steps_from(other, clock, case_id, name)
            if evicted and app.repository.cache is not None:
                app.repository.cache.get(case_id, evict=True)
            ids.append(case_id)
        together = app.get_petitions([*ids, ids[0]])  # a repeated id is read once
        fresh = build_application(settings, clock=clock)
        try:
            for case_id in ids:
                alone = fresh.get_petition(case_id)  # the repository's, from a cold cache
                assert together[case_id] == alone
                assert together[case_id].version == alone.version
                assert app.get_petition(case_id) == alone  # the cache left consistent
        finally:
            fresh.close()
    finally:
        other.close()


def run_steps_from(app: PetitionApplication, clock: Any, case_id: UUID, name: str) -> None:
    """The lifecycle step ``name`` alone (the ones before it are already done)."""
    clock.advance(timedelta(days=1))
    app.execute(dict(LIFECYCLE)[name](case_id))


def test_a_long_case_read_together_equals_the_one_loaded_from_its_snapshot(app, settings, clock):
    """A case of more than 50 events has snapshots (``snapshotting_intervals``): the repository
    loads it from the latest one and the events after it, the batch read from all its events.
    Both must give the same case, from a cold cache and from a cached older version."""
    from workflows import commands as c

    long_case, short_case = register_sample(app).case_id, register_sample(app).case_id
    app.get_petition(long_case)  # cached here at version 1
    other = build_application(settings, clock=clock)  # the rest is written by another process
    try:
        for _ in range(120):
            clock.advance(timedelta(hours=1))
            other.execute(c.IssueSupervision(case_id=long_case, actor="s", level="reminder",
                                             reason="催办"))
    finally:
        other.close()
    assert app.snapshots is not None and list(app.snapshots.get(long_case))  # snapshotted
    fresh = build_application(settings, clock=clock)
    try:
        alone = fresh.repository.get(long_case)  # the library's: from the latest snapshot
        assert alone.version == 121
        for reader in (app, fresh):  # app: cached at version 1; fresh: evicted, cold
            if reader is fresh and reader.repository.cache is not None:
                reader.repository.cache.get(long_case, evict=True)
            together = reader.get_petitions([long_case, short_case])
            assert together[long_case] == alone and together[long_case].version == 121
    finally:
        fresh.close()


def test_one_case_is_one_read_cached_or_not_and_a_cached_version_none(app, settings, clock):
    """``get_petition`` reads a case as a page is read: one statement whether this process
    has it cached (its newer events) or not (all its events; the library read its snapshot
    first). At a version this process holds in its cache (a command's answer) it reads
    nothing; at another version it reads the store. Each equals the library's own read."""
    from workflows import commands as c

    case_id = register_sample(app).case_id
    app.execute(c.AcceptPetition(case_id=case_id, actor="intake", handling_track="claim",
                                 speed_track="general"))
    fresh = build_application(settings, clock=clock)
    try:
        for reader in (fresh, fresh, app):  # cold, then cached; app: cached by its save
            with counted_reads(reader) as reads:
                read = reader.get_petition(case_id)
            assert len(reads) == 1
            assert read == fresh.repository.get(case_id) and read.version == 2
        with counted_reads(app) as reads:
            at_two = app.get_petition(case_id, version=2)  # as the accept left it: cached
        assert reads == [] and at_two == fresh.repository.get(case_id, version=2)
        with counted_reads(app) as reads:
            at_one = app.get_petition(case_id, version=1)  # not what the cache holds
        assert reads and at_one == fresh.repository.get(case_id, version=1)
        assert at_one.version == 1 and at_one.status != at_two.status
        with pytest.raises(CaseNotFound):
            fresh.get_petition(UUID(int=7))
    finally:
        fresh.close()
