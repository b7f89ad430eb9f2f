"""`petition worker`: one leader per part, and a standby that takes over when it is SIGKILLed.

Both tests hold the part's leader lock themselves while two worker processes start, so both
stand by (and their /readyz names the test's session as the leader); then they let go, the
one that takes the lock starts working, and is killed with SIGKILL mid-work:

- supervision: 60 overdue cases, five rungs each, climbed one rung per tick (a policy whose
  rungs all trigger at the deadline, so no rung waits days for the one before it); the leader
  dies during its first tick and the standby leads within seconds; in the end every rung was
  issued exactly once (none twice, none missed: a last tick in the test issues nothing).
- relay: cases keep being written while the leader publishes; after the takeover the topic
  holds every case event of the log, and per case, first occurrences are in log order.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from adapters.persistence.leader_lock import AdvisoryLock
from adapters.wiring import build_application
from domain import events as ev
from projections.runner import catch_up, supervision_queue
from tests.e2e.conftest import free_port
from tests.integration.helpers import STREET, register_command, register_sample
from tests.kafka_broker import by_position, dedup, log_envelopes, read_topic
from tests.processes import environment, running, wait_until
from tests.views import views_of
from workflows import commands as c
from workflows.application import PetitionApplication
from workflows.supervision.process import ACTOR, SupervisionProcess

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("backend", ["postgres"])]
PACKAGED_POLICY = Path(__file__).parents[2] / "adapters" / "data" / "policy.toml"
TAKEOVER_WITHIN = 10.0  # seconds: a 0.5 s poll, plus starting the part, on a loaded machine


def readyz(port: int) -> dict[str, Any]:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).json()
    except httpx.HTTPError:
        return {}


def state(port: int, part: str) -> dict[str, Any]:
    return readyz(port).get("parts", {}).get(part, {})


class Pair:
    """Two `petition worker ROLE` processes, started while the test holds the part's lock."""

    def __init__(self, stack: ExitStack, settings: Any, tmp_path: Any, role: str, part: str,
                 **env: str):
        self.part = part
        self.held = AdvisoryLock(settings.store, settings.postgres_schema, part)
        assert self.held.try_acquire()
        self.ports = [free_port(), free_port()]
        self.processes = [stack.enter_context(running(
            ["worker", role, "--port", str(port), "--poll", "0.5"],
            environment(settings, **env), tmp_path / f"worker-{port}.log"))
            for port in self.ports]
        for port in self.ports:
            standby = wait_until(lambda port=port: state(port, part).get("state") == "standby"
                                 and state(port, part), 90, "a standby worker")
            assert readyz(port)["status"] == "ready"
            assert f"pid {os.getpid()}" in standby["leader"]  # names who leads: this test

    def let_go(self) -> None:
        self.held.release()

    def leader(self) -> int:
        """The index of the leading worker (waits for one)."""
        return wait_until(lambda: next((i + 1 for i, p in enumerate(self.ports)
                                        if state(p, self.part).get("state") == "leader"), 0),
                          TAKEOVER_WITHIN, "a leader") - 1

    def kill_leader_and_time_takeover(self, during: Callable[[], bool]) -> float:
        index = self.leader()
        wait_until(during, 60, "the leader to be at work", interval=0.01)
        os.kill(self.processes[index].pid, signal.SIGKILL)
        killed = time.monotonic()
        other = self.ports[1 - index]
        wait_until(lambda: state(other, self.part).get("state") == "leader", TAKEOVER_WITHIN,
                   "the standby to take over", interval=0.05)
        return time.monotonic() - killed


# ---------------------------------------------------------------------- supervision
def open_overdue(app: PetitionApplication) -> UUID:
    """A case accepted on 2026-03-02 (the app's clock): every rung is long due by now."""
    case_id = app.register(register_command()).case_id
    app.execute(c.AcceptPetition(case_id=case_id, actor="intake", handling_track="claim",
                                 speed_track="general"))
    app.execute(c.DelegatePetition(case_id=case_id, actor="intake", unit=STREET))
    return case_id


def measures(app: PetitionApplication, cases: list[UUID]) -> list[tuple[UUID, str, str]]:
    """(case, rule, unit) of every measure the process issued."""
    return [(case, e.rule, getattr(e, "unit", None) or getattr(e, "from_unit", ""))
            for case in cases for e in app.events_of(case)
            if e.actor == ACTOR and isinstance(e, ev.SupervisionIssued | ev.Escalated)]


def flat_ladder(settings: Any, tmp_path: Any) -> Any:
    """The settings with a policy whose five rungs all trigger at the deadline: the pacing
    between rungs is then nothing, and each tick issues the next rung of every case."""
    policy = (PACKAGED_POLICY.read_text(encoding="utf-8")
              .replace("reminder = -3 ", "reminder = 0 ").replace("accountability = 10 ",
                                                                    "accountability = 0 ")
              .replace("interview = 20 ", "interview = 0 ").replace("escalation = 30 ",
                                                                    "escalation = 0 "))
    path = tmp_path / "flat-ladder.toml"
    path.write_text(policy, encoding="utf-8")
    return dataclasses.replace(settings, policy_file=path)


def test_supervision_leader_killed_during_a_tick(settings, app, tmp_path):
    cases = [open_overdue(app) for _ in range(60)]
    settings = flat_ladder(settings, tmp_path)
    reader = build_application(settings)  # on the real clock, as the workers are
    assert reader.ladder.reminder == reader.ladder.escalation == 0
    expected = len(cases) * 5  # reminder, letter, accountability, interview, escalation
    with ExitStack() as stack:
        pair = Pair(stack, settings, tmp_path, "supervision", "supervision",
                    PETITION_SUPERVISION_INTERVAL="1")
        base = reader.recorder.max_notification_id() or 0  # from here on, only measures
        pair.let_go()
        took = pair.kill_leader_and_time_takeover(
            during=lambda: (reader.recorder.max_notification_id() or 0) - base >= 30)
        at_kill = len(measures(reader, cases))
        assert took < TAKEOVER_WITHIN
        assert at_kill < expected  # killed mid-tick
        wait_until(lambda: len(measures(reader, cases)) >= expected, 120,
                   "every rung issued", interval=0.2)
        time.sleep(2)  # two more ticks of the new leader: they must add nothing
    issued = measures(reader, cases)
    twice = [m for m, n in Counter(issued).items() if n > 1]
    assert twice == [] and len(issued) == expected
    per_case = Counter(case for case, _, _ in issued)
    assert set(per_case.values()) == {5}
    catch_up(reader, views_of(reader), "supervision_queue")
    assert SupervisionProcess(reader, supervision_queue(views_of(reader))).tick(reader.clock.now()) == []
    reader.close()


# ---------------------------------------------------------------------- relay
def write_cases(app: PetitionApplication, count: int, pause: float = 0.0) -> None:
    for _ in range(count):
        app.execute(c.AcceptPetition(case_id=register_sample(app).case_id, actor="intake",
                                     handling_track="claim", speed_track="general"))
        time.sleep(pause)


def per_case(envelopes: list[dict[str, Any]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for e in envelopes:
        out[e["case_id"]].append(e["position"])
    return out


def relayed(tmp_app: PetitionApplication) -> Iterator[int]:
    from adapters.kafka.tracking import relay_tracking

    tracking = relay_tracking(tmp_app.factory.datastore)  # type: ignore[attr-defined]
    while True:
        yield tracking.max_tracking_id(tmp_app.name) or 0


def test_relay_leader_killed_mid_stream(settings, app, broker, tmp_path):
    topic = "petition.events"
    write_cases(app, 100)
    position = relayed(app)
    with ExitStack() as stack:
        pair = Pair(stack, settings, tmp_path, "relay", "relay",
                    KAFKA_BOOTSTRAP_SERVERS=broker.bootstrap, PETITION_KAFKA_TOPIC=topic)
        writer = threading.Thread(target=write_cases, args=(build_application(settings), 100),
                                  kwargs={"pause": 0.01})
        writer.start()  # events keep coming while the leader relays, dies and is replaced
        pair.let_go()
        try:
            took = pair.kill_leader_and_time_takeover(during=lambda: next(position) >= 100)
        finally:
            writer.join()
        assert took < TAKEOVER_WITHIN
        head = app.recorder.max_notification_id()
        wait_until(lambda: next(position) >= head, 60, "the new leader to relay everything")
    expected = log_envelopes(app)
    received = [e for _, e in read_topic(broker.bootstrap, topic, at_least=len(expected))]
    unique = dedup(received)
    assert by_position(unique) == expected  # none missing, none invented
    assert per_case(unique) == per_case(expected)  # per case, first arrivals in log order
