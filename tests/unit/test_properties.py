"""Properties of the deadline arithmetic for any policy numbers, start time and zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.rest_days import ChineseRestDays
from domain.deadlines import DeadlineKind, DeadlinePolicy, PolicyRules
from domain.values import SpeedTrack, Status
from tests.unit.builders import Case

SHANGHAI = ZoneInfo("Asia/Shanghai")
CALENDAR = ChineseRestDays()  # the package for its years, the statutory rule after

day_counts = st.integers(min_value=0, max_value=400)
starts = st.datetimes(
    min_value=datetime(2004, 1, 1), max_value=datetime(2030, 12, 31),
    timezones=st.sampled_from([ZoneInfo("UTC"), SHANGHAI, ZoneInfo("America/New_York"),
                               ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago")]),
)
rules = st.builds(
    PolicyRules,
    acceptance_days=day_counts, answer_days=day_counts,
    fast_tracks=st.fixed_dictionaries({"simple": day_counts, "general": day_counts}),
    max_extension_days=day_counts, review_request_days=day_counts,
    review_decision_days=day_counts, re_review_request_days=day_counts,
    re_review_decision_days=day_counts, proxy_contact_days=day_counts,
)


def local_date(moment: datetime) -> date:
    return moment.astimezone(SHANGHAI).date()


@settings(max_examples=300, deadline=None)
@given(start=starts, days=day_counts, roll=st.booleans())
def test_deadline_never_before_its_start_and_lands_on_a_working_day(start, days, roll) -> None:
    """Rolling only moves forward, past rest days only, and stops on the first working day."""
    d = DeadlinePolicy(PolicyRules(), CALENDAR).deadline(DeadlineKind.ANSWER, start, days,
                                                         roll=roll)
    unrolled = local_date(start) + timedelta(days=days)
    assert d.due_on >= unrolled >= local_date(start)
    assert d.expires_at > d.starts_at == start
    assert local_date(d.expires_at - timedelta(microseconds=1)) == d.due_on
    if roll:
        assert not CALENDAR(d.due_on)
        skipped = (unrolled + timedelta(n) for n in range((d.due_on - unrolled).days))
        assert all(CALENDAR(day) for day in skipped)
    else:
        assert d.due_on == unrolled


@settings(max_examples=200, deadline=None)
@given(
    rules=rules,
    status=st.sampled_from(Status),
    track=st.none() | st.sampled_from(SpeedTrack),
    extension=st.integers(0, 30),
    times=st.lists(starts, min_size=6, max_size=6).map(sorted),
)
def test_every_open_deadline_of_any_case_is_sane(rules, status, track, extension, times) -> None:
    """Whatever the numbers and facts, open deadlines start at a fact and expire after it."""
    received, started, answered, asked, decided, re_asked = times
    case = Case(status=status, received_at=received, speed_track=track,
                handling_started_at=started, extension_days=extension, answered_at=answered,
                review_requested_at=asked if status is not Status.ANSWERED else None,
                review_decided_at=decided,
                re_review_requested_at=re_asked if status is not Status.REVIEWED else None,
                proxy_agent="agent", proxy_contact_due_from=received)
    policy = DeadlinePolicy(rules, CALENDAR)
    deadlines = policy.open_deadlines(case)
    for d in deadlines:
        deemed = [t + timedelta(days=rules.deemed_delivery_days) for t in times]  # 送达
        assert d.starts_at in times or d.starts_at in deemed
        assert d.due_on >= local_date(d.starts_at)
        assert d.expires_at > d.starts_at
        if d.kind is not DeadlineKind.PROXY_CONTACT:
            assert not CALENDAR(d.due_on)
    finished = status in (Status.CLOSED, Status.DECLINED, Status.WITHDRAWN, Status.RE_REVIEWED)
    assert (deadlines == []) is finished
