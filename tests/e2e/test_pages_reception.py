"""Booking a reception (领导接访日 / 视频接访) on the citizen pages, no browser, both stores: from
the follow page (the case in the session, the query code never in a URL) the petitioner lists
the free slots of the units that receive the case, books one, sees it on the case page and
in the timeline (public parts only), cancels it; a taken slot is refused beside the list and
appends nothing; a withdrawn case frees its slot."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.e2e.conftest import DISTRICT, OTHER_DISTRICT, Staff, appended
from tests.e2e.pages_client import Citizen, hidden
from tests.e2e.test_pages_flow import text
from tests.integration.helpers import numbered_id_number
from workflows.clock import ManualClock


def publish(client: TestClient, staff: Staff, clock: ManualClock, *, hours: int,
            unit: str = DISTRICT, leader: str = "王区长", mode: str = "video") -> str:
    start = clock.now() + timedelta(hours=hours)
    who = "intake" if unit == DISTRICT else "admin"
    published = client.post("/receptions/slots", headers=staff.headers(who, unit), json={
        "actor": "x", "unit": unit, "leader": leader, "mode": mode, "place": "区信访局三楼",
        "starts_at": start.isoformat(), "ends_at": (start + timedelta(minutes=30)).isoformat()})
    assert published.status_code == 201, published.text
    return str(published.json()["slot_id"])


def book(citizen: Citizen, slot_id: str) -> Any:
    return citizen.post("/citizen/case/book-reception", "/citizen/case/reception",
                        {"slot_id": slot_id})


def test_book_see_and_cancel_a_reception(api: FastAPI, client: TestClient, staff: Staff,
                                         clock: ManualClock) -> None:
    mine = publish(client, staff, clock, hours=50)
    later = publish(client, staff, clock, hours=74, leader="李副区长", mode="in_person")
    elsewhere = publish(client, staff, clock, hours=60, unit=OTHER_DISTRICT, leader="外区")
    citizen = Citizen(client, api)
    code = citizen.file()
    case_page = citizen.follow(code)
    assert "预约接访" in case_page.text and 'href="/citizen/case/reception"' in case_page.text

    listing = client.get("/citizen/case/reception")
    assert listing.status_code == 200 and code not in listing.text
    offered = set(hidden_values(listing.text, "slot_id"))
    assert offered == {mine, later}  # not another district's
    assert "王区长" in listing.text and "视频接访" in listing.text and "现场接访" in listing.text
    for n in (1, 2):  # every radio has its own label
        assert f'for="slot-{n}"' in listing.text and f'id="slot-{n}"' in listing.text

    booked = book(citizen, mine)
    assert booked.status_code == 200 and booked.url.path == "/citizen/case"
    assert "接访已预约" in booked.text
    shown = text(booked.text)
    assert "王区长" in shown and "区信访局三楼" in shown and "取消预约" in shown
    timeline = text(booked.text.split('id="timeline"', 1)[1].split("</section>", 1)[0])
    assert "预约领导接访" in timeline and "视频接访" in timeline and "王区长" not in timeline
    case_id = api.state.engine.app.case_id_for_query_code(code)
    assert api.state.engine.app.get_petition(case_id).reception_booking.slot_id == mine
    assert "预约接访</a>" not in booked.text  # one booking at a time: no link to book another

    cancelled = citizen.post("/citizen/case/cancel-reception", "/citizen/case",
                             {"reason": "时间冲突"})
    assert cancelled.status_code == 200 and "接访预约已取消" in cancelled.text
    assert "取消接访预约" in text(cancelled.text)  # the timeline's step
    assert "时间冲突" not in cancelled.text  # the reason is not shown back in the timeline
    assert api.state.engine.app.get_petition(case_id).reception_booking is None
    assert elsewhere not in client.get("/citizen/case/reception").text


def test_a_taken_slot_is_refused_beside_the_list(api: FastAPI, client: TestClient,
                                                 staff: Staff, clock: ManualClock) -> None:
    slot = publish(client, staff, clock, hours=30)
    first, second = Citizen(client, api), Citizen(TestClient(api), api)
    first.follow(first.file())
    second.follow(second.file(phone="13900001111", id_number=numbered_id_number(9001)))
    listing = second.client.get("/citizen/case/reception")  # the slot is still free here
    assert slot in listing.text
    assert book(first, slot).status_code == 200
    before = appended(api)
    late = second.client.post("/citizen/case/book-reception",
                              data={"csrf": hidden(listing.text, "csrf"), "slot_id": slot})
    assert late.status_code == 422 and "已被预约" in late.text
    assert appended(api) == before
    assert 'id="no-slots"' in late.text  # the list is shown again, now without it
    bad = second.post("/citizen/case/book-reception", "/citizen/case",
                      {"slot_id": "not-a-slot"})
    assert bad.status_code == 422 and appended(api) == before


def test_without_a_followed_case_there_is_no_slot_list(client: TestClient) -> None:
    away = client.get("/citizen/case/reception", follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"] == "/citizen"
    refused = client.post("/citizen/case/book-reception", data={"slot_id": "x"})
    assert refused.status_code == 400  # no CSRF token, no case


def test_withdrawing_frees_the_booked_slot(api: FastAPI, client: TestClient, staff: Staff,
                                           clock: ManualClock) -> None:
    slot = publish(client, staff, clock, hours=30)
    citizen = Citizen(client, api)
    citizen.follow(citizen.file())
    assert book(citizen, slot).status_code == 200
    done = citizen.act("withdraw", {"reason": "问题已自行解决"})
    assert done.status_code == 200 and "已撤回" in done.text
    listed = client.get("/receptions/slots", headers=staff.headers("intake", DISTRICT))
    assert [(s["slot_id"], s["booked"]) for s in listed.json()["items"]] == [(slot, False)]


def hidden_values(html: str, name: str) -> list[str]:
    return re.findall(rf'name="{name}" value="([^"]*)"', html)
