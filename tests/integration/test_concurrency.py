"""Lost races are refused, never lost: optimistic concurrency on the case's version.

Several application instances (as several worker processes would) share one store. A command
that loaded the case before another one changed it must fail with ConcurrentModification,
append nothing, and succeed when retried on fresh state.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from adapters.wiring import build_application
from domain import events as ev
from domain.errors import IllegalTransition
from domain.values import Status
from tests.integration.helpers import dump_store, register_sample
from workflows import commands as c
from workflows.application import CommandResult
from workflows.errors import ConcurrentModification

THREADS = 8


def _accept(case_id, actor="intake"):
    return c.AcceptPetition(case_id=case_id, actor=actor, handling_track="claim",
                            speed_track="general")


@pytest.fixture
def second_app(settings, clock):
    application = build_application(settings, clock=clock)
    yield application
    application.close()


def test_both_instances_see_the_same_case(app, second_app):
    case_id = register_sample(app).case_id
    assert second_app.get_petition(case_id) == app.get_petition(case_id)


def test_stale_writer_gets_concurrent_modification_and_appends_nothing(
    app, second_app, settings, clock
):
    case_id = register_sample(app).case_id
    clock.advance(timedelta(hours=1))
    seen = {}
    real_save = second_app.save

    def save_after_the_other_instance_wrote(*objects, **kwargs):
        # second_app has loaded version 1 and decided; now the first instance gets in first.
        assert objects[0].version == 2  # the pending Accepted is built on version 1
        app.execute(c.IssueSupervision(case_id=case_id, actor="sup", level="reminder",
                                         reason="催办"))
        seen["dump"] = dump_store(settings)
        return real_save(*objects, **kwargs)

    second_app.save = save_after_the_other_instance_wrote
    with pytest.raises(ConcurrentModification) as raised:
        second_app.execute(_accept(case_id, "stale"))
    del second_app.save

    assert raised.value.case_id == case_id
    assert dump_store(settings) == seen["dump"]  # the failed save left no row behind
    assert [type(e) for e in app.events_of(case_id)] == [ev.Registered, ev.SupervisionIssued]

    # re-read and retry: the same command now succeeds on top of the other's change
    retried = second_app.execute(_accept(case_id, "stale"))
    assert retried.version == 3
    assert retried.status == Status.ACCEPTED.value
    events = app.events_of(case_id)
    assert [type(e) for e in events] == [ev.Registered, ev.SupervisionIssued, ev.Accepted]
    assert events[-1].actor == "stale"


def test_changes_through_either_instance_interleave_without_conflict(app, second_app, clock):
    """Without a stale read there is no conflict: each instance re-reads the case."""
    case_id = register_sample(app).case_id
    clock.advance(timedelta(hours=1))
    app.execute(_accept(case_id))
    clock.advance(timedelta(hours=1))
    result = second_app.execute(c.DelegatePetition(case_id=case_id, actor="d", unit="QH-D01-S01"))
    assert result.version == 3
    assert app.get_petition(case_id).status is Status.IN_HANDLING


def test_only_one_of_many_concurrent_accepts_wins(app, settings, clock):
    case_id = register_sample(app).case_id
    clock.advance(timedelta(hours=1))
    apps = [build_application(settings, clock=clock) for _ in range(THREADS)]
    # every instance must have loaded version 1 before anyone saves: a barrier in save()
    barrier = threading.Barrier(THREADS, timeout=30)
    for instance in apps:
        real_save = instance.save

        def save_together(*objects, _real=real_save, **kwargs):
            barrier.wait()
            return _real(*objects, **kwargs)

        instance.save = save_together

    def attempt(index):
        try:
            return apps[index].execute(_accept(case_id, f"worker-{index}"))
        except ConcurrentModification as error:
            return error

    try:
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            outcomes = list(pool.map(attempt, range(THREADS)))
    finally:
        for instance in apps:
            instance.close()

    winners = [o for o in outcomes if isinstance(o, CommandResult)]
    losers = [o for o in outcomes if isinstance(o, ConcurrentModification)]
    assert len(winners) == 1, outcomes
    assert len(losers) == THREADS - 1, outcomes
    assert winners[0].version == 2

    events = app.events_of(case_id)
    assert [type(e) for e in events] == [ev.Registered, ev.Accepted]
    assert events[1].actor == f"worker-{outcomes.index(winners[0])}"
    assert app.get_petition(case_id).status is Status.ACCEPTED


def test_a_cached_case_is_brought_up_to_date_before_a_command_decides(app, second_app, clock):
    """Each instance keeps recently used cases in memory (the aggregate cache); a command
    still decides on what any other instance recorded since, not on the cached state."""
    assert app.repository.cache is not None
    case_id = register_sample(app).case_id
    assert app.get_petition(case_id).status is Status.REGISTERED  # now cached at version 1
    clock.advance(timedelta(hours=1))
    second_app.execute(c.DeclinePetition(case_id=case_id, actor="other", reason="诉讼",
                                         redirect_to="litigation"))
    clock.advance(timedelta(hours=1))
    with pytest.raises(IllegalTransition):  # a stale decision would have been a lost race
        app.execute(_accept(case_id))
    assert app.get_petition(case_id).status is Status.DECLINED
    assert [type(e) for e in app.events_of(case_id)] == [ev.Registered, ev.Declined]


def test_a_refused_command_leaves_the_cached_case_untouched(app, clock):
    case_id = register_sample(app).case_id
    before = app.get_petition(case_id)
    clock.advance(timedelta(hours=1))
    with pytest.raises(IllegalTransition):
        app.execute(c.AnswerPetition(case_id=case_id, actor="h", unit="QH-D01-S01", answer="x"))
    after = app.get_petition(case_id)
    assert after == before and after.version == 1 and not after.collect_events()


def test_a_case_cached_at_its_own_save_still_sees_later_changes_elsewhere(app, second_app, clock):
    """After a command the instance keeps the case as it saved it; another instance's change
    made afterwards is still what the next command decides on."""
    case_id = register_sample(app).case_id
    clock.advance(timedelta(hours=1))
    app.execute(_accept(case_id))  # app's cache: the case at version 2, as saved
    assert app.repository.cache.get(case_id).version == 2
    clock.advance(timedelta(hours=1))
    second_app.execute(c.DelegatePetition(case_id=case_id, actor="d", unit="QH-D01-S01"))
    clock.advance(timedelta(hours=1))
    result = app.execute(c.AnswerPetition(case_id=case_id, actor="h", unit="QH-D01-S01",
                                         answer="已处理。"))
    assert result.version == 4 and result.status == Status.ANSWERED.value
    assert [type(e) for e in app.events_of(case_id)] == [
        ev.Registered, ev.Accepted, ev.Delegated, ev.Answered]


def test_a_stale_cached_copy_is_refused_by_the_store_and_decided_again(app, second_app, clock):
    """A command on a cached case decides without reading the store; when another instance
    appended meanwhile, the save's version key refuses the stale decision and the command is
    decided again on the stored case — never stored on top of the old state, never lost."""
    case_id = register_sample(app).case_id  # app's cache: version 1
    clock.advance(timedelta(hours=1))
    second_app.execute(c.IssueSupervision(case_id=case_id, actor="sup", level="reminder",
                                          reason="催办"))
    clock.advance(timedelta(hours=1))
    result = app.execute(_accept(case_id))  # decided on version 1, refused, decided on 2
    assert result.version == 3 and result.status == Status.ACCEPTED.value
    events = app.events_of(case_id)
    assert [type(e) for e in events] == [ev.Registered, ev.SupervisionIssued, ev.Accepted]
    assert [e.originator_version for e in events] == [1, 2, 3]
    assert app.repository.cache.get(case_id).version == 3


def test_a_command_on_a_case_this_instance_saved_reads_none_of_its_events(app, clock):
    """The cached case is up to date unless another process wrote: the command reads no
    event of it (the save's version key is the check)."""
    from tests.integration.test_case_batch import counted_reads

    case_id = register_sample(app).case_id
    with counted_reads(app) as reads:  # the library's reads and the one-statement case read
        clock.advance(timedelta(hours=1))
        app.execute(_accept(case_id))
        clock.advance(timedelta(hours=1))
        app.execute(c.DelegatePetition(case_id=case_id, actor="d", unit="QH-D01-S01"))
        assert reads == []
        clock.advance(timedelta(hours=1))
        with pytest.raises(IllegalTransition):  # a refusal reads: was the case moved on?
            app.execute(_accept(case_id))
        assert len(reads) == 1
    assert [type(e) for e in app.events_of(case_id)] == [ev.Registered, ev.Accepted,
                                                         ev.Delegated]
