"""Answers on different cases of one petitioner do not contend (issue: the index's shared write).

The concluded-matter index (不再受理) used to be one record per petitioner, written by the first
answer of each of their cases: two handlers answering two cases of one petitioner at the same
moment collided on it, and the loser's whole command was decided again (up to 40 times). Each
answer now writes a record of its own case only, so such answers never collide. Two API
workers (two applications on one store) answer pairs of cases at once, released together by a
barrier; every save that loses a race is counted. On both stores.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from eventsourcing.persistence import IntegrityError

from adapters.wiring import build_application
from tests.integration.helpers import LIFECYCLE, SAMPLE_PETITIONER, register_sample, run_steps
from workflows.application import PetitionApplication

PAIRS = 6
ANSWER = dict(LIFECYCLE)["answer"]


def _counting(app: PetitionApplication, conflicts: list[int]) -> PetitionApplication:
    """Counts the saves of ``app`` that lose a race (the store refuses a version taken)."""
    save = app.save

    def counted(*objs: Any, **kwargs: Any) -> Any:
        try:
            return save(*objs, **kwargs)
        except IntegrityError:
            conflicts.append(1)
            raise

    app.save = counted  # type: ignore[method-assign]
    return app


def test_two_workers_answering_one_petitioners_cases_at_once_never_conflict(
        app, settings, clock):
    cases = [register_sample(app, petitioner=SAMPLE_PETITIONER, subject=f"事项 {n}").case_id
             for n in range(2 * PAIRS)]
    for case_id in cases:
        run_steps(app, clock, case_id, until="supervise")
    conflicts: list[int] = []
    workers = [_counting(build_application(settings, clock=clock), conflicts) for _ in range(2)]
    barrier = threading.Barrier(2)

    def answer(worker: int, case_id) -> int:
        barrier.wait(timeout=30)
        return workers[worker].execute(ANSWER(case_id)).version

    try:
        with ThreadPoolExecutor(2) as pool:
            for pair in range(PAIRS):
                a, b = cases[2 * pair], cases[2 * pair + 1]
                done = [pool.submit(answer, 0, a), pool.submit(answer, 1, b)]
                assert all(f.result(timeout=60) > 0 for f in done)
    finally:
        for worker in workers:
            worker.close()
    assert conflicts == []  # no answer lost a race: there is nothing shared left to race for
    assert all(app.get_petition(case_id).answered_at is not None for case_id in cases)
