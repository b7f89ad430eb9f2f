"""The leader locks behind `petition worker` (adapters/persistence/leader_lock.py) and the
leader loop (adapters/leadership.py), on both stores.

One holder per part and store; another part, or (PostgreSQL) another schema, is another lock;
a standby names the holder; the lock is free again once the holder's session or file handle
is gone; a leader whose lock session was ended stops its part at once and stands by.
"""

from __future__ import annotations

import dataclasses
import threading
from typing import Any

import psycopg
import pytest

from adapters.leadership import LEADER, STANDBY, Leader
from adapters.roles import RoleUnavailable, Started
from adapters.wiring import Root
from tests.conftest import PG_URL
from tests.processes import wait_until
from workflows.retrying import LoopHealth


def test_one_holder_per_part_named_to_the_others(settings):
    root = Root(settings)
    first, second = root.leader_lock("supervision"), root.leader_lock("supervision")
    other = root.leader_lock("relay")
    try:
        assert first.try_acquire() and not second.try_acquire()
        assert other.try_acquire()  # another part, another lock
        assert "petition supervision" in (second.holder() or "")
        assert first.holds() and not second.holds()
        first.release()
        assert second.holder() is None
        assert second.try_acquire() and second.holds()
    finally:
        for lock in (first, second, other):
            lock.release()


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
def test_another_schema_is_another_lock(settings):
    ours = Root(settings).leader_lock("relay")
    theirs = Root(dataclasses.replace(settings, postgres_schema=f"{settings.postgres_schema}_b")
                  ).leader_lock("relay")
    try:
        assert ours.try_acquire() and theirs.try_acquire()
    finally:
        ours.release()
        theirs.release()


class Part:
    def __init__(self) -> None:
        self.started, self.stopped = 0, threading.Event()
        self.loop = LoopHealth("fake part")

    def start(self) -> Started:
        self.started += 1
        self.stopped.clear()
        return Started(self.stopped.set, lambda: [self.loop])


def _end_session_of(lock: Any) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = "
                     "'advisory' AND (classid::bigint << 32 | objid::bigint) = %s", (lock.key,))


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"])
def test_a_leader_whose_lock_session_ends_stops_its_part_and_stands_by(settings):
    root, part = Root(settings), Part()
    leader = Leader("supervision", root.leader_lock("supervision"), part.start, poll=0.05)
    rival = root.leader_lock("supervision")
    leader.begin()
    try:
        wait_until(lambda: leader.state == LEADER, 10, "leadership")
        assert leader.status()["loops"] == {"fake part": {"state": "following"}}
        _end_session_of(leader.lock)
        assert rival.try_acquire() or wait_until(rival.try_acquire, 10, "the lock to be free")
        wait_until(part.stopped.is_set, 10, "the part to stop")
        wait_until(lambda: leader.state == STANDBY, 10, "standing by")
        assert "petition supervision" in leader.status()["leader"]  # the rival, by name
        rival.release()
        wait_until(lambda: leader.state == LEADER and part.started == 2, 10, "leading again")
    finally:
        leader.end()
        rival.release()
    assert leader.lock.holder() is None and part.stopped.is_set()


def test_roles_that_cannot_run_here_say_why(settings):
    root = Root(dataclasses.replace(settings, kafka_bootstrap_servers=None,
                                    supervision_interval=0))
    assert set(root.roles) >= {"views", "supervision", "relay", "inbound"}
    for name, why in (("relay", "KAFKA_BOOTSTRAP_SERVERS"), ("supervision", "=0"),
                      ("inbound", "PETITION_INBOUND_MAP")):
        with pytest.raises(RoleUnavailable, match=why):
            root.role_parts(name)
    assert [p.name for p in root.role_parts("all")] == [
        "views.case_view", "views.audit_trail", "views.supervision_queue",
        "views.analysis_facts"]
