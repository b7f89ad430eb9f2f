"""What supervisors read besides the overdue queue: per-unit figures and the unsatisfied queue."""

from __future__ import annotations

from datetime import timedelta

from projections import runner as r
from projections.case_view import CaseFilter
from projections.unit_stats import unit_stats
from tests.integration.helpers import STREET, register_sample, run_steps
from tests.views import views_of
from workflows import commands as c


def _refresh(app) -> None:
    for name in ("case_view", "audit_trail"):
        r.catch_up(app, views_of(app), name)


def test_unit_figures_count_where_cases_are_and_who_answered(app, clock):
    answered = register_sample(app).case_id
    run_steps(app, clock, answered, until="rate")  # answered by the street, rated unsatisfied
    open_case = register_sample(app).case_id
    run_steps(app, clock, open_case, until="delegate")
    clock.advance(timedelta(days=200))  # far past the 60-day answer deadline
    _refresh(app)
    figures = {row["unit"]: row for row in unit_stats(
        r.case_view(views_of(app)), r.audit_trail(views_of(app)), clock.now())}
    street = figures[STREET]
    assert street["open"] == 1 and street["overdue"] == 1  # the delegated case, still open
    assert street["answered"] == 1 and street["answered_on_time"] == 1
    assert street["on_time_rate"] == 1.0
    assert street["measures"] == 1  # the reminder in the lifecycle's "supervise" step
    assert street["unsatisfied"] == 1  # efficiency was rated unsatisfied


def test_unsatisfied_queue_until_a_supervisor_decides(app, clock):
    confirmed, reopened = (register_sample(app).case_id for _ in range(2))
    for case_id in (confirmed, reopened):
        run_steps(app, clock, case_id, until="rate")
    r.catch_up(app, views_of(app), "case_view")
    queue = r.case_view(views_of(app))
    waiting = {row["case_id"] for row in queue.list_cases(CaseFilter(unsatisfied_pending=True))[0]}
    assert waiting == {str(confirmed), str(reopened)}

    clock.advance(timedelta(hours=1))
    app.execute(c.ConfirmAnswer(case_id=confirmed, actor="supervisor", reason="答复无误"))
    app.execute(c.ReopenPetition(case_id=reopened, actor="supervisor", reason="重新办理"))
    r.catch_up(app, views_of(app), "case_view")
    assert queue.list_cases(CaseFilter(unsatisfied_pending=True))[0] == []
    assert app.get_petition(reopened).status.value == "in_handling"
