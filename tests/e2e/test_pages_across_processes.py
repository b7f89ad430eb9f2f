"""A citizen's page session holds across API processes: two `petition serve` on one store, the
query code entered on one, the case followed, a reception booked and cancelled and the session
left on the other, each form's token rendered by one process and spent on the other. Before,
the session (the case a query code opened) and the form tokens lived in each process's memory,
so with ``serve --workers N`` or several machines the next request lost both. The same holds
for the online filing's draft: the form sent on one process, its phone code entered on the
other, the wrong codes counted across both."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from adapters.wiring import Root
from tests.e2e.conftest import DISTRICT, bearer, free_port, register_body
from tests.e2e.pages_client import FORM, hidden
from tests.processes import answers, environment, running, wait_until
from workflows.access import Role


def _staff_token(settings) -> str:
    root = Root(settings)
    try:
        return root.tokens.issue(Role.INTAKE, DISTRICT).token
    finally:
        root.app.close()


def _post(citizen: httpx.Client, url: str, page: str, path: str,
          data: dict[str, str]) -> httpx.Response:
    """Renders ``page`` on one process; posts its form (with its token) to ``url``."""
    rendered = citizen.get(page)
    assert rendered.status_code == 200, rendered.text
    return citizen.post(f"{url}{path}", data={"csrf": hidden(rendered.text, "csrf"), **data})


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_citizen_session_follows_the_citizen_across_processes(settings, tmp_path):
    token = _staff_token(settings)
    env = environment(settings, PETITION_SUPERVISION_INTERVAL="0")
    first, second = (f"http://127.0.0.1:{free_port()}" for _ in range(2))
    with running(["serve", "--port", first.rsplit(":", 1)[1]], env, tmp_path / "a.log"), \
            running(["serve", "--port", second.rsplit(":", 1)[1]], env, tmp_path / "b.log"), \
            httpx.Client(timeout=30, follow_redirects=True) as citizen:
        for url in (first, second):
            wait_until(lambda u=url: answers(f"{u}/healthz"), 60, f"{url} to answer")
        registered = httpx.post(f"{first}/petitions", json=register_body(),
                                headers=bearer(token), timeout=30)
        assert registered.status_code == 201, registered.text
        code = registered.json()["query_code"]
        slot = _publish(first, token)

        # the code is entered on the first process; the case page is asked of the second
        followed = _post(citizen, first, f"{first}/citizen", "/citizen/follow",
                         {"query_code": code})
        assert followed.status_code == 200 and followed.url.path == "/citizen/case", followed.text
        on_second = citizen.get(f"{second}/citizen/case", follow_redirects=False)
        assert on_second.status_code == 200, on_second.headers
        assert "预约接访" in on_second.text and code not in on_second.text

        # a form rendered by one process is accepted once by the other, and only once
        listing = citizen.get(f"{second}/citizen/case/reception")
        assert slot in listing.text
        csrf = hidden(listing.text, "csrf")
        booked = citizen.post(f"{first}/citizen/case/book-reception",
                              data={"csrf": csrf, "slot_id": slot})
        assert booked.status_code == 200 and "接访已预约" in booked.text, booked.text
        replay = citizen.post(f"{second}/citizen/case/book-reception",
                              data={"csrf": csrf, "slot_id": slot})
        assert replay.status_code == 400  # spent on the first process

        cancelled = _post(citizen, first, f"{second}/citizen/case",
                          "/citizen/case/cancel-reception", {"reason": "时间冲突"})
        assert cancelled.status_code == 200 and "接访预约已取消" in cancelled.text

        # leaving on one process ends the case on every process
        left = _post(citizen, second, f"{first}/citizen/case", "/citizen/case/leave", {})
        assert left.status_code == 200 and left.url.path == "/citizen"
        gone = citizen.get(f"{first}/citizen/case", follow_redirects=False)
        assert gone.status_code == 303 and gone.headers["location"] == "/citizen"

        # the cookie is random and stored nowhere as it is
        sid = citizen.cookies["citizen_session"]
        assert len(sid) >= 32 and re.fullmatch(r"[A-Za-z0-9_-]+", sid)


def _publish(url: str, token: str) -> str:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=50)
    published = httpx.post(f"{url}/receptions/slots", headers=bearer(token), timeout=30, json={
        "actor": "x", "unit": DISTRICT, "leader": "王区长", "mode": "video",
        "place": "区信访局三楼", "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(minutes=30)).isoformat()})
    assert published.status_code == 201, published.text
    return str(published.json()["slot_id"])


def _latest_code(settings) -> str:
    root = Root(settings)
    try:
        message = root.outbox().list(1)[0].message
    finally:
        root.app.close()
    match = re.search(r"\b(\d{6})\b", message)
    assert match, "no code in the outbox"
    return match.group(1)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_filing_is_verified_on_another_process(settings, tmp_path):
    env = environment(settings, PETITION_SUPERVISION_INTERVAL="0")
    first, second = (f"http://127.0.0.1:{free_port()}" for _ in range(2))
    with running(["serve", "--port", first.rsplit(":", 1)[1]], env, tmp_path / "a.log"), \
            running(["serve", "--port", second.rsplit(":", 1)[1]], env, tmp_path / "b.log"), \
            httpx.Client(timeout=30, follow_redirects=True) as citizen:
        for url in (first, second):
            wait_until(lambda u=url: answers(f"{u}/healthz"), 60, f"{url} to answer")
        started = _post(citizen, first, f"{first}/citizen/file", "/citizen/file", FORM)
        assert started.status_code == 200 and "验证码已发送至" in started.text, started.text
        draft = hidden(started.text, "draft")
        code = _latest_code(settings)
        wrong = f"{(int(code) + 1) % 10**6:06d}"
        tries_left = []
        for url in (second, first):  # wrong codes count on both processes
            refused = citizen.post(f"{url}/citizen/verify", data={
                "csrf": hidden(citizen.get(f"{url}/citizen").text, "csrf"),
                "draft": draft, "code": wrong})
            assert refused.status_code == 422, refused.text
            tries_left.append(re.search(r"还可尝试\s*(\d+)", refused.text).group(1))
        assert tries_left == ["4", "3"]  # one count of five tries, not one per process
        receipt = citizen.post(f"{second}/citizen/verify", data={
            "csrf": hidden(citizen.get(f"{second}/citizen").text, "csrf"),
            "draft": draft, "code": code})
        assert receipt.status_code == 200, receipt.text
        assert re.search(r'id="query-code">[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}<', receipt.text)
        again = citizen.post(f"{first}/citizen/verify", data={
            "csrf": hidden(citizen.get(f"{first}/citizen").text, "csrf"),
            "draft": draft, "code": code})
        assert again.status_code == 422 and 'id="query-code"' not in again.text  # taken once
