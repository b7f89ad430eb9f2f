"""The whole citizen story in a real browser: file (a disguised program refused beside the
field, then a real photo attached), verify the phone (code read from the outbox), keep the
query code, staff accept → delegate → answer over the API, follow the
timeline, rate, ask for review. On SQLite with a phone's viewport and on PostgreSQL with a
desktop one; every page passes an axe-core scan with no serious or critical violation.

Screenshots go to the pytest temporary folder, or to PETITION_SCREENSHOTS when set
(``PETITION_SCREENSHOTS=docs/screenshots`` refreshes the README's pictures).
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.e2e.conftest import DISTRICT, STREET, Staff, register_body
from tests.e2e.pages_client import FORM, latest_code
from tests.sample_files import pdf, png, windows_exe
from workflows.clock import ManualClock

AXE = (Path(__file__).parent / "axe.min.js").read_text(encoding="utf-8")
VIEWPORTS = {"phone": (390, 844), "desktop": (1280, 900)}


@pytest.fixture(params=[("sqlite", "phone"), ("postgres", "desktop")], ids=lambda p: p[0])
def run(request: pytest.FixtureRequest) -> tuple[str, str]:
    return request.param


@pytest.fixture
def backend(run: tuple[str, str]) -> str:
    return run[0]


class Pages:
    def __init__(self, driver: Any, base: str, viewport: str, shots: Path):
        self.driver, self.base, self.viewport, self.shots = driver, base, viewport, shots
        width, height = VIEWPORTS[viewport]
        driver.set_window_size(width, height)
        # the window includes browser chrome: size the page itself to the viewport
        inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
        driver.set_window_size(2 * width - inner[0], 2 * height - inner[1])

    def open(self, path: str) -> None:
        self.driver.get(self.base + path)

    def by_css(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def fill(self, fields: dict[str, str]) -> None:
        from selenium.webdriver.support.ui import Select

        for name, value in fields.items():
            element = self.by_css(f"[name={name}]")
            if element.tag_name == "select":
                Select(element).select_by_value(value)
            else:
                element.clear()
                element.send_keys(value)

    def submit(self, form_css: str = "main form") -> None:
        self.click(f"{form_css} button[type=submit]")

    def click(self, css: str) -> None:
        """Clicks and waits until a new document has replaced this one (no fixed sleeps).

        While Chromium swaps documents, chromedriver may answer a question about a node of the
        old one with "Node with given id does not belong to the document" instead of a stale
        element error (seen in CI on both stores, on unchanged code). So the wait asks for the
        current root element until it is another element than before and its document has
        loaded, and treats both answers as "not yet"; any other error propagates at once."""
        from selenium.webdriver.support.ui import WebDriverWait

        old = self.by_css("html").id
        self.by_css(css).click()
        WebDriverWait(self.driver, 20).until(lambda driver: self._replaced(old))

    def _replaced(self, old: str) -> bool:
        from selenium.common.exceptions import (
            NoSuchElementException,
            StaleElementReferenceException,
            WebDriverException,
        )

        try:
            return bool(self.by_css("html").id != old and self.driver.execute_script(
                "return document.readyState") == "complete")
        except (NoSuchElementException, StaleElementReferenceException):
            return False
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return False
            raise

    def check(self, name: str) -> None:
        """Screenshot of the whole page and an accessibility scan of it."""
        self.shots.mkdir(parents=True, exist_ok=True)
        height = self.driver.execute_script("return document.body.scrollHeight")
        width = VIEWPORTS[self.viewport][0]
        size = self.driver.get_window_size()
        self.driver.set_window_size(size["width"], max(size["height"], height + 120))
        self.driver.save_screenshot(str(self.shots / f"{self.viewport}-{name}.png"))
        self.driver.set_window_size(size["width"], size["height"])
        assert width
        self.driver.execute_script(AXE)
        violations = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']})"
            ".then(r => done(r.violations.map(v => [v.id, v.impact, v.nodes.length])));")
        serious = [v for v in violations if v[1] in ("serious", "critical")]
        assert not serious, (name, serious)


def test_citizen_story_in_chromium(api: FastAPI, live_url: str, browser: Any,
                                   run: tuple[str, str], clock: ManualClock,
                                   tmp_path: Path) -> None:
    shots = Path(os.environ.get("PETITION_SCREENSHOTS") or tmp_path / "screenshots")
    pages = Pages(browser, live_url, run[1], shots)

    disguised, photo = tmp_path / "photo.jpg", tmp_path / "lamp-photo.png"
    disguised.write_bytes(windows_exe())
    photo.write_bytes(png(16, 12))
    pages.open("/citizen")
    pages.check("1-home")
    pages.click("a.button[href='/citizen/file']")
    assert browser.current_url.endswith("/citizen/file")
    pages.fill({"subject": "短", "content": "x", "category": "environment",
                "place": f"{DISTRICT}/{STREET}", "name": FORM["name"],
                "id_number": FORM["id_number"][:17] + ("1" if FORM["id_number"][17] != "1"
                                                       else "2"),
                "phone": FORM["phone"]})
    pages.by_css("#attachments").send_keys(str(disguised))
    pages.submit()
    assert "身份证号码不正确" in pages.by_css("#id_number-error").text
    refused = pages.by_css("#attachments-error").text
    assert "photo.jpg" in refused and "内容不是" in refused
    pages.check("2-file-errors")
    pages.fill({**FORM, "category": "environment"})
    pages.by_css("#attachments").send_keys(str(photo))
    pages.submit()

    assert "验证码已发送至" in pages.by_css("main").text
    pages.check("3-verify")
    pages.fill({"code": latest_code(api)})
    pages.submit()

    code = pages.by_css("#query-code").text
    assert re.fullmatch(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}", code)
    assert "只显示这一次" in pages.by_css(".warning").text
    pages.check("4-receipt")

    staff = Staff(api)
    case_id = api.state.engine.app.case_id_for_query_code(code)
    with httpx.Client(base_url=live_url, timeout=30) as http:
        for action, body, who in (
                ("accept", {"handling_track": "claim", "speed_track": "general"},
                 staff.headers("intake", DISTRICT)),
                ("delegate", {"unit": STREET, "note": "内部备注"}, staff.headers("intake",
                                                                              DISTRICT)),
                ("answer", {"answer": "已联系环保部门现场检查，责令整改。"},
                 staff.headers("handler", STREET))):
            clock.advance(timedelta(hours=5))
            assert http.post(f"/petitions/{case_id}/{action}", json=body,
                             headers=who).status_code == 200
        reply = http.post(f"/petitions/{case_id}/attach-document",
                          files={"file": ("书面答复意见书.pdf", pdf(), "application/pdf")},
                          headers=staff.headers("handler", STREET))
        assert reply.status_code == 200, reply.text  # a staff document: not on the page

    pages.open("/citizen")
    pages.fill({"query_code": code})
    pages.submit("form[action='/citizen/follow']")
    assert browser.current_url.endswith("/citizen/case")
    timeline = pages.by_css("#timeline").text
    for step in ("登记", "受理", "交办至责任单位", "答复"):
        assert step in timeline
    assert "内部备注" not in browser.page_source and code not in browser.current_url
    assert "lamp-photo.png" in pages.by_css("section#attachments").text
    assert "书面答复意见书" not in browser.page_source
    more = tmp_path / "site-photo.png"
    more.write_bytes(png(20, 10, seed=3))
    pages.by_css("#add-attachment").send_keys(str(more))  # 补充材料, while the case is open
    pages.submit("form[action='/citizen/case/add-attachment']")
    assert "补充材料已提交" in pages.by_css(".notice").text
    stored = api.state.engine.app.get_petition(case_id).attachments
    assert [(a.file_name, a.media_type) for a in stored] == [
        ("lamp-photo.png", "image/png"), ("site-photo.png", "image/png")]
    assert "site-photo.png" in pages.by_css("section#attachments").text
    pages.check("5-case-answered")

    for dimension, level in (("attitude", "satisfied"), ("efficiency", "basically_satisfied"),
                             ("quality", "unsatisfied")):
        pages.by_css(f"input[name={dimension}][value={level}]").click()
    pages.fill({"comment": "整改不彻底"})
    pages.submit("form[action='/citizen/case/rate']")
    assert "感谢您的评价" in pages.by_css(".notice").text
    days_left = int(pages.by_css(".days-left").text)
    assert days_left > 0
    pages.fill({"reason": "油烟仍然直排"})
    pages.submit("form[action='/citizen/case/review']")
    assert "复查中" in pages.by_css(".status").text
    pages.check("6-case-review")

    pages.open("/citizen/lang/en?next=/citizen")
    assert "Follow my petition" in pages.by_css("main").text
    pages.check("7-home-english")


def test_reception_booking_in_chromium(api: FastAPI, live_url: str, browser: Any,
                                       run: tuple[str, str], clock: ManualClock,
                                       tmp_path: Path) -> None:
    """领导接访日 / 视频接访 from the follow page: the free slots of the case's units, book one
    (a radio with its label), see it on the case page and in the timeline, cancel it; the
    query code stays in the session, never in a URL; every page passes the axe-core scan."""
    shots = Path(os.environ.get("PETITION_SCREENSHOTS") or tmp_path / "screenshots")
    pages = Pages(browser, live_url, run[1], shots)
    staff = Staff(api)
    intake = staff.headers("intake", DISTRICT)
    start = clock.now() + timedelta(days=3)
    with httpx.Client(base_url=live_url, timeout=30) as http:
        for hours, leader, mode in ((0, "王区长", "video"), (24, "李副区长", "in_person")):
            at = start + timedelta(hours=hours)
            assert http.post("/receptions/slots", headers=intake, json={
                "actor": "x", "unit": DISTRICT, "leader": leader, "mode": mode,
                "place": "区信访局三楼接访室", "starts_at": at.isoformat(),
                "ends_at": (at + timedelta(minutes=30)).isoformat()}).status_code == 201
        registered = http.post("/petitions", headers=intake, json=register_body())
        assert registered.status_code == 201, registered.text
        code = registered.json()["query_code"]

    pages.open("/citizen")
    pages.fill({"query_code": code})
    pages.submit("form[action='/citizen/follow']")
    assert "预约接访" in pages.by_css("section#reception").text
    pages.click("section#reception a.button")
    assert browser.current_url.endswith("/citizen/case/reception")
    listed = pages.by_css("fieldset.slots").text
    assert "王区长" in listed and "李副区长" in listed and "视频接访" in listed
    pages.check("r1-reception-slots")

    pages.by_css("label[for=slot-1]").click()
    pages.submit("form[action='/citizen/case/book-reception']")
    assert browser.current_url.endswith("/citizen/case")
    assert "接访已预约" in pages.by_css(".notice").text
    booking = pages.by_css("section#reception").text
    assert "王区长" in booking and "区信访局三楼接访室" in booking
    assert "预约领导接访" in pages.by_css("#timeline").text
    pages.check("r2-reception-booked")

    pages.fill({"reason": "时间冲突"})
    pages.submit("form[action='/citizen/case/cancel-reception']")
    assert "接访预约已取消" in pages.by_css(".notice").text
    assert "取消接访预约" in pages.by_css("#timeline").text
    assert code not in browser.current_url and code not in browser.page_source
    case_id = api.state.engine.app.case_id_for_query_code(code)
    assert api.state.engine.app.get_petition(case_id).reception_booking is None
    pages.check("r3-reception-cancelled")
