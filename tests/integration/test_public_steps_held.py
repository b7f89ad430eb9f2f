"""The petitioner's steps are held per case with the version they reach, never stale.

``/status`` showed the public steps of all the case's events, read and decrypted again on
every request. ``PetitionApplication.public_steps`` (``public_steps.StepsOfCases``) holds them
with the version they reach: a case followed again at the same version reads nothing; one
another process has moved on reads only the newer events; an earlier version (a replayed
answer) gets the steps of that version. Each equals the steps of a fresh read of the whole
history, on both stores.
"""

from __future__ import annotations

from datetime import timedelta

from adapters.wiring import build_application
from tests.integration.helpers import LIFECYCLE, register_sample, run_steps
from workflows.case_reads import petitioner_case
from workflows.public_steps import public_steps


def _expected(app, case_id, version):
    return public_steps([e for e in app.events_of(case_id) if e.originator_version <= version])


def test_held_steps_follow_another_process_and_equal_a_fresh_read(app, settings, clock):
    case_id = register_sample(app).case_id
    run_steps(app, clock, case_id, "delegate")
    other = build_application(settings, clock=clock)  # a second process on the same store
    reads: list[tuple[int, int]] = []
    held = app.public_steps
    read = held._read
    held._read = lambda case, after, upto: reads.append((after, upto)) or read(case, after, upto)
    try:
        first = petitioner_case(app, app.get_petition(case_id))
        assert reads == [(0, 3)]
        assert petitioner_case(app, app.get_petition(case_id)) == first and reads == [(0, 3)]
        for _name, build in LIFECYCLE[2:5]:  # extend, supervise, answer: written by the other
            clock.advance(timedelta(days=1))
            other.execute(build(case_id))
        now = app.get_petition(case_id)
        shown = petitioner_case(app, now)
        assert reads == [(0, 3), (3, 6)] and now.version == 6
        fresh = petitioner_case(other, other.get_petition(case_id))
        assert shown == fresh and shown["answer"] == "已安排维修。"
        assert [s.kind for s in held.up_to(case_id, 6)] == [s.kind for s in _expected(
            other, case_id, 6)]
        for version in (1, 3, 5):  # earlier versions: the steps they had, nothing read
            assert held.up_to(case_id, version) == _expected(other, case_id, version)
        assert reads == [(0, 3), (3, 6)]
    finally:
        other.close()
