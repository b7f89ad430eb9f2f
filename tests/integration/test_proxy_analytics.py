"""The proxy service and the suggestion rights feed the analysis view (issue 14's indicators
and the index's 建议征集 dimension), on both stores: a case filed by an agent counts in
``proxy_share``, a missed week chased to the agent takes it out of ``proxy_contact_kept``, and
a suggestion counts in ``suggestion_rate`` until responded (``suggestion_responded``)."""

from __future__ import annotations

from datetime import timedelta

from projections import analysis_queries as aq
from projections import runner as r
from projections.periods import parse_period
from tests.integration.helpers import STREET, proxy_agent, register_sample
from tests.views import views_of
from workflows import commands as c
from workflows.supervision.process import SupervisionProcess


def test_proxies_and_suggestions_reach_the_indicators(app, clock) -> None:
    agent = proxy_agent(app, "agent-a")
    filed = register_sample(app, proxy_agent=agent).case_id
    plain = register_sample(app).case_id
    answered = register_sample(app).case_id
    for case in (plain, answered):
        app.execute(c.MakeSuggestion(case_id=case, actor="supervisor", kind="improve_work",
                                     unit=STREET, text="建议改进"))
    app.execute(c.RespondToSuggestion(case_id=answered, actor="handler", number=1, unit=STREET,
                                      response="已改进"))
    clock.advance(timedelta(days=9))  # the agent's first week passed without a meeting
    views = views_of(app)
    r.catch_up(app, views, "supervision_queue")
    SupervisionProcess(app, r.supervision_queue(views)).tick(clock.now())
    r.catch_up(app, views, "analysis_facts", batch_size=2)
    view = r.analysis_facts(views)
    month = parse_period(f"{clock.now():%Y-%m}")
    figures = {f["name"]: f for f in aq.indicators(app.org, view, month, None,
                                                   clock.now())["indicators"]}
    pick = {n: (figures[n]["numerator"], figures[n]["denominator"])
            for n in ("proxy_share", "proxy_contact_kept", "suggestion_rate",
                      "suggestion_responded")}
    assert pick == {"proxy_share": (1, 3), "proxy_contact_kept": (0, 1),
                    "suggestion_rate": (2, 3), "suggestion_responded": (1, 2)}
    assert filed is not None
