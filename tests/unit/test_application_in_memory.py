"""The application tier in memory (the library's POPO recorder): the supervision process,
idempotency and guards, without a database — seconds, not minutes.

The same behaviour is proven on SQLite and PostgreSQL in tests/integration/; here it is the
application's own logic that is under test, fast enough to run on every change.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from domain import events as ev
from domain.errors import DomainError, IllegalTransition
from tests.unit.builders import T0, plain_policy, small_chart
from workflows import commands as c
from workflows.access import Principal, Role, authorize
from workflows.application import Idempotency, PetitionApplication
from workflows.clock import ManualClock
from workflows.errors import AccessDenied, CaseNotFound, IdempotencyKeyReused
from workflows.query_codes import QueryCodes
from workflows.supervision.process import ACTOR, SupervisionProcess

ID_NUMBER = "11010519491231002X"


class EveryCase:
    """An obligation queue listing every case it was told about as an open answer obligation:
    the process decides from the case itself, so listing too much is harmless."""

    def __init__(self) -> None:
        self.cases: list[UUID] = []

    def overdue(self, as_of: datetime, *, unit: str | None = None, path: str | None = None,
                limit: int = 50, cursor: str | None = None
                ) -> tuple[list[dict[str, Any]], str | None]:
        start = int(cursor or 0)
        rows = [{"kind": "answer", "case_id": str(i)} for i in self.cases[start:start + limit]]
        more = start + limit < len(self.cases)
        return rows, str(start + limit) if more else None


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def app(clock: ManualClock) -> PetitionApplication:
    return PetitionApplication({"PERSISTENCE_MODULE": "eventsourcing.popo"}, org=small_chart(),
                               policy=plain_policy(), query_codes=QueryCodes(b"q" * 32),
                               clock=clock)


def registration(**overrides: Any) -> c.RegisterPetition:
    fields: dict[str, Any] = {
        "actor": "clerk", "channel": "letter", "subject": "路灯不亮", "content": "两个月了。",
        "category": "城建", "location": {"district": "D1", "street": "S11"}, "received_by": "D1",
        "petitioner": {"name": "张三", "id_number": ID_NUMBER, "phone": "13800000000"},
    }
    return c.RegisterPetition(**{**fields, **overrides})


def in_handling(app: PetitionApplication) -> UUID:
    """A case accepted on the general track and delegated to street S11."""
    case_id = app.register(registration()).case_id
    app.execute(c.AcceptPetition(case_id=case_id, actor="intake", handling_track="claim",
                                 speed_track="general"))
    app.execute(c.DelegatePetition(case_id=case_id, actor="intake", unit="S11"))
    return case_id


def head(app: PetitionApplication) -> int:
    return app.recorder.max_notification_id() or 0


def measures(app: PetitionApplication, case_id: UUID) -> list[str]:
    return [e.rule for e in app.events_of(case_id) if e.actor == ACTOR
            and isinstance(e, ev.SupervisionIssued | ev.Escalated)]


# ---------------------------------------------------------------------- supervision
def test_an_old_case_climbs_one_rung_per_tick_at_the_policys_pace(app, clock) -> None:
    """Found long overdue (after downtime, or loaded old), a case is not handed the whole
    ladder at once: one rung per tick, each after the policy's spacing from the one before
    (reminder → letter 3 days, then 10 days each), so the unit has each measure's time."""
    queue, case_id = EveryCase(), in_handling(app)
    queue.cases.append(case_id)
    process = SupervisionProcess(app, queue, page=1)
    clock.set(T0 + timedelta(days=120))  # every trigger long passed
    rules = []
    for wait in (0, 3, 10, 10, 10):
        clock.set(clock.now() + timedelta(days=wait) - timedelta(seconds=1))
        if wait:
            assert process.tick(clock.now()) == []  # not before its pace
        clock.set(clock.now() + timedelta(seconds=1))
        issued = process.tick(clock.now())
        assert len(issued) == 1
        rules.append(issued[0].measure.rule)
        if wait:
            assert issued[0].measure.due_at == clock.now()
    assert rules == measures(app, case_id) == [
        "answer.reminder", "answer.supervision_letter", "answer.accountability",
        "answer.interview", "answer.escalation"]
    assert app.get_petition(case_id).holder == "D1"
    before = head(app)
    clock.set(clock.now() + timedelta(days=100))
    assert process.tick(clock.now()) == [] and head(app) == before  # never a rung twice


def test_an_answered_case_and_one_not_yet_due_get_nothing(app, clock) -> None:
    queue = EveryCase()
    answered, fresh = in_handling(app), in_handling(app)
    app.execute(c.AnswerPetition(case_id=answered, actor="handler", unit="S11", answer="已修复"))
    queue.cases += [answered, fresh]
    clock.set(T0 + timedelta(days=1))
    assert SupervisionProcess(app, queue).tick(clock.now()) == []
    assert measures(app, answered) == measures(app, fresh) == []


# ---------------------------------------------------------------------- idempotency
def test_a_retry_with_the_same_key_is_answered_and_appends_nothing(app) -> None:
    case_id = app.register(registration()).case_id
    key = Idempotency(scope="token:t", key="k-1")
    accept = c.AcceptPetition(case_id=case_id, actor="intake", handling_track="claim",
                              speed_track="general")
    first = app.execute(accept, idempotency=key)
    before = head(app)
    again = app.execute(accept, idempotency=key)
    assert (again.case_id, again.version, again.status) == (first.case_id, first.version,
                                                             first.status)
    assert head(app) == before and again.position >= first.position


def test_a_registration_retried_with_its_key_is_the_same_case_and_code(app) -> None:
    key = Idempotency(scope="token:t", key="reg-1")
    first = app.register(registration(), idempotency=key)
    before = head(app)
    again = app.register(registration(), idempotency=key)
    assert (again.case_id, again.query_code) == (first.case_id, first.query_code)
    assert head(app) == before


def test_a_key_reused_for_another_command_is_refused_and_appends_nothing(app) -> None:
    case_id = app.register(registration()).case_id
    key = Idempotency(scope="token:t", key="k-2")
    app.execute(c.AcceptPetition(case_id=case_id, actor="intake", handling_track="claim",
                                 speed_track="general"), idempotency=key)
    before = head(app)
    with pytest.raises(IdempotencyKeyReused):
        app.execute(c.DelegatePetition(case_id=case_id, actor="intake", unit="S11"),
                    idempotency=key)
    assert head(app) == before


# ---------------------------------------------------------------------- guards
def test_a_guard_that_refuses_appends_nothing(app) -> None:
    case_id = app.register(registration()).case_id
    supervisor = Principal(token_id="0" * 32, role=Role.SUPERVISOR, unit="D1")  # in reach
    before = head(app)
    with pytest.raises(AccessDenied):
        app.execute(c.AcceptPetition(case_id=case_id, actor=supervisor.actor,
                                     handling_track="claim", speed_track="general"),
                    guard=lambda petition: authorize(supervisor, "accept", petition, app.org))
    assert head(app) == before and app.get_petition(case_id).version == 1


def test_a_guard_sees_the_case_the_command_decides_on(app) -> None:
    case_id = app.register(registration()).case_id
    seen: list[int] = []
    app.execute(c.AcceptPetition(case_id=case_id, actor="intake", handling_track="claim",
                                 speed_track="general"),
                guard=lambda petition: seen.append(petition.version))
    assert seen == [1] and app.get_petition(case_id).version == 2


def test_a_case_out_of_reach_is_not_found_before_the_state_rules(app) -> None:
    case_id = app.register(registration()).case_id
    elsewhere = Principal(token_id="1" * 32, role=Role.INTAKE, unit="D2")
    before = head(app)
    with pytest.raises(CaseNotFound):
        app.execute(c.ClosePetition(case_id=case_id, actor=elsewhere.actor, summary="x"),
                    guard=lambda petition: authorize(elsewhere, "close", petition, app.org))
    assert head(app) == before


def test_a_command_the_state_refuses_appends_nothing(app) -> None:
    case_id = app.register(registration()).case_id
    before = head(app)
    with pytest.raises(IllegalTransition):
        app.execute(c.AnswerPetition(case_id=case_id, actor="handler", unit="S11", answer="x"))
    assert head(app) == before


# ---------------------------------------------------------------------- later files
@pytest.mark.parametrize("kind", [c.AddAttachment, c.AttachDocument])
def test_nothing_is_dated_before_a_later_file(app, clock, kind) -> None:
    """A file added after filing is a step of the case: a later command back-dated before it
    is refused like one dated before any other step (found by the stateful machine)."""
    case_id = app.register(registration()).case_id
    clock.advance(timedelta(hours=2))
    app.execute(kind(case_id=case_id, actor="clerk", sha256="a" * 64,
                     media_type="application/pdf", size=10, file_name="补充.pdf"))
    filed = app.get_petition(case_id)
    assert filed.last_at == clock.now()
    with pytest.raises(DomainError):
        app.execute(c.AcceptPetition(case_id=case_id, actor="i", handling_track="claim",
                                     speed_track="general", at=clock.now() - timedelta(hours=1)))
    assert app.get_petition(case_id).version == filed.version  # refused: nothing appended
