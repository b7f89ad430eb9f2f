"""Hotspots (counts, trends, the rising rule, GeoJSON) and similar-case search, on both stores."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from adapters.synthetic.families import near_duplicates
from projections import runner as r
from projections.hotspots import geojson, hotspots, poisson_tail
from projections.periods import parse_period
from projections.similar_cases import SimilarCases
from tests.integration.helpers import DISTRICT, STREET, register_command
from tests.views import views_of
from workflows import commands as c

CST = timezone(timedelta(hours=8))
OTHER_STREET = "QH-D01-S02"


def _register(app, at, category="城建", street=STREET, text=None, point=True):
    location = {"district": DISTRICT, "street": street}
    if point:
        location |= {"lat": 36.651234, "lon": 117.012345}
    extra = {"content": text, "subject": text[:20]} if text else {}
    return app.register(register_command(at=at, category=category, location=location,
                                         **extra)).case_id


def test_poisson_tail_and_the_rising_rule():
    assert poisson_tail(0, 2.0) == 1.0
    assert poisson_tail(1, 2.0) == pytest.approx(1 - 0.1353352832, abs=1e-9)
    assert poisson_tail(3, 0.5) == pytest.approx(0.0143876, abs=1e-6)
    assert poisson_tail(5, 1.0) < 0.05 < poisson_tail(3, 1.0)


def test_hotspots_by_street_category_and_week(app, clock):
    _register(app, clock.now(), category="噪音")  # Monday 2 March 2026: week 2026-W10
    clock.advance(timedelta(weeks=54))  # business time may lie at most 90 days back
    week = parse_period("2027-W10")  # Monday 8 March .. Sunday 14 March 2027
    assert week.year_before().label == "2026-W10"
    monday = datetime.combine(week.first, datetime.min.time(), tzinfo=CST) + timedelta(hours=10)
    for back in range(1, 5):  # one noise case a week for four weeks, two of the steady kind
        _register(app, monday - timedelta(weeks=back), category="噪音")
        for _ in range(2):
            _register(app, monday - timedelta(weeks=back), category="物业", street=OTHER_STREET,
                      point=False)
    burst = [_register(app, monday + timedelta(hours=h), category="噪音") for h in range(5)]
    for h in range(2):
        _register(app, monday + timedelta(hours=h), category="物业", street=OTHER_STREET,
                  point=False)
    _register(app, monday + timedelta(days=6, hours=13, minutes=59), category="噪音")  # Sunday
    # 23:59 local: still this week; 00:00 on Monday is the next one's
    _register(app, datetime.combine(week.last + timedelta(days=1), datetime.min.time(),
                                    tzinfo=CST), category="噪音")
    r.catch_up(app, views_of(app), "analysis_facts")
    found = hotspots(app.org, r.analysis_facts(views_of(app)), week, DISTRICT, with_cases=True)
    assert hotspots(app.org, r.analysis_facts(views_of(app)), week, DISTRICT)["items"] == [
        {k: v for k, v in i.items() if k != "cases"} for i in found["items"]]
    rows = {(i["place"], i["category"]): i for i in found["items"]}
    noise, steady = rows[(STREET, "噪音")], rows[(OTHER_STREET, "物业")]
    assert (noise["count"], noise["previous"], noise["trailing_mean"]) == (6, 1, 1.0)
    assert noise["same_period_last_year"] == 1 and noise["rising"] is True
    assert {str(b) for b in burst} <= set(noise["cases"])
    assert (steady["count"], steady["trailing_mean"], steady["rising"]) == (2, 2.0, False)
    features = {f["properties"]["category"]: f for f in geojson(found)["features"]}
    assert features["噪音"]["geometry"] == {"type": "Point", "coordinates": [117.012, 36.651]}
    assert features["物业"]["geometry"] is None
    assert features["物业"]["properties"]["located"].startswith("none")
    elsewhere = hotspots(app.org, r.analysis_facts(views_of(app)), week, "QH-D02")
    assert elsewhere["items"] == []


def test_similar_cases_find_the_family_and_follow_the_log(app, clock):
    texts = near_duplicates(6, places_per_matter=1)
    start = clock.now() - timedelta(days=30)  # 16 matters, 6 petitions each
    cases = []
    for n, (family, text) in enumerate(texts):
        at = start + timedelta(minutes=n)
        case = _register(app, at, text=text)
        cases.append((case, family, text))
        if n % 4 != 3:  # one in four stays unanswered: not a candidate
            for step in (c.AcceptPetition(case_id=case, actor="i", at=at,
                                          handling_track="claim", speed_track="general"),
                         c.DelegatePetition(case_id=case, actor="i", at=at, unit=STREET, note="n"),
                         c.AnswerPetition(case_id=case, actor="h", at=at, unit=STREET,
                                          answer=f"答复：{family}")):
                app.execute(step)
    index = SimilarCases(app)
    answered = {case for n, (case, _, _) in enumerate(cases) if n % 4 != 3}
    hits = total = 0
    for case, family, text in cases:
        found = index.search(text, limit=3, exclude=str(case))
        assert {f["case_id"] for f in found} <= {str(x) for x in answered}
        hits += sum(f["answer"] == f"答复：{family}" for f in found)
        total += len(found)
    assert total and hits / total >= 0.8
    assert index.search("完全无关的内容", units=["QH-D02"]) == []
    late = _register(app, clock.now(), text="独一无二的火星基地漏水问题")
    assert index.search("火星基地漏水") == []  # not answered yet
    for step in (c.AcceptPetition(case_id=late, actor="i", handling_track="claim",
                                  speed_track="general"),
                 c.DelegatePetition(case_id=late, actor="i", unit=STREET, note="n"),
                 c.AnswerPetition(case_id=late, actor="h", unit=STREET, answer="已修好")):
        app.execute(step)
    assert index.search("火星基地漏水")[0]["case_id"] == str(late)


def test_a_serving_process_keeps_the_similar_index_warm_and_retries_a_failing_store(app):
    """The follower reads the log without any query; a store error is retried, not fatal."""
    from projections.similar_cases import SimilarCasesFollower
    from tests.processes import wait_until

    case = _register(app, app.clock.now(), text="小区电梯经常停运")
    index = SimilarCases(app)
    real, failures = index.app.recorder.select_notifications, []

    def flaky(*args, **kwargs):  # the store is away for the first two passes
        if len(failures) < 2:
            failures.append(True)
            raise ConnectionError("store away")
        return real(*args, **kwargs)

    index.app = type("Away", (), {"recorder": type("R", (), {"select_notifications":
                                                              staticmethod(flaky)})(),
                                  "mapper": app.mapper})()
    follower = SimilarCasesFollower(index, interval=0.05)
    states = []
    real_retrying = follower.health.retrying
    follower.health.retrying = lambda *a, **k: (real_retrying(*a, **k),  # type: ignore
                                                states.append(follower.health.summary()))
    follower.start()
    try:
        wait_until(lambda: str(case) in index._cases, 30, "the index caught up by itself")
        assert len(failures) == 2 and follower.is_running and follower.error is None
        assert states[0].startswith("similar cases retrying since ")
        assert "ConnectionError: store away" in states[-1]
        wait_until(lambda: follower.health.ok, 30, "following again")
    finally:
        follower.stop()
    assert not follower.is_running


def test_an_event_the_index_cannot_apply_stalls_it_there_named_never_skipped(app):
    """The index stops before the event (never skips it), says which in its health, and goes
    on by itself once the event applies; queries meanwhile answer from the cases before it."""
    from projections.similar_cases import SimilarCasesFollower, SimilarCasesStalled
    from tests.processes import wait_until

    first = _register(app, app.clock.now(), text="小区电梯经常停运")
    others = [_register(app, app.clock.now(), text=t) for t in ("夜间工地施工噪音扰民",
                                                                "饭店油烟直排影响居民")]
    for case in (first, *others):  # BM25 ranks a word only if most cases lack it
        for step in (c.AcceptPetition(case_id=case, actor="i", handling_track="claim",
                                      speed_track="general"),
                     c.DelegatePetition(case_id=case, actor="i", unit=STREET, note="n"),
                     c.AnswerPetition(case_id=case, actor="h", unit=STREET, answer="已处理")):
            app.execute(step)
    poison = _register(app, app.clock.now(), text="楼道电梯停运")
    after = _register(app, app.clock.now(), text="路灯不亮")
    index = SimilarCases(app)
    real_apply, broken = index.apply, {"on": True}

    def apply(events):
        events = list(events)
        if broken["on"] and any(getattr(e, "originator_id", None) == poison for e in events):
            raise ValueError("cannot index this one")
        real_apply(events)

    index.apply = apply  # type: ignore[method-assign]
    with pytest.raises(SimilarCasesStalled) as stalled:
        index.refresh()
    assert stalled.value.case_id == str(poison)
    assert str(first) in index._cases and str(after) not in index._cases
    assert index.position == stalled.value.position - 1
    assert [f["case_id"] for f in index.search("电梯停运")] == [str(first)]

    follower = SimilarCasesFollower(index, interval=0.05).start()
    try:
        wait_until(lambda: follower.health.state == "stalled", 30, "the stall reported")
        assert follower.health.position == stalled.value.position
        assert follower.health.summary().startswith(
            f"similar cases stalled at event {stalled.value.position} (case {poison})")
        broken["on"] = False  # a release that can apply it
        wait_until(lambda: str(after) in index._cases, 60, "the index went on by itself")
        wait_until(lambda: follower.health.ok, 30, "following again")
    finally:
        follower.stop()


def test_the_index_decodes_only_the_events_it_uses(app, monkeypatch):
    """Registered and Answered are decoded (decrypted); another known case event is passed
    over undecoded, even one that cannot be decoded; an unknown case event still stalls it."""
    import uuid

    from eventsourcing.persistence import StoredEvent
    from eventsourcing.utils import get_topic

    from domain import events as ev
    from projections import similar_cases as s

    case = _register(app, app.clock.now(), text="小区电梯经常停运")
    for step in (c.AcceptPetition(case_id=case, actor="i", handling_track="claim",
                                  speed_track="general"),
                 c.DelegatePetition(case_id=case, actor="i", unit=STREET, note="n"),
                 c.AnswerPetition(case_id=case, actor="h", unit=STREET, answer="已修好")):
        app.execute(step)
    version = len(app.recorder.select_events(case)) + 1  # a damaged row of a known type
    app.recorder.insert_events([StoredEvent(case, version, get_topic(ev.Rated), b"\x00bad")])
    decoded = []
    real = s.decode
    monkeypatch.setattr(s, "decode", lambda a, note: (decoded.append(note.topic), real(a, note))[1])
    index = SimilarCases(app)
    index.refresh()
    assert decoded == [get_topic(ev.Registered), get_topic(ev.Answered)]
    assert index.position == app.recorder.max_notification_id()
    assert index._cases[str(case)].answered == ("已修好", STREET)

    app.recorder.insert_events([StoredEvent(uuid.uuid4(), 1, "domain.events:AddedLater", b"\x00")])
    with pytest.raises(s.SimilarCasesStalled) as stalled:
        index.refresh()
    assert stalled.value.position == app.recorder.max_notification_id()
    assert "TopicError" in repr(stalled.value.error)
