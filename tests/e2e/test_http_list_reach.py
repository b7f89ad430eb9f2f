"""Lists and queues cut by exactly the rule that guards reading one case (issue 10, item 3).

On a demo-sized data set, for every role × every unit of the chart: the cases ``GET /petitions``
lists are exactly the cases the single-case read lets that caller read, and the supervision
queues list exactly the readable cases' obligations. Reading out of reach is 404, like an
unknown case. List rows never carry the query-code hash.
"""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from adapters.synthetic.demo import DemoDistrict
from tests.e2e.conftest import DISTRICT, Staff, register_body
from workflows import commands as c
from workflows.access import Principal, Role, in_scope
from workflows.clock import ManualClock

pytestmark = pytest.mark.parametrize("backend", ["sqlite"])
FAR = "2999-12-31T00:00:00Z"


def _all(client: TestClient, path: str, headers: dict[str, str], **params: Any
         ) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get(path, params={**params, "limit": 500,
                                        **({"cursor": cursor} if cursor else {})},
                          headers=headers)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


@pytest.fixture
def demo(api: FastAPI, client: TestClient, clock: ManualClock) -> list[Any]:
    """About 200 demo cases, plus one received at QH-D01 about a place in QH-D03, with the
    read models caught up: they are written straight to the application, ~1,300 events, more
    than a read waits for (``SETTLE_LAG``), so a list read under load could see a part."""
    app = api.state.engine.app
    DemoDistrict(app, seed=7, now=clock.now(), days=60).run(200)
    app.register(c.RegisterPetition(actor="prep", **register_body(
        location={"district": "QH-D03", "street": "QH-D03-S01"})))
    api.state.engine.runner.wait_all(app.recorder.max_notification_id(), timeout=120)
    ids = [n.originator_id for n in app.recorder.select_notifications(
        start=None, limit=1_000_000, topics=["domain.events:Registered"])]
    return [app.get_petition(i) for i in ids]


def test_every_listed_case_is_readable_and_every_readable_case_is_listed(
    api: FastAPI, client: TestClient, staff: Staff, demo: list[Any]
) -> None:
    org = api.state.engine.app.org
    admin = staff.headers("admin", "QH")
    obligations = {(row["case_id"], row["kind"])
                   for row in _all(client, "/supervision/overdue", admin, as_of=FAR)}
    assert {str(p.id) for p in demo} == {r["case_id"] for r in _all(client, "/petitions", admin)}
    checked = 0
    for role in (Role.INTAKE, Role.HANDLER, Role.SUPERVISOR):
        for unit in (u.id for u in org):
            headers = staff.headers(role.value, unit)
            who = Principal(token_id="x", role=role, unit=unit)
            readable = {str(p.id) for p in demo if in_scope(who, p, org)}
            listed = [r["case_id"] for r in _all(client, "/petitions", headers)]
            assert len(listed) == len(set(listed))
            assert set(listed) == readable, (role, unit)
            if role is Role.SUPERVISOR:
                queue = {(r["case_id"], r["kind"])
                         for r in _all(client, "/supervision/overdue", headers, as_of=FAR)}
                assert queue == {o for o in obligations if o[0] in readable}, unit
            checked += len(readable)
    assert checked > 0


def test_reads_answer_a_listed_case_and_404_an_unlisted_one(
    api: FastAPI, client: TestClient, staff: Staff, demo: list[Any]
) -> None:
    for role, unit in (("intake", DISTRICT), ("intake", "QH-D02"), ("handler", "QH-D01-S01"),
                       ("supervisor", "QH-D03")):
        headers = staff.headers(role, unit)
        listed = {r["case_id"] for r in _all(client, "/petitions", headers)}
        assert listed, (role, unit)
        for petition in demo[:80]:
            got = client.get(f"/petitions/{petition.id}", headers=headers).status_code
            assert got == (200 if str(petition.id) in listed else 404), (role, unit)
        unknown = client.get(f"/petitions/{uuid4()}", headers=headers)
        outside = next(p for p in demo if str(p.id) not in listed)
        hidden = client.get(f"/petitions/{outside.id}", headers=headers)
        assert (hidden.status_code, hidden.json()["error"]) == (404, "not_found")
        assert unknown.json()["message"].replace(str(unknown.url).rsplit("/", 1)[-1], "ID") == \
            hidden.json()["message"].replace(str(outside.id), "ID")


def test_received_here_located_elsewhere_is_listed_here(
    client: TestClient, staff: Staff, demo: list[Any]
) -> None:
    case = next(p for p in demo if p.location.district == "QH-D03" and p.received_by == DISTRICT)
    listed = {r["case_id"] for r in _all(client, "/petitions", staff.headers("intake", DISTRICT))}
    assert str(case.id) in listed


def test_list_rows_carry_no_query_code_hash_or_internal_fields(
    client: TestClient, staff: Staff, demo: list[Any]
) -> None:
    for headers in (staff.headers("admin", "QH"), staff.headers("intake", DISTRICT)):
        rows = _all(client, "/petitions", headers)
        assert rows and all("query_code_hash" not in r and "position" not in r for r in rows)
    one = client.get(f"/petitions/{demo[0].id}", headers=staff.headers("admin", "QH"))
    assert "query_code_hash" not in one.json()


def test_similar_cases_list_only_cases_the_caller_can_read(
    api: FastAPI, client: TestClient, staff: Staff, demo: list[Any]
) -> None:
    """``POST /analytics/similar`` is a list of cases too: the same reach rule, in ranking order."""
    org = api.state.engine.app.org
    answered = [p for p in demo if p.answer is not None]
    assert answered
    text = answered[0].subject
    everyone = client.post("/analytics/similar", json={"text": text, "limit": 50},
                           headers=staff.headers("admin", "QH"))
    assert everyone.status_code == 200, everyone.text
    ranking = [item["case_id"] for item in everyone.json()["items"]]
    assert ranking
    by_id = {str(p.id): p for p in demo}
    compared = 0
    for role in (Role.INTAKE, Role.HANDLER, Role.SUPERVISOR):
        for unit in (u.id for u in org):
            who = Principal(token_id="x", role=role, unit=unit)
            found = client.post("/analytics/similar", json={"text": text, "limit": 50},
                                headers=staff.headers(role.value, unit))
            assert found.status_code == 200, found.text
            listed = [item["case_id"] for item in found.json()["items"]]
            expected = [i for i in ranking if in_scope(who, by_id[i], org)]
            if len(ranking) < 50:  # the admin's ranking is complete: compare in full
                assert listed == expected, (role, unit)
            assert set(listed) <= set(expected), (role, unit)
            compared += len(listed)
    assert compared > 0
