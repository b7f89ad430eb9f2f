"""No accepted command can stop a view: arbitrary histories, then every view and a rebuild.

Hypothesis drives the real application with random commands — any action on any case, business
times anywhere the policy allows (back to ``max_backdate_days``, a little ahead), in time zones
from −14:00 to +14:00, with clocks near the calendar's first and last years, and arbitrary
unicode text (control characters and NUL included). A refused command must append nothing.
After every accepted one the three views catch up incrementally and the supervision process
ticks over them; at the end each view equals a rebuild from the log, the audit chain verifies,
and every case's row agrees with its aggregate.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.business_time import shifted
from domain.errors import DomainError
from domain.petition import Petition
from projections import runner as r
from tests.conftest import START
from tests.integration.helpers import (
    CITY,
    COMMUNITY,
    DISTRICT,
    GRID,
    STREET,
    register_command,
)
from tests.views import views_of
from workflows import commands as c
from workflows.proxy_agents import enrol_generated_agent
from workflows.supervision.process import SupervisionProcess

ZONES = [UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-14)),
         timezone(timedelta(hours=5, minutes=45)), ZoneInfo("Asia/Shanghai"),
         ZoneInfo("America/St_Johns")]
ERAS = [START, datetime(1, 1, 2, tzinfo=UTC), datetime(9999, 9, 1, tzinfo=UTC)]
texts = st.text(min_size=1, max_size=30).filter(lambda s: s.strip())

Build = Callable[[UUID, Any, str, int, Petition, str], c.CaseCommand]
ACTIONS: dict[str, Build] = {
    "accept": lambda i, at, t, v, p, a: c.AcceptPetition(
        case_id=i, actor=t, at=at, handling_track="claim",
        speed_track=("simple", "general", "complex")[v % 3]),
    "decline": lambda i, at, t, v, p, a: c.DeclinePetition(
        case_id=i, actor="intake", at=at, reason=t, redirect_to="litigation"),
    "delegate": lambda i, at, t, v, p, a: c.DelegatePetition(
        case_id=i, actor="intake", at=at, unit=(STREET, COMMUNITY)[v % 2], note=t),
    "escalate": lambda i, at, t, v, p, a: c.EscalatePetition(
        case_id=i, actor="supervisor", at=at, unit=(CITY, DISTRICT)[v % 2], reason=t),
    "extend-request": lambda i, at, t, v, p, a: c.RequestExtension(
        case_id=i, actor="handler", at=at, days=v + 1, reason=t),
    "extend": lambda i, at, t, v, p, a: c.ExtendDeadline(
        case_id=i, actor=t, at=at, days=30 - v, reason=t),
    "supervise": lambda i, at, t, v, p, a: c.IssueSupervision(
        case_id=i, actor="supervisor", at=at,
        level=("reminder", "supervision_letter", "accountability", "interview")[v % 4], reason=t),
    "entrust": lambda i, at, t, v, p, a: c.Entrust(
        case_id=i, actor="intake", at=at, agent=a, form=("designated", "active", "entrusted")[v % 3],
        grid=GRID, scope=["follow", "review"], valid_until=shifted(p.last_at, timedelta(days=7 + v))),
    "revoke-entrustment": lambda i, at, t, v, p, a: c.RevokeEntrustment(
        case_id=i, actor="intake", at=at, reason=t),
    "suggest": lambda i, at, t, v, p, a: c.MakeSuggestion(
        case_id=i, actor="bureau", at=at, kind=("improve_work", "accountability")[v % 2],
        unit=(STREET, DISTRICT)[v % 2], text=t),
    "respond-suggestion": lambda i, at, t, v, p, a: c.RespondToSuggestion(
        case_id=i, actor="unit", at=at, number=1 + v % 2, unit=(STREET, DISTRICT)[v % 2],
        response=t),
    "assign-proxy": lambda i, at, t, v, p, a: c.AssignProxy(
        case_id=i, actor="supervisor", at=at, agent=a),
    "log-proxy-contact": lambda i, at, t, v, p, a: c.LogProxyContact(
        case_id=i, actor="proxy", at=at, agent=p.proxy_agent or a, mode="visit", note=t),
    "answer": lambda i, at, t, v, p, a: c.AnswerPetition(
        case_id=i, actor="handler", at=at, unit=p.responsible_unit or STREET, answer=t),
    "deliver": lambda i, at, t, v, p, a: c.DeliverDecision(
        case_id=i, actor="handler", at=at, channel=("post", "in_person", "online")[v % 3]),
    "rate": lambda i, at, t, v, p, a: c.RatePetition(
        case_id=i, actor="petitioner", at=at, attitude="satisfied",
        efficiency=("satisfied", "unsatisfied")[v % 2], quality="basically_satisfied",
        comment=t),
    "confirm-answer": lambda i, at, t, v, p, a: c.ConfirmAnswer(
        case_id=i, actor="supervisor", at=at, reason=t),
    "review": lambda i, at, t, v, p, a: c.RequestReview(
        case_id=i, actor="petitioner", at=at, reason=t),
    "review-decision": lambda i, at, t, v, p, a: c.DecideReview(
        case_id=i, actor="reviewer", at=at, unit=DISTRICT, outcome="revised", opinion=t),
    "re-review": lambda i, at, t, v, p, a: c.RequestReReview(
        case_id=i, actor="petitioner", at=at, reason=t),
    "re-review-decision": lambda i, at, t, v, p, a: c.DecideReReview(
        case_id=i, actor="reviewer", at=at, unit=CITY, outcome="upheld", opinion=t),
    "close": lambda i, at, t, v, p, a: c.ClosePetition(
        case_id=i, actor="closer", at=at, summary=t),
    "reopen": lambda i, at, t, v, p, a: c.ReopenPetition(
        case_id=i, actor="supervisor", at=at, reason=t),
    "withdraw": lambda i, at, t, v, p, a: c.WithdrawPetition(
        case_id=i, actor="petitioner", at=at, reason=t),
}
# "next" is a command the case's state allows, so that histories reach deep states
NAMES = ["register"] * 2 + ["next"] * 20 + [*ACTIONS]

steps = st.tuples(
    st.sampled_from(NAMES), st.integers(0, 3),  # what, on which case
    st.integers(0, 20 * 24 * 60),  # minutes the clock moves first (ladders trigger)
    st.none() | st.integers(0, 91 * 24 * 60),  # how far back `at` lies (None: now)
    st.sampled_from(ZONES), texts, st.integers(0, 29), st.booleans())  # zone, text, variant, tick
histories = st.tuples(st.sampled_from(ERAS), st.lists(steps, min_size=10, max_size=25))


def business_time(now: datetime, back: int | None, zone: Any) -> datetime | None:
    if back is None:
        return None
    try:
        return (now - timedelta(minutes=back)).astimezone(zone)
    except OverflowError:  # before the calendar's first day, or year 0 in that zone
        return now


def catch_up_all(app: Any) -> None:
    for name in r.READ_MODELS:
        r.catch_up(app, views_of(app), name, batch_size=3)


@hsettings(max_examples=15, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=histories)
def test_any_accepted_history_keeps_every_view_going(app, clock, history):
    era, history = history
    clock.set(era)
    agents = [enrol_generated_agent(app, f"agent-{n}", STREET, era) for n in range(2)]
    process = SupervisionProcess(app, r.supervision_queue(views_of(app)))
    cases: list[UUID] = []
    for drawn, which, minutes, back, zone, text, variant, tick in history:
        name = drawn  # "next" becomes a command the case allows
        try:
            clock.advance(timedelta(minutes=minutes))
        except OverflowError:
            pass  # the clock stays at the calendar's end
        now = clock.now()
        at = business_time(now, back, zone)
        before = app.recorder.max_notification_id()
        try:
            if name == "register" or not cases:
                cases.append(app.register(register_command(
                    at=at, subject=text[:200], content=text, category=text[:100],
                    actor=text, petitioner={"name": text[:100], "id_number": "11010519491231002X",
                                            "phone": "13800000000"},
                    proxy_agent=agents[variant % 2] if variant < 6 else None)).case_id)
            else:
                case_id = cases[which % len(cases)]
                petition = app.get_petition(case_id)
                if name == "next":
                    allowed = sorted(set(petition.allowed_commands) & set(ACTIONS)) or ["close"]
                    name = allowed[variant % len(allowed)]
                app.execute(ACTIONS[name](case_id, at, text, variant, petition,
                                          agents[variant % 2]))
        except (DomainError, ValidationError):  # refused by the rules, or by the command's shape
            assert app.recorder.max_notification_id() == before, f"refused {name} appended"
        catch_up_all(app)
        if tick:
            process.tick(now)
            catch_up_all(app)

    incremental = {name: views_of(app).open(name).dump() for name in r.READ_MODELS}
    for case_id in cases:
        petition = app.get_petition(case_id)
        row = r.case_view(views_of(app)).get(case_id)
        assert row["status"] == petition.status.value and row["version"] == petition.version
        assert len(r.audit_trail(views_of(app)).entries(case_id)) == petition.version
        kinds = {o["kind"] for o in r.supervision_queue(views_of(app)).obligations_of(case_id)}
        expected = {d.kind.value for d in app.policy.open_deadlines(petition)}
        assert kinds == expected - {"review_request", "re_review_request"}
    assert r.audit_trail(views_of(app)).verify(application_name=app.name) == []
    for name in r.READ_MODELS:
        r.rebuild(app, views_of(app), name, batch_size=7)
        assert views_of(app).open(name).dump() == incremental[name], name
