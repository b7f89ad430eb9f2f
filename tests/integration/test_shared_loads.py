"""The live runner's shared case loads (projections/shared_loads.py), on both stores: views that
miss a case together read it once and each get a state equal to its own load and independent
of the others'; a failed or short load, or an old one, is never handed out."""

from __future__ import annotations

import pickle
import threading
from typing import Any
from uuid import UUID

import pytest

from domain.petition import Petition
from projections.shared_loads import SharedLoads
from tests.integration.helpers import register_sample, run_steps


class Counted:
    """The application's load, counted; ``hold`` keeps the first load waiting until released
    and ``fail_first`` makes it raise (the store went away during it)."""

    def __init__(self, app: Any, *, hold: bool = False, fail_first: bool = False):
        self.app, self.calls, self.fail_first = app, 0, fail_first
        self.started, self.release = threading.Event(), threading.Event()
        if not hold:
            self.release.set()

    def __call__(self, case_id: UUID, version: int) -> Petition:
        self.calls += 1
        first = self.calls == 1
        self.started.set()
        self.release.wait(10)
        if first and self.fail_first:
            raise ConnectionError("the store went away")
        return self.app.get_petition(case_id, version=version)


def state(petition: Petition) -> bytes:
    """Everything a view computes from: the case's attributes (pickled, so nested values
    compare by content)."""
    return pickle.dumps(sorted(vars(petition).items()))


@pytest.fixture
def case(app, clock) -> tuple[UUID, int]:
    reg = register_sample(app)
    results = run_steps(app, clock, reg.case_id, until="supervise")
    return reg.case_id, results[-1].version


def _in_threads(loads: SharedLoads, loader: Counted, case_id: UUID, version: int, n: int
                ) -> list[Any]:
    """``n`` views ask for the case at once; the held first load is released once it has
    started, and each view's state (or error) is returned when all are done."""
    out: list[Any] = [None] * n

    def view(k: int) -> None:
        try:
            out[k] = loads(case_id, version)
        except Exception as error:  # noqa: BLE001 - asserted by the caller
            out[k] = error

    threads = [threading.Thread(target=view, args=(k,)) for k in range(n)]
    for thread in threads:
        thread.start()
    assert loader.started.wait(10)
    loader.release.set()
    for thread in threads:
        thread.join(10)
    return out


def test_views_missing_a_case_together_read_it_once_and_get_equal_independent_states(app, case):
    case_id, last = case
    version = last - 1
    loader = Counted(app, hold=True)
    loads = SharedLoads(loader)
    out = _in_threads(loads, loader, case_id, version, 3)
    assert loader.calls == 1 and loads.shared == 2
    direct = app.get_petition(case_id, version=version)
    assert all(p.version == version and state(p) == state(direct) for p in out)
    assert len({id(p) for p in out}) == 3
    following = app.events_of(case_id)[last - 1]  # the event at ``last``
    following.mutate(out[0])  # one view advances its case: the others' stay as loaded
    assert out[0].version == last and out[1].version == out[2].version == version
    assert state(out[1]) == state(direct)
    assert state(loads(case_id, version)) == state(direct) and loader.calls == 1


def test_a_failed_load_is_not_shared_each_view_reads_on_its_own(app, case):
    case_id, last = case
    loader = Counted(app, hold=True, fail_first=True)
    loads = SharedLoads(loader)
    out = _in_threads(loads, loader, case_id, last, 2)
    failed = [o for o in out if isinstance(o, ConnectionError)]
    loaded = [o for o in out if isinstance(o, Petition)]
    assert len(failed) == 1 and len(loaded) == 1 and loaded[0].version == last
    assert loader.calls == 2 and loads.shared == 0
    assert loads(case_id, last).version == last and loader.calls == 3  # the failure is gone
    assert loads(case_id, last).version == last and loader.calls == 3 and loads.shared == 1


def test_a_load_short_of_the_version_asked_is_not_shared(app, case):
    case_id, last = case
    loader = Counted(app)
    loads = SharedLoads(loader)
    assert loads(case_id, last + 5).version == last  # the store holds fewer events
    assert loads(case_id, last + 5).version == last
    assert loader.calls == 2 and loads.shared == 0


def test_an_old_load_is_read_again(app, case):
    case_id, last = case
    loader = Counted(app)
    loads = SharedLoads(loader, ttl=0.0)
    loads(case_id, last)
    loads(case_id, last)
    assert loader.calls == 2 and loads.shared == 0
