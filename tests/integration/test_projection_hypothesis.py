"""Hypothesis-generated histories: the views agree with the aggregate, and a rebuild equals
the incrementally built views."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from domain.errors import DomainError
from projections import runner as r
from tests.integration.helpers import GRID, LIFECYCLE, proxy_agent, register_sample
from tests.views import views_of
from workflows import commands as c
from workflows.proxy_agents import generated_agent_id

EXTRA = [
    ("withdraw", lambda cid: c.WithdrawPetition(case_id=cid, actor="p", reason="不需要了")),
    ("reopen", lambda cid: c.ReopenPetition(case_id=cid, actor="s", reason="重新办理")),
    ("entrust", lambda cid: c.Entrust(case_id=cid, actor="s", agent=generated_agent_id("agent-9"),
                                      form="active", grid=GRID, scope=["follow"],
                                      valid_until="2099-01-01T00:00:00+08:00")),
    ("proxy", lambda cid: c.AssignProxy(case_id=cid, actor="s",
                                        agent=generated_agent_id("agent-9"))),
    ("suggest", lambda cid: c.MakeSuggestion(case_id=cid, actor="s", kind="improve_policy",
                                             unit="QH-D01", text="完善政策")),
    ("respond", lambda cid: c.RespondToSuggestion(case_id=cid, actor="h", number=1,
                                                  unit="QH-D01", response="已完善")),
    ("escalate", lambda cid: c.EscalatePetition(case_id=cid, actor="s", unit="QH", reason="r")),
    ("decline", lambda cid: c.DeclinePetition(case_id=cid, actor="s", reason="r",
                                              redirect_to="litigation")),
]
STEPS = LIFECYCLE + EXTRA
histories = st.lists(st.tuples(st.integers(0, 2), st.integers(0, len(STEPS) - 1),
                               st.integers(0, 72)), min_size=1, max_size=25)


@hsettings(max_examples=8, deadline=None,
           suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(history=histories)
def test_views_match_aggregate_and_rebuild(app, clock, history):
    proxy_agent(app, "agent-9")
    cases = [register_sample(app, proxy_agent=proxy_agent(app) if i == 0 else None).case_id
             for i in range(3)]
    with r.ProjectionRunner(app, views_of(app), batch_size=4) as running:
        for which, step, hours in history:
            clock.advance(timedelta(hours=hours))
            try:
                app.execute(STEPS[step][1](cases[which]))
            except DomainError:
                pass  # refused commands append nothing
        running.wait_all(app.recorder.max_notification_id(), timeout=30)
        incremental = {name: view.dump() for name, view in running.views.items()}
    for case_id in cases:
        petition = app.get_petition(case_id)
        row = r.case_view(views_of(app)).get(case_id)
        deadline = app.deadline_of(petition)
        assert row["status"] == petition.status.value
        assert row["responsible_unit"] == petition.obligated_unit
        assert row["deadline_expires_at"] == (deadline.expires_at if deadline else None)
        kinds = {o["kind"] for o in r.supervision_queue(views_of(app)).obligations_of(case_id)}
        expected = {d.kind.value for d in app.policy.open_deadlines(petition)}
        assert kinds == expected - {"review_request", "re_review_request"}
        assert len(r.audit_trail(views_of(app)).entries(case_id)) == petition.version
    for name in r.READ_MODELS:
        r.rebuild(app, views_of(app), name, batch_size=5)
        assert views_of(app).open(name).dump() == incremental[name], name
