"""The closed loop on a real store: hand-checked ladders, day by day, on SQLite and PostgreSQL.

Every case starts on Monday 2026-03-02 at 09:00 (the ``clock`` fixture). Staff act at 10:00
on the days a test names; at every local midnight the supervision queue catches up and the
process ticks, so a measure's business time is the midnight its trigger passed. Policy: the
packaged one (general track 10 days, reminder 3 days before the deadline, letter when it is
overdue, accountability +10, interview +20, escalation +30).

Worked dates of the general track accepted on 03-02: due on Thu 03-12, overdue from
03-13 00:00 → reminder 03-10, supervision letter 03-13, accountability 03-23, interview 04-02,
escalation 04-12.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from uuid import UUID

import pytest

from adapters.wiring import build_application
from domain import events as ev
from domain.supervision_ladder import rank
from projections.runner import catch_up, supervision_queue
from tests.conftest import CST
from tests.integration.helpers import COMMUNITY, DISTRICT, STREET, register_command
from tests.views import views_of
from workflows import commands as c
from workflows.application import PetitionApplication
from workflows.clock import ManualClock
from workflows.proxy_agents import enrol_generated_agent, generated_agent_id
from workflows.supervision.process import ACTOR, SupervisionProcess

Action = Callable[[UUID], c.Command]
AGENT = generated_agent_id("proxy-QH-D01-S01")  # enrolled by the ``days`` fixture


def on(day: str, hour: int = 10) -> datetime:
    return datetime.combine(date.fromisoformat(f"2026-{day}"), time(hour), tzinfo=CST)


class Days:
    """Lives the district day by day: the day's actions at 10:00, then the midnight tick."""

    def __init__(self, app: PetitionApplication, clock: ManualClock):
        self.app, self.clock = app, clock
        self.process = SupervisionProcess(app, supervision_queue(views_of(app)))
        self.todo: dict[date, list[tuple[UUID, Action]]] = defaultdict(list)

    def open(self, track: str = "general", proxy: str | None = None) -> UUID:
        case_id = self.app.register(register_command(proxy_agent=proxy)).case_id
        self.app.execute(c.AcceptPetition(case_id=case_id, actor="intake", handling_track="claim",
                                          speed_track=track))
        self.app.execute(c.DelegatePetition(case_id=case_id, actor="intake", unit=STREET))
        return case_id

    def on(self, day: str, case_id: UUID, action: Action) -> None:
        self.todo[on(day).date()].append((case_id, action))

    def until(self, last: str) -> None:
        day = self.clock.now().astimezone(CST).date()
        while day <= date.fromisoformat(f"2026-{last}"):
            for case_id, action in self.todo.pop(day, []):
                self.clock.set(max(self.clock.now(), datetime.combine(day, time(10), CST)))
                self.app.execute(action(case_id))
            day += timedelta(days=1)
            self.clock.set(datetime.combine(day, time(), CST))
            catch_up(self.app, views_of(self.app), "supervision_queue")
            self.process.tick(self.clock.now())


def measures(app: PetitionApplication, case_id: UUID) -> list[tuple[str, str, str]]:
    """(rule, business date "MM-DD", unit) of every measure the process issued, in order."""
    out = []
    for e in app.events_of(case_id):
        if e.actor == ACTOR and isinstance(e, ev.SupervisionIssued):
            out.append((e.rule, f"{e.at:%m-%d}", e.unit))
        elif e.actor == ACTOR and isinstance(e, ev.Escalated):
            out.append((e.rule, f"{e.at:%m-%d}", f"{e.from_unit}->{e.to_unit}"))
    assert all(at.time() == time() for at in (e.at.astimezone(CST) for e in app.events_of(case_id)
                                               if e.actor == ACTOR)), "measures land at midnight"
    return out


def answer(unit: str = STREET) -> Action:
    return lambda cid: c.AnswerPetition(case_id=cid, actor=f"handler:{unit}", unit=unit,
                                        answer="已处理并书面答复。")


def rate(mood: str) -> Action:
    return lambda cid: c.RatePetition(case_id=cid, actor="petitioner", attitude="satisfied",
                                      efficiency=mood, quality=mood)


FULL_LADDER = [
    ("answer.reminder", "03-10", STREET),
    ("answer.supervision_letter", "03-13", STREET),
    ("answer.accountability", "03-23", STREET),
    ("answer.interview", "04-02", STREET),
    ("answer.escalation", "04-12", f"{STREET}->{DISTRICT}"),
]


@pytest.fixture
def days(app, clock) -> Days:
    enrol_generated_agent(app, "proxy-QH-D01-S01", STREET, clock.now())
    return Days(app, clock)


# ---------------------------------------------------------------------- hand-checked ladders
def test_on_time_gets_no_measure(app, days):
    case = days.open()
    days.on("03-09", case, answer())  # before the reminder's 03-10
    days.until("04-30")
    assert measures(app, case) == []


def test_late_gets_a_reminder_then_a_supervision_letter(app, days):
    case = days.open()
    days.on("03-16", case, answer())
    days.until("04-30")
    assert measures(app, case) == FULL_LADDER[:2]


def test_very_late_climbs_to_escalation_and_the_ladder_does_not_restart_upstairs(app, days):
    case = days.open()
    days.until("05-31")  # fifty days past the escalation: the district is not chased again
    assert measures(app, case) == FULL_LADDER
    petition = app.get_petition(case)
    assert petition.responsible_unit == DISTRICT
    assert petition.ladder_reached() == rank("escalation")


def test_escalated_by_the_ladder_then_answered_by_the_parent(app, days):
    case = days.open()
    days.on("04-14", case, answer(DISTRICT))
    days.on("04-16", case, rate("satisfied"))
    days.on("04-20", case, lambda cid: c.ClosePetition(case_id=cid, actor="d", summary="办结"))
    days.until("05-31")
    assert measures(app, case) == FULL_LADDER
    assert app.get_petition(case).status.value == "closed"


def test_extension_moves_every_rung(app, days):
    case = days.open()
    days.on("03-09", case, lambda cid: c.RequestExtension(
        case_id=cid, actor=f"handler:{STREET}", days=15, reason="需现场勘查"))
    days.on("03-09", case, lambda cid: c.ExtendDeadline(
        case_id=cid, actor="supervisor", days=15, reason="需现场勘查"))
    days.on("03-31", case, answer())
    days.until("04-30")
    # 10 + 15 days from 03-02: due on Fri 03-27, overdue from 03-28 00:00
    assert measures(app, case) == [("answer.reminder", "03-25", STREET),
                                   ("answer.supervision_letter", "03-28", STREET)]


def test_unsatisfied_then_reopened_starts_a_fresh_ladder(app, days):
    case = days.open()
    days.on("03-14", case, answer())
    days.on("03-15", case, rate("unsatisfied"))
    days.on("03-16", case, lambda cid: c.ReopenPetition(case_id=cid, actor="supervisor",
                                                         reason="群众不满意"))
    days.on("03-27", case, answer())  # reopened 03-16: due Thu 03-26, overdue from 03-27
    days.until("04-30")
    assert measures(app, case) == [*FULL_LADDER[:2], ("answer.reminder", "03-24", STREET),
                                   ("answer.supervision_letter", "03-27", STREET)]
    assert len(app.get_petition(case).ladder) == 2  # two obligations, one ladder each


def test_unsatisfied_rating_waits_for_a_supervisor(app, days):
    case = days.open()
    days.on("03-05", case, answer())
    days.on("03-06", case, rate("unsatisfied"))
    days.until("03-06")
    assert app.get_petition(case).unsatisfied_pending
    days.on("03-07", case, lambda cid: c.ConfirmAnswer(case_id=cid, actor="supervisor",
                                                        reason="答复合法合理"))
    days.until("04-30")
    assert not app.get_petition(case).unsatisfied_pending
    assert measures(app, case) == []


def proxy_chases(app: PetitionApplication, case_id: UUID) -> list[tuple[str, str, str, str]]:
    """(rule, issued "MM-DD", due "MM-DD", addressee) of every missed weekly meeting chased."""
    return [(e.rule, f"{e.at:%m-%d}", f"{e.due_at.astimezone(CST):%m-%d}", e.addressee)
            for e in app.events_of(case_id) if isinstance(e, ev.ProxyContactChased)]


def test_a_silent_proxy_is_queued_for_the_agent_and_chased_to_the_grids_community(app, days):
    """Registered 03-02 10:00 with the agent: a phone call on 03-03 keeps contact but does not
    meet the weekly obligation (policy proxy_contact_kinds), so the week ends 03-09; the agent
    is reminded at once (03-10), the community above the petitioner's grid three days later."""
    case = days.open(track="complex", proxy=AGENT)
    days.on("03-03", case, lambda cid: c.LogProxyContact(case_id=cid, actor=AGENT, agent=AGENT,
                                                          mode="phone"))
    days.until("03-16")
    rows, _ = supervision_queue(views_of(app)).overdue(days.clock.now(), unit=AGENT)
    assert [(r["case_id"], r["kind"], r["due_on"], r["expires_at"]) for r in rows] == [
        (str(case), "proxy_contact", "2026-03-09", on("03-10", 0))]
    assert proxy_chases(app, case) == [
        ("proxy_contact.agent_reminder", "03-10", "03-10", AGENT),
        ("proxy_contact.community_notice", "03-13", "03-13", COMMUNITY)]
    assert measures(app, case) == [] and app.get_petition(case).ladder == {}
    days.on("03-17", case, lambda cid: c.LogProxyContact(case_id=cid, actor=AGENT, agent=AGENT,
                                                          mode="visit"))
    days.until("03-26")  # met on 03-17: the next week ends 03-24, chased again on 03-25
    assert proxy_chases(app, case)[2:] == [
        ("proxy_contact.agent_reminder", "03-25", "03-25", AGENT)]


def test_a_revoked_entrustment_ends_the_weekly_obligation(app, days):
    case = days.open(track="complex", proxy=AGENT)
    days.on("03-05", case, lambda cid: c.RevokeEntrustment(case_id=cid, actor="intake",
                                                            reason="信访人撤销委托"))
    days.until("03-31")
    assert proxy_chases(app, case) == [] and app.get_petition(case).proxy_agent is None
    assert supervision_queue(views_of(app)).overdue(days.clock.now(), unit=AGENT)[0] == []


# ---------------------------------------------------------------------- fast tracks
def test_simple_answered_the_same_day_gets_nothing(app, days):
    case = days.open(track="simple")
    days.on("03-02", case, answer())
    days.until("03-31")
    assert measures(app, case) == []


def test_simple_unanswered_is_overdue_at_the_first_midnight(app, days):
    case = days.open(track="simple")
    days.until("03-05")
    # due the same day (03-02): the reminder's trigger (02-28) passed before it began, so it
    # comes at the first tick; one rung per tick, the letter at the next (its spacing from
    # the reminder counts from when the case began, 15 hours)
    assert measures(app, case) == [("answer.reminder", "03-03", STREET),
                                   ("answer.supervision_letter", "03-04", STREET)]


def test_general_is_ten_days_rolled_past_the_weekend(app, days, clock):
    days.until("03-03")
    clock.set(on("03-04"))  # Wednesday: 10 days → Sat 03-14, rolled to Mon 03-16
    case = days.open(track="general")
    days.until("03-20")
    assert measures(app, case) == [("answer.reminder", "03-14", STREET),
                                   ("answer.supervision_letter", "03-17", STREET)]


# ---------------------------------------------------------------------- exactly once
def test_a_crash_between_deciding_and_saving_loses_nothing(app, days, clock, monkeypatch):
    case = days.open()
    days.until("03-21")  # the last tick at 03-22 00:00
    assert measures(app, case) == FULL_LADDER[:2]
    clock.set(on("04-13", 0))  # the process was down: the accountability suggestion is due
    catch_up(app, views_of(app), "supervision_queue")
    real = app.execute

    def crash_on_saving(cmd, **kw):
        if isinstance(cmd, c.IssueSupervision) and cmd.level == "accountability":
            raise KeyboardInterrupt("killed before saving the accountability suggestion")
        return real(cmd, **kw)

    monkeypatch.setattr(app, "execute", crash_on_saving)
    with pytest.raises(KeyboardInterrupt):
        days.process.tick(clock.now())
    monkeypatch.undo()
    assert measures(app, case) == FULL_LADDER[:2]
    SupervisionProcess(app, supervision_queue(views_of(app))).tick(clock.now())
    SupervisionProcess(app, supervision_queue(views_of(app))).tick(clock.now())  # and a restart
    assert [(rule, at) for rule, at, _ in measures(app, case)] == [
        *[(rule, at) for rule, at, _ in FULL_LADDER[:2]], ("answer.accountability", "04-13")]


def test_two_instances_ticking_at_once_issue_each_rung_once(app, settings, clock):
    other = build_application(settings, clock=clock)
    try:
        days = Days(app, clock)
        cases = [days.open() for _ in range(4)]
        processes = [SupervisionProcess(a, supervision_queue(views_of(a))) for a in (app, other)]
        errors: list[BaseException] = []
        moment = on("03-03", 0)
        while moment <= on("04-13", 0):
            clock.set(moment)
            catch_up(app, views_of(app), "supervision_queue")
            start = threading.Barrier(len(processes))

            def tick(process: SupervisionProcess, start: threading.Barrier, now: datetime) -> None:
                try:
                    start.wait()
                    process.tick(now)
                except BaseException as error:  # noqa: BLE001 - reported below
                    errors.append(error)

            threads = [threading.Thread(target=tick, args=(p, start, moment)) for p in processes]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert errors == []
            moment += timedelta(days=1)
        for case in cases:
            assert measures(app, case) == FULL_LADDER
    finally:
        other.close()


def test_a_case_escalated_by_hand_is_still_chased_at_its_new_unit(app, days):
    case = days.open()
    days.on("03-05", case, lambda cid: c.EscalatePetition(
        case_id=cid, actor="supervisor", unit=DISTRICT, reason="基层难以化解"))
    days.until("03-16")
    assert measures(app, case) == [("answer.reminder", "03-10", DISTRICT),
                                   ("answer.supervision_letter", "03-13", DISTRICT)]


# ---------------------------------------------------------------------- due and issued
def test_after_downtime_the_ladder_resumes_one_rung_at_a_time_at_the_policys_pace(
        app, days, clock):
    """The process was down from 03-22 to 04-13, when three rungs had passed: the first tick
    issues the next one only (recording when it was due); each later rung keeps the policy's
    spacing from the one before, counted from when that one was issued — the unit gets each
    measure's time to act, instead of three measures at one instant."""
    case = days.open()
    days.until("03-21")
    clock.set(on("04-13", 0))
    catch_up(app, views_of(app), "supervision_queue")
    days.process.tick(clock.now())
    days.until("05-20")
    issued = [e for e in app.events_of(case) if e.actor == ACTOR]
    assert [(e.rule, f"{e.at:%m-%d}", f"{e.due_at.astimezone(CST):%m-%d %H:%M}")
            for e in issued] == [
        ("answer.reminder", "03-10", "03-10 00:00"),
        ("answer.supervision_letter", "03-13", "03-13 00:00"),
        ("answer.accountability", "04-13", "03-23 00:00"),
        ("answer.interview", "04-23", "04-23 00:00"),
        ("answer.escalation", "05-03", "05-03 00:00")]


def test_an_acceptance_never_overdue_is_not_escalated(app, days, clock):
    """Acceptance belongs to the receiving unit: its ladder ends at the interview, and the
    queue's ladder column shows nothing after it."""
    from projections.queries import overdue_with_ladder

    case = app.register(register_command()).case_id  # registered 03-02, due 03-17
    days.until("05-31")
    assert [rule for rule, _, _ in measures(app, case)] == [
        "acceptance.reminder", "acceptance.supervision_letter", "acceptance.accountability",
        "acceptance.interview"]
    rows, _ = overdue_with_ladder(app, supervision_queue(views_of(app)), clock.now())
    (row,) = [r for r in rows if r["case_id"] == str(case)]
    assert row["ladder"] == {"rung": "interview", "next_rung": None, "next_at": None}
