"""Every instant, cursor and filter in a query is parsed in one place, with bounds: a bad one is
a 422 naming the parameter, never a 500 (issue 10, item 2).

Year 1 at +14:00 and year 9999 at -14:00 are valid ISO 8601 but cannot be converted to UTC;
hand-made cursors decode to the wrong kinds. Each used to reach the store and fail there.
"""

from __future__ import annotations

import base64
import json

import pytest
from fastapi.testclient import TestClient

from tests.e2e.conftest import CITY, DISTRICT, Staff, register_body
from workflows.as_of import parse_instant

BACKENDS = pytest.mark.parametrize("backend", ["sqlite", "postgres"])

EXTREMES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
            "1899-12-31T23:59:59+00:00", "3000-01-01T00:00:00Z", "2026-01-01T00:00:00"]


def _cursor(parts: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode()


HAND_MADE = [
    _cursor(["2026-01-01T00:00:00+00:00", {"a": 1}]),
    _cursor(["2026-01-01T00:00:00+00:00", {"a": 1}, "answer"]),
    _cursor(["0001-01-01T00:00:00+14:00", "x"]),
    _cursor(["0001-01-01T00:00:00+14:00", "x", "answer"]),
    _cursor([1, 2]), _cursor({"a": 1}), _cursor("x"), _cursor([]),
    _cursor(["2026-01-01T00:00:00+00:00", "x\u0000"]),
    "not-base64", "AAAA", base64.urlsafe_b64encode(b"\xff\xfe").decode(),
]
LISTS = ["/petitions", "/supervision/overdue", "/supervision/due-soon",
         "/supervision/unsatisfied"]


@pytest.fixture
def admin(staff: Staff) -> dict[str, str]:
    return staff.headers("admin", CITY)


@BACKENDS
@pytest.mark.parametrize("moment", EXTREMES)
@pytest.mark.parametrize("route,param", [("/supervision/overdue", "as_of"),
                                         ("/petitions", "registered_from"),
                                         ("/petitions", "registered_to")])
def test_instants_out_of_bounds_are_422_naming_the_parameter(
    client: TestClient, admin: dict[str, str], route: str, param: str, moment: str
) -> None:
    response = client.get(route, params={param: moment}, headers=admin)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_request"
    assert any(p["field"].endswith(param) for p in body["problems"])


@BACKENDS
@pytest.mark.parametrize("moment", EXTREMES)
def test_history_and_state_bound_their_instant_too(
    client: TestClient, staff: Staff, admin: dict[str, str], moment: str
) -> None:
    case = client.post("/petitions", json=register_body(),
                       headers=staff.headers("intake", DISTRICT)).json()["case_id"]
    for path in (f"/petitions/{case}/history", f"/petitions/{case}/state"):
        response = client.get(path, params={"as_of": moment}, headers=admin)
        assert response.status_code == 422, (path, response.text)


@BACKENDS
@pytest.mark.parametrize("cursor", HAND_MADE)
def test_hand_made_cursors_are_422(client: TestClient, admin: dict[str, str],
                                   cursor: str) -> None:
    for route in LISTS:
        response = client.get(route, params={"cursor": cursor}, headers=admin)
        assert response.status_code == 422, (route, response.text)
        assert response.json()["error"] == "invalid_request"


@BACKENDS
def test_the_bounds_keep_ordinary_instants_and_real_cursors(
    client: TestClient, staff: Staff, admin: dict[str, str]
) -> None:
    intake = staff.headers("intake", DISTRICT)
    for _ in range(3):
        client.post("/petitions", json=register_body(), headers=intake)
    bounds = {"registered_from": "1900-01-01T08:00+08:00", "registered_to": "2999-12-31T23:59:59Z"}
    first = client.get("/petitions", params={"limit": 2, **bounds}, headers=admin).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = client.get("/petitions", params={"limit": 2, "cursor": first["next_cursor"]},
                      headers=admin).json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    late = client.get("/supervision/overdue", params={"as_of": "2999-12-31T23:59:59Z"},
                      headers=admin)
    assert late.status_code == 200


def test_the_cli_parses_instants_with_the_same_rule() -> None:
    for moment in EXTREMES:
        with pytest.raises(ValueError):
            parse_instant(moment)
    assert parse_instant("2026-03-20T09:00+08:00").utcoffset() is not None
