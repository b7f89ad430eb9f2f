"""Who may do what: every route × every role × inside / outside the caller's jurisdiction.

The expectations come from the table below, written from the issue ("who may do what"), not
from workflows/access.py, so that a mistake there shows up here. The case under test was
received at district QH-D01 and, once delegated, sits at its street QH-D01-S01; the
"outside" principals act for district QH-D02 and its street QH-D02-S01.

Allowed and in reach → the request succeeds; a case outside the caller's reach → 404, exactly
as an unknown case; a role outside the route's set, or a jurisdiction outside the caller's
unit → 403; nothing appended by any refusal; no token or a revoked one → 401.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.e2e.conftest import (
    CITY,
    DISTRICT,
    OTHER_DISTRICT,
    OTHER_STREET,
    PROXY_AGENT,
    STREET,
    Staff,
    another_petitioner,
    appended,
    enrol_proxy,
    register_body,
)
from tests.e2e.test_http_errors import VALID_BODIES
from workflows import commands as c
from workflows.clock import ManualClock
from workflows.reception import slots as reception

I, H, S, AU, AD = "intake", "handler", "supervisor", "auditor", "admin"
STAFF = frozenset({I, H, S, AU, AD})
EVERYWHERE = frozenset({AU, AD})  # roles whose reach is the whole city

# route → the roles that may use it (the "Who may do what")
WRITES: dict[str, frozenset[str]] = {
    "register": frozenset({I, AD}),
    "accept": frozenset({I, AD}),
    "decline": frozenset({I, AD}),
    "delegate": frozenset({I, AD}),
    "withdraw": frozenset({I, AD}),  # recorded by intake when the petitioner withdraws
    "review": frozenset({I, AD}),  # a review asked for in person or by letter
    "re-review": frozenset({I, AD}),
    "entrust": frozenset({I, S, AD}),  # staff record the signed 委托书
    "revoke-entrustment": frozenset({I, S, AD}),
    "assign-proxy": frozenset({I, S, AD, "proxy"}),  # the agent starts its own service
    "log-proxy-contact": frozenset({"proxy", AD}),  # the named agent itself (an intake user)
    "add-co-petitioner": frozenset({I, AD}),  # 集体访 / 联名: recorded at intake
    "chase-proxy-contact": frozenset({S, AD}),  # the supervision process's own command
    "suggest": frozenset({S, AD}),  # 三项建议权: the 信访 department
    "respond-suggestion": frozenset({H, S, AD}),
    "record-reception": frozenset({I, S, AD}),  # 接访 held, recorded by the reception office
    "remind-reception": frozenset({AD}),  # the reminder process; petitioners book by code
    "answer": frozenset({H, AD}),
    "deliver": frozenset({H, S, AD}),  # 送达 by the answering unit or the reviewer
    "extend-request": frozenset({H, AD}),
    "extend": frozenset({S, AD}),  # the approval
    "supervise": frozenset({S, AD}),
    "escalate": frozenset({S, AD}),
    "reopen": frozenset({S, AD}),
    "confirm-answer": frozenset({S, AD}),
    "review-decision": frozenset({S, AD}),
    "re-review-decision": frozenset({S, AD}),
    "close": frozenset({I, H, S, AD}),
    "rate": frozenset({AD}),  # petitioners rate with their query code
}
READS: dict[str, frozenset[str]] = {
    "GET /petitions/{id}": STAFF,
    "GET /petitions/{id}/history": STAFF,
    "GET /petitions/{id}/state": STAFF,
    "GET /petitions?jurisdiction=": STAFF,
    "GET /supervision/overdue?jurisdiction=": frozenset({S, AU, AD}),
    "GET /supervision/due-soon?jurisdiction=": frozenset({S, AU, AD}),
    "GET /supervision/units?jurisdiction=": frozenset({S, AU, AD}),
    "GET /supervision/unsatisfied?jurisdiction=": frozenset({S, AU, AD}),
    "GET /proxies?jurisdiction=": STAFF,
    "GET /receptions/slots?jurisdiction=": STAFF,
    "GET /events": frozenset({AU, AD}),
    "GET /audit/verify": frozenset({AU, AD}),
}


@dataclass(frozen=True)
class Caller:
    name: str
    role: str | None  # None: no token at all
    unit: str = DISTRICT
    inside: bool = True
    proxy: bool = False
    revoked: bool = False

    @property
    def kind(self) -> str:
        return "proxy" if self.proxy else str(self.role)


CALLERS = [
    Caller("intake@D01", I), Caller("intake@D02", I, OTHER_DISTRICT, inside=False),
    Caller("proxy@D01", I, proxy=True), Caller("proxy@D02", I, OTHER_DISTRICT, False, proxy=True),
    Caller("handler@D01-S01", H, STREET), Caller("handler@D02-S01", H, OTHER_STREET, False),
    Caller("supervisor@D01", S), Caller("supervisor@QH", S, "QH"),
    Caller("supervisor@D02", S, OTHER_DISTRICT, False),
    Caller("auditor@D01", AU), Caller("auditor@D02", AU, OTHER_DISTRICT, False),
    Caller("admin@D01", AD), Caller("admin@D02", AD, OTHER_DISTRICT, False),
    Caller("no token", None), Caller("revoked intake@D01", I, revoked=True),
]


def expected(allowed: frozenset[str], caller: Caller) -> int | str:
    """A list or feed: the role, then the requested jurisdiction (a unit, not a case)."""
    if caller.role is None or caller.revoked:
        return 401
    if caller.kind not in allowed:  # a registered agent acts only as an agent (its own list)
        return 403
    if not caller.inside and caller.role not in EVERYWHERE:
        return 403
    return "ok"


def reaches(caller: Caller, *, delegated: bool) -> bool:
    """The case was received at QH-D01 and, once delegated, is handled by QH-D01-S01."""
    if caller.role in EVERYWHERE:
        return True
    return caller.inside and (caller.role != H or delegated)


def expected_on_case(allowed: frozenset[str], caller: Caller, *, delegated: bool) -> int | str:
    """One case: out of reach is 404 exactly like an unknown case, before any role check."""
    if caller.role is None or caller.revoked:
        return 401
    if not reaches(caller, delegated=delegated):
        return 404
    return expected(allowed, caller)


# How to bring a fresh case to a state where each action is legal (the server's own commands).
Prep = list[Callable[[UUID], Any]]  # a command, or a timedelta the clock moves on by


def BOOK(case_id: UUID) -> c.Command:
    raise AssertionError("Matrix.case books this step itself")
ACCEPT: Prep = [lambda i: c.AcceptPetition(case_id=i, actor="prep", handling_track="claim",
                                           speed_track="general")]
DELEGATE: Prep = [*ACCEPT, lambda i: c.DelegatePetition(case_id=i, actor="prep", unit=STREET)]
ANSWER: Prep = [*DELEGATE, lambda i: c.AnswerPetition(case_id=i, actor="prep", unit=STREET,
                                                      answer="已答复")]
REVIEW: Prep = [*ANSWER, lambda i: c.RequestReview(case_id=i, actor="prep", reason="不服")]
REVIEWED: Prep = [*REVIEW, lambda i: c.DecideReview(case_id=i, actor="prep", unit=DISTRICT,
                                                    outcome="upheld", opinion="维持")]
ENTRUSTED: Prep = [*DELEGATE, lambda i: c.Entrust(
    case_id=i, actor="prep", agent=PROXY_AGENT, form="entrusted", grid=STREET + "-C01-G01",
    scope=["follow"], valid_until="2099-01-01T00:00:00+08:00")]
STARTED: Prep = [*ENTRUSTED, lambda i: c.AssignProxy(case_id=i, actor="prep", agent=PROXY_AGENT)]
RE_REVIEWED: Prep = [*REVIEWED,
                     lambda i: c.RequestReReview(case_id=i, actor="prep", reason="仍不服"),
                     lambda i: c.DecideReReview(case_id=i, actor="prep", unit=CITY,
                                                outcome="upheld", opinion="维持")]


def REPEAT(case_id: UUID) -> c.Command:
    raise AssertionError("Matrix.case prepares the concluded case itself")
PREP: dict[str, Prep] = {
    "concluded-matter": [REPEAT],  # flagged at registration (不再受理)
    "accept": [], "decline": [], "withdraw": [], "add-co-petitioner": [],
    "record-reception": [], "remind-reception": [BOOK],
    "delegate": ACCEPT, "escalate": ACCEPT,
    "extend-request": DELEGATE, "extend": DELEGATE, "supervise": DELEGATE, "answer": DELEGATE,
    "entrust": DELEGATE, "suggest": [], "revoke-entrustment": ENTRUSTED,
    "assign-proxy": ENTRUSTED, "log-proxy-contact": STARTED,
    "chase-proxy-contact": [*STARTED, lambda i: timedelta(days=8)],  # a week without meeting
    "respond-suggestion": [*DELEGATE, lambda i: c.MakeSuggestion(
        case_id=i, actor="prep", kind="improve_work", unit=STREET, text="建议")],
    "rate": ANSWER, "review": ANSWER, "close": ANSWER, "deliver": ANSWER,
    "confirm-answer": [*ANSWER, lambda i: c.RatePetition(
        case_id=i, actor="prep", attitude="unsatisfied", efficiency="unsatisfied",
        quality="unsatisfied")],
    "reopen": [*ANSWER, lambda i: c.ClosePetition(case_id=i, actor="prep", summary="办结")],
    "review-decision": REVIEW, "re-review": REVIEWED,
    "re-review-decision": [*REVIEWED, lambda i: c.RequestReReview(case_id=i, actor="prep",
                                                                  reason="仍不服")],
}


class Matrix:
    def __init__(self, api: FastAPI, client: TestClient, staff: Staff, clock: ManualClock):
        self.api, self.client, self.clock = api, client, clock
        self.app = api.state.engine.app
        self.headers: dict[str, dict[str, str]] = {}
        for caller in CALLERS:
            if caller.role is None:
                self.headers[caller.name] = {}
            elif caller.revoked:
                self.headers[caller.name] = staff.revoked(caller.role, caller.unit)
            else:
                self.headers[caller.name] = staff.headers(caller.role, caller.unit,
                                                          proxy=caller.proxy)
        agent_token = self.headers["proxy@D01"]["Authorization"].removeprefix("Bearer ")
        enrol_proxy(api, api.state.engine.tokens.authenticate(agent_token).token_id)
        self.mismatches: list[str] = []
        self.slots = 0
        self.prepared = 0

    def case(self, prep: Prep) -> UUID:
        self.prepared += 1  # each its own petitioner: a repeat would be a concluded matter
        petitioner = another_petitioner(self.prepared)
        if prep[:1] == [REPEAT]:  # the same petitioner's matter, concluded by a re-review
            self.steps(self.register(petitioner), RE_REVIEWED)
            prep = prep[1:]
        case_id = self.register(petitioner)
        self.steps(case_id, prep)
        return case_id

    def register(self, petitioner: dict[str, str]) -> UUID:
        body = register_body(petitioner=petitioner)
        return self.app.register(c.RegisterPetition(actor="prep", **body)).case_id

    def steps(self, case_id: UUID, prep: Prep) -> None:
        for step in prep:
            self.clock.advance(timedelta(minutes=5))
            if step is BOOK:  # a booking changes the slot too: not a case command
                self.book(case_id)
                continue
            command = step(case_id)
            if isinstance(command, timedelta):
                self.clock.advance(command)
            else:
                self.app.execute(command)
        self.clock.advance(timedelta(minutes=5))

    def book(self, case_id: UUID) -> None:
        self.slots += 1
        start = self.clock.now() + timedelta(days=2, hours=self.slots)
        slot = reception.publish(self.app, reception.PublishSlot(
            actor="prep", unit=DISTRICT, leader="王区长", starts_at=start,
            ends_at=start + timedelta(minutes=30)))
        reception.book(self.app, reception.BookReception(case_id=case_id, actor="p",
                                                         slot_id=slot.id))

    def check(self, route: str, want: int | str, caller: Caller,
              send: Callable[[dict[str, str]], Any], *, writes: bool) -> None:
        before = appended(self.api)
        response = send(self.headers[caller.name])
        got = response.status_code
        ok = (200 <= got < 300) if want == "ok" else got == want
        if not ok:
            self.mismatches.append(f"{route} as {caller.name}: want {want}, got {got}"
                                   f" {response.text[:160]}")
        if got in (401, 403, 404) and appended(self.api) != before:
            self.mismatches.append(f"{route} as {caller.name}: a {got} appended")
        if writes and want == "ok" and ok:
            assert appended(self.api) > before


@pytest.fixture
def matrix(api: FastAPI, client: TestClient, staff: Staff, clock: ManualClock) -> Matrix:
    return Matrix(api, client, staff, clock)


@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("action", sorted(set(WRITES) - {"register"}))
def test_action_routes(matrix: Matrix, action: str) -> None:
    assert sorted(PREP) == sorted(VALID_BODIES)
    case_id = matrix.case(PREP[action])
    delegated = PREP[action][:len(DELEGATE)] == DELEGATE
    for caller in CALLERS:
        want = expected_on_case(WRITES[action], caller, delegated=delegated)
        matrix.check(action, want, caller, lambda h, cid=case_id: matrix.client.post(
            f"/petitions/{cid}/{action}", json=VALID_BODIES[action], headers=h), writes=True)
        if want == "ok":  # that case moved on: the next caller gets a fresh one
            case_id = matrix.case(PREP[action])
    assert not matrix.mismatches, "\n".join(matrix.mismatches)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_register_route(matrix: Matrix) -> None:
    for caller in CALLERS:
        want = expected(WRITES["register"], caller)
        matrix.check("register", want, caller, lambda h: matrix.client.post(
            "/petitions", json=register_body(), headers=h), writes=True)
    assert not matrix.mismatches, "\n".join(matrix.mismatches)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_publish_slot_route(matrix: Matrix) -> None:
    """Slots of leaders' reception days: the reception office, supervisors and admins, for a
    unit of their own subtree; each success is a distinct slot (one leader per caller)."""
    start = matrix.clock.now() + timedelta(days=3)
    for caller in CALLERS:
        want = expected(frozenset({I, S, AD}), caller)
        body = {"actor": "ignored", "unit": STREET, "leader": f"领导 {caller.name}",
                "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}
        matrix.check("POST /receptions/slots", want, caller, lambda h, b=body: matrix.client.post(
            "/receptions/slots", json=b, headers=h), writes=True)
    assert not matrix.mismatches, "\n".join(matrix.mismatches)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_read_routes(matrix: Matrix) -> None:
    case_id = matrix.case(DELEGATE)
    as_of = "2030-01-01T00:00:00+08:00"
    sends: dict[str, Callable[[dict[str, str]], Any]] = {
        "GET /petitions/{id}": lambda h: matrix.client.get(f"/petitions/{case_id}", headers=h),
        "GET /petitions/{id}/history": lambda h: matrix.client.get(
            f"/petitions/{case_id}/history", headers=h),
        "GET /petitions/{id}/state": lambda h: matrix.client.get(
            f"/petitions/{case_id}/state", params={"as_of": as_of}, headers=h),
        "GET /petitions?jurisdiction=": lambda h: matrix.client.get(
            "/petitions", params={"jurisdiction": STREET}, headers=h),
        "GET /supervision/overdue?jurisdiction=": lambda h: matrix.client.get(
            "/supervision/overdue", params={"jurisdiction": STREET}, headers=h),
        "GET /supervision/due-soon?jurisdiction=": lambda h: matrix.client.get(
            "/supervision/due-soon", params={"jurisdiction": STREET}, headers=h),
        "GET /supervision/units?jurisdiction=": lambda h: matrix.client.get(
            "/supervision/units", params={"jurisdiction": STREET}, headers=h),
        "GET /supervision/unsatisfied?jurisdiction=": lambda h: matrix.client.get(
            "/supervision/unsatisfied", params={"jurisdiction": STREET}, headers=h),
        "GET /proxies?jurisdiction=": lambda h: matrix.client.get(
            "/proxies", params={"jurisdiction": STREET}, headers=h),
        "GET /receptions/slots?jurisdiction=": lambda h: matrix.client.get(
            "/receptions/slots", params={"jurisdiction": STREET}, headers=h),
        "GET /events": lambda h: matrix.client.get("/events", headers=h),
        "GET /audit/verify": lambda h: matrix.client.get("/audit/verify", headers=h),
    }
    assert sends.keys() == READS.keys()
    for route, send in sends.items():
        for caller in CALLERS:
            if caller.proxy:
                continue  # reads the same as any intake user
            want = (expected_on_case(READS[route], caller, delegated=True) if "{id}" in route
                    else expected(READS[route], caller))
            matrix.check(route, want, caller, send, writes=False)
    assert not matrix.mismatches, "\n".join(matrix.mismatches)


@pytest.mark.parametrize("backend", ["sqlite"])
def test_lists_are_cut_to_the_callers_reach(matrix: Matrix) -> None:
    inside = str(matrix.case(DELEGATE))
    elsewhere = matrix.app.register(c.RegisterPetition(actor="prep", **register_body(
        received_by=OTHER_DISTRICT, location={"district": OTHER_DISTRICT}))).case_id
    # which of the two cases each caller's list shows: (the QH-D01 one, the QH-D02 one)
    sees = {"intake@D01": (True, False), "intake@D02": (False, True),
            "proxy@D01": (True, False), "proxy@D02": (False, True),
            "handler@D01-S01": (True, False), "handler@D02-S01": (False, False),
            "supervisor@D01": (True, False), "supervisor@QH": (True, True),
            "supervisor@D02": (False, True)}
    for caller in CALLERS:
        if caller.role is None or caller.revoked:
            continue
        response = matrix.client.get("/petitions", headers=matrix.headers[caller.name])
        seen = {item["case_id"] for item in response.json()["items"]}
        want = (True, True) if caller.role in EVERYWHERE else sees[caller.name]
        assert (inside in seen, str(elsewhere) in seen) == want, caller.name


@pytest.mark.parametrize("backend", ["sqlite"])
def test_personal_data_needs_the_pii_scope(matrix: Matrix, staff: Staff) -> None:
    case_id = matrix.case(DELEGATE)
    plain_auditor = staff.headers(AU, "QH")
    pii_auditor = staff.headers(AU, "QH", pii=True)
    name = register_body()["petitioner"]["name"]
    for path in (f"/petitions/{case_id}", f"/petitions/{case_id}/history"):
        assert name not in matrix.client.get(path, headers=plain_auditor).text
        assert name in matrix.client.get(path, headers=pii_auditor).text
