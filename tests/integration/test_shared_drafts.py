"""The online filing's drafts in the store, on SQLite and PostgreSQL: two stores (two processes)
on one database share a draft, count its wrong codes once and let it be taken once; it expires,
expired rows are swept and the table capped; nothing of the petitioner is stored in clear; the
abuse limits count across processes."""

from __future__ import annotations

from adapters.pages.drafts import Draft, stored_filing
from adapters.pages.filing import Filing
from adapters.persistence import shared_drafts
from adapters.persistence.shared_counters import SharedCounters
from adapters.persistence.shared_drafts import SharedDrafts
from tests.e2e.pages_client import FORM
from tests.integration.test_shared_sessions import FakeTime


def _stores(app, settings, time: FakeTime, ttl: float = 600, capacity: int = 100):
    cipher, codes = app.mapper.cipher, app.query_codes
    datastore, postgres = app.factory.datastore, settings.is_postgres
    return [stored_filing(SharedDrafts(datastore, postgres=postgres, ttl=ttl, capacity=capacity,
                                       clock=time),
                          SharedCounters(datastore, postgres=postgres, clock=time), codes.mac,
                          cipher.encrypt, cipher.decrypt) for _ in range(2)]


class _Silent:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, phone: str, message: str) -> None:
        self.sent.append((phone, message))


def test_a_draft_is_shared_counted_once_and_taken_once(app, settings):
    time = FakeTime()
    one, two = _stores(app, settings, time)
    filing = Filing(app, _Silent(), store=one)
    draft = Draft("session-a", filing.command(FORM), "code-hash", values={"x": "y"})
    one.drafts.put("draft-1", draft)
    seen = two.drafts.get("draft-1")
    assert seen is not None and seen.command == draft.command and seen.session_id == "session-a"
    assert seen.values == {"x": "y"} and seen.tries == 0
    assert [one.drafts.fail("draft-1"), two.drafts.fail("draft-1")] == [1, 2]
    assert one.drafts.get("draft-1").tries == 2
    assert two.drafts.take("draft-1").command == draft.command
    assert one.drafts.take("draft-1") is None and one.drafts.fail("draft-1") is None

    one.drafts.put("draft-2", draft)
    time.now += 601
    assert two.drafts.get("draft-2") is None and two.drafts.take("draft-2") is None


def test_nothing_of_the_petitioner_is_stored_in_clear(app, settings):
    time = FakeTime()
    one, _ = _stores(app, settings, time)
    filing = Filing(app, _Silent(), store=one)
    one.drafts.put("draft-in-clear-0123456789", Draft("session-a", filing.command(FORM), "h"))
    prefix = f'"{app.factory.datastore.schema}".' if settings.is_postgres else ""
    with app.factory.datastore.transaction(commit=False) as c:
        c.execute(f"SELECT * FROM {prefix}{shared_drafts.TABLE}")
        rows = repr([dict(row) for row in c.fetchall()])
    for secret in ("draft-in-clear-0123456789", FORM["name"], FORM["id_number"], FORM["phone"],
                   FORM["content"], "session-a"):
        assert secret not in rows


def test_expired_drafts_are_swept_and_the_table_capped(app, settings):
    time = FakeTime()
    one, _ = _stores(app, settings, time, ttl=1000, capacity=3)
    draft = Draft("s", Filing(app, _Silent(), store=one).command(FORM), "h")
    for n in range(5):
        one.drafts.put(f"old-{n}", draft)
        time.now += 1
    assert one.drafts.shared.count() == 5  # swept at most once a minute
    time.now += shared_drafts.SWEEP_EVERY
    one.drafts.put("new", draft)
    assert one.drafts.shared.count() == 3  # capped: the newest three kept
    assert one.drafts.get("new") is not None and one.drafts.get("old-4") is not None
    assert one.drafts.get("old-0") is None
    time.now += 1000
    one.drafts.put("last", draft)
    assert one.drafts.shared.count() == 1  # the expired ones swept


def test_the_abuse_limits_count_across_processes(app, settings):
    time = FakeTime()
    one, two = _stores(app, settings, time)
    limits = [store.limit("phone", 5, 3600) for store in (one, two)]
    assert [limits[n % 2].allow("13975318642") for n in range(6)] == [True] * 5 + [False]
    assert limits[0].allow("13800000000")  # another phone
    time.now += 3601
    assert limits[1].allow("13975318642")  # a new window
