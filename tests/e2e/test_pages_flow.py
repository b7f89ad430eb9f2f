"""The citizen pages over HTTP (no browser): file, verify, receipt, follow, rate, review,
withdraw — on SQLite and PostgreSQL, through the same commands and rules as staff intake."""

from __future__ import annotations

import re
from datetime import timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.e2e.conftest import DISTRICT, STREET, Staff, appended
from tests.e2e.pages_client import FORM, Citizen, hidden
from workflows.clock import ManualClock


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_citizen_files_follows_rates_and_asks_for_review(
        api: FastAPI, client: TestClient, staff: Staff, clock: ManualClock) -> None:
    citizen = Citizen(client, api)
    code = citizen.file()
    case_id = api.state.engine.app.case_id_for_query_code(code)
    assert api.state.engine.app.get_petition(case_id).channel == "online"
    first = api.state.engine.app.events_of(case_id)[0]
    assert first.actor.startswith("citizen:") and FORM["phone"] not in first.actor
    assert first.received_by == DISTRICT and first.location.street == STREET

    intake, handler = staff.headers("intake", DISTRICT), staff.headers("handler", STREET)
    for action, body, who in (
            ("accept", {"handling_track": "claim", "speed_track": "general"}, intake),
            ("delegate", {"unit": STREET, "note": "内部备注：请核实"}, intake),
            ("answer", {"answer": "已安排维修，三日内完成。"}, handler)):
        clock.advance(timedelta(hours=3))
        response = client.post(f"/petitions/{case_id}/{action}", json=body, headers=who)
        assert response.status_code == 200, response.text

    page = citizen.follow(code)
    assert page.status_code == 200 and page.url.path == "/citizen/case"
    shown = text(page.text)
    for step in ("登记", "受理", "交办至责任单位", "答复", "送达"):  # opening delivers online
        assert step in shown
    assert "文昌街道" in shown and "已安排维修，三日内完成。" in shown
    assert "内部备注" not in shown and "intake" not in shown and FORM["name"] not in shown
    assert code not in page.text  # the code is never echoed back

    rated = citizen.act("rate", {"attitude": "satisfied", "efficiency": "basically_satisfied",
                                 "quality": "unsatisfied", "comment": "维修太慢"})
    assert rated.status_code == 200 and "感谢您的评价" in rated.text
    petition = api.state.engine.app.get_petition(case_id)
    assert petition.ratings is not None and petition.ratings.quality == "unsatisfied"
    assert "评价办理结果" not in rated.text  # rated once per answer

    days = re.search(r'class="days-left">(\d+)<', rated.text)
    assert days and int(days.group(1)) > 0
    asked = citizen.act("review", {"reason": "维修质量差"})
    assert asked.status_code == 200 and "复查申请已提交" in asked.text
    assert api.state.engine.app.get_petition(case_id).status == "under_review"


def test_receipt_shows_code_once_with_warning_and_deadline(api: FastAPI,
                                                            client: TestClient) -> None:
    citizen = Citizen(client, api)
    receipt = citizen.verify(citizen.start())
    assert receipt.status_code == 200
    assert "只显示这一次" in receipt.text and "受理期限" in receipt.text
    assert 'data-print' in receipt.text
    assert receipt.headers["cache-control"] == "no-store"


def test_duplicate_within_a_day_answers_with_the_existing_case(api: FastAPI,
                                                                client: TestClient) -> None:
    citizen = Citizen(client, api)
    first = citizen.file()
    end = appended(api)
    again = citizen.verify(citizen.start())
    assert again.status_code == 200 and "没有重复登记" in again.text
    assert hidden_code(again.text) == first
    assert appended(api) == end
    other = citizen.file(content="另一件事：小区门口积水。")
    assert other != first


def hidden_code(html: str) -> str:
    match = re.search(r'id="query-code">([^<]+)<', html)
    assert match
    return match.group(1)


def test_wrong_phone_code_is_refused_then_the_draft_expires(api: FastAPI,
                                                            client: TestClient) -> None:
    citizen = Citizen(client, api)
    end = appended(api)
    started = citizen.start()
    page = started
    for tries_left in (4, 3, 2, 1):
        page = citizen.client.post("/citizen/verify", data={
            "csrf": hidden(page.text, "csrf"), "draft": hidden(started.text, "draft"),
            "code": "000000" if tries_left % 2 else "abc"})
        assert page.status_code == 422 and "验证码不正确" in page.text
        assert f"还可尝试 {tries_left} 次" in text(page.text)
    last = citizen.client.post("/citizen/verify", data={
        "csrf": hidden(page.text, "csrf"), "draft": hidden(started.text, "draft"),
        "code": "000001"})
    assert last.status_code == 422 and "验证码已失效" in last.text
    assert FORM["subject"] in last.text  # the form comes back filled in
    assert appended(api) == end


def test_field_limits_are_shown_next_to_the_field(api: FastAPI, client: TestClient) -> None:
    citizen = Citizen(client, api)
    end = appended(api)
    bad = citizen.start(subject="长" * 201, id_number=FORM["id_number"][:17] + "0"
                        if FORM["id_number"][17] != "0" else FORM["id_number"][:17] + "1",
                        phone="1234", place="QH-D01/QH-D02-S01", category="x", name=" ")
    assert bad.status_code == 422
    for field, message in (("subject", "内容太长"), ("id_number", "校验码"),
                           ("phone", "11 位手机号码"), ("place", "请从列表中选择"),
                           ("category", "请从列表中选择"), ("name", "此项必填")):
        assert re.search(rf'id="{field}-error">[^<]*{message}', bad.text), field
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', bad.text), field
    assert "verify" not in bad.url.path and appended(api) == end


def test_filed_markup_is_inert(api: FastAPI, client: TestClient) -> None:
    citizen = Citizen(client, api)
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    code = citizen.file(subject=attack, content=attack)
    page = citizen.follow(code)
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "&lt;script&gt;" in page.text


def test_forms_without_or_with_a_spent_csrf_token_are_refused(api: FastAPI,
                                                              client: TestClient) -> None:
    citizen = Citizen(client, api)
    end = appended(api)
    assert client.post("/citizen/file", data=FORM).status_code == 400
    token = hidden(client.get("/citizen/file").text, "csrf")
    started = client.post("/citizen/file", data={"csrf": token, **FORM})
    assert started.status_code == 200
    replayed = client.post("/citizen/file", data={"csrf": token, **FORM})
    assert replayed.status_code == 400 and "已提交过或已过期" in replayed.text
    # a token from another session is no good either
    with TestClient(api) as other:
        stolen = hidden(other.get("/citizen/file").text, "csrf")
    assert client.post("/citizen/file", data={"csrf": stolen, **FORM}).status_code == 400
    code = citizen.verify(started)
    assert code.status_code == 200
    replay_verify = client.post("/citizen/verify", data={
        "csrf": hidden(started.text, "csrf"), "draft": hidden(started.text, "draft"),
        "code": "123456"})
    assert replay_verify.status_code == 400
    assert appended(api) == end + 3  # one registration: case, query-code index, duplicate guard


def test_cookies_and_headers(client: TestClient) -> None:
    page = client.get("/citizen")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/citizen" in cookie
    assert "<script>" not in page.text and "style=" not in page.text and " on" not in \
        re.sub(r'"[^"]*"', "", page.text).split("<body>")[1].split(">")[0]
    assert client.get("/citizen/static/htmx.min.js").status_code == 200


def test_english_switch(client: TestClient) -> None:
    switched = client.get("/citizen/lang/en", params={"next": "/citizen/file"})
    assert switched.url.path == "/citizen/file"
    assert "File a petition" in switched.text and '<html lang="en">' in switched.text
    for elsewhere in ("https://evil.example/citizen", "//evil.example/citizen",
                      "javascript:/citizen", "/other"):
        away = client.get("/citizen/lang/zh", params={"next": elsewhere},
                          follow_redirects=False)
        assert away.headers["location"] == "/citizen", elsewhere


def test_withdraw(api: FastAPI, client: TestClient) -> None:
    citizen = Citizen(client, api)
    code = citizen.file()
    citizen.follow(code)
    done = citizen.act("withdraw", {"reason": "问题已自行解决"})
    assert done.status_code == 200 and "已撤回" in done.text
    assert "撤回信访事项" not in done.text
    empty = citizen.act("withdraw", {"reason": ""})
    assert empty.status_code == 422


def test_code_guessing_shares_the_status_throttle(api: FastAPI, client: TestClient) -> None:
    citizen = Citizen(client, api)
    for _ in range(5):
        wrong = citizen.follow("AAAA-BBBB-CCCC")
        assert wrong.status_code == 404 and "查询码不正确" in wrong.text
    api_answer = client.post("/status", json={"query_code": "AAAA-BBBB-CCCC"})
    assert api_answer.status_code == 429
    page = citizen.follow("AAAA-BBBB-CCCC")
    assert page.status_code == 429 and "尝试次数过多" in page.text
