"""`petition demo`'s driver: thousands of petitions over the last months, full lifecycles.

Registration goes through the application's ``register`` command (validation, query code,
index); the rest of each case's life is decided by the aggregate's own commands with business
times in the past and saved in one transaction per case, so a demo of a few thousand cases
loads in seconds. Seeded: the same seed and ``now`` give the same cases. The people and
subjects come from ``citizens.py``, shared with the day-by-day simulation.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from uuid import UUID
from zoneinfo import ZoneInfo

from adapters.synthetic import citizens
from adapters.synthetic.proxies import entrustment
from domain.errors import DomainError
from domain.petition import Petition
from domain.units import UnitLevel
from domain.values import (
    Channel,
    ContactMode,
    DelegationMode,
    HandlingTrack,
    ReceptionMode,
    RedirectChannel,
    ReviewOutcome,
    Satisfaction,
    SpeedTrack,
    SuggestionKind,
    SupervisionLevel,
)
from workflows.application import PetitionApplication, Registration
from workflows.clock import ManualClock
from workflows.commands import RegisterPetition
from workflows.proxy_agents import enrol_generated_agent

ZONE = ZoneInfo("Asia/Shanghai")

CHANNELS = [(Channel.ONLINE, 45), (Channel.HOTLINE, 20), (Channel.APP, 10), (Channel.VISIT, 10),
            (Channel.LETTER, 8), (Channel.PHONE, 5), (Channel.EMAIL, 2)]


COMMENTS = {  # what petitioners write beside a rating; "" = no comment (the complaint share)
    Satisfaction.SATISFIED: ["", "", "感谢及时处理", "工作人员很耐心，满意", "问题已解决，谢谢"],
    Satisfaction.BASICALLY_SATISFIED: ["", "", "基本解决了", "处理有点慢，但还算负责"],
    Satisfaction.UNSATISFIED: ["", "太慢了，一直拖延", "答非所问，敷衍了事", "问题还是没解决",
                               "态度差，推诿扯皮"],
}


@dataclass
class DemoSummary:
    cases: int = 0
    events: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_district: Counter[str] = field(default_factory=Counter)
    overdue: int = 0
    samples: dict[str, str] = field(default_factory=dict)
    sample_query_code: str | None = None


class DemoDistrict:
    """Draws cases and plays their lives forward until ``now``."""

    def __init__(self, app: PetitionApplication, *, seed: int, now: datetime, days: int):
        self.app, self.org, self.now, self.days = app, app.org, now, days
        self.rng = random.Random(seed)
        # Draws for the analytics' sake (repeat petitioners, rating comments) come from a
        # generator of their own, so the main one's sequence — and every seeded run — is kept.
        self.extra = random.Random(seed * 7919 + 14)
        self.earlier: list[RegisterPetition] = []
        self.streets = [u for u in self.org if u.level is UnitLevel.STREET]
        self.city = next(u.id for u in self.org if u.level is UnitLevel.CITY)

    def run(self, cases: int, progress: Callable[[int], None] = lambda _: None) -> DemoSummary:
        summary = DemoSummary()
        for _ in range(cases):
            case_id, petition = self._one_case(summary)
            summary.cases += 1
            summary.events += petition.version
            summary.by_status[petition.status.value] += 1
            summary.by_district[petition.location.district] += 1
            deadline = self.app.policy.current(petition)
            if deadline and deadline.kind.value in ("acceptance", "answer") and \
                    deadline.is_overdue(self.now):
                summary.overdue += 1
            summary.samples.setdefault(petition.status.value, str(case_id))
            progress(1)
        return summary

    def _one_case(self, summary: DemoSummary) -> tuple[UUID, Petition]:
        rng = self.rng
        received = self._working_moment(self.now - timedelta(days=rng.uniform(0.1, self.days)))
        registration = self._register(received)
        if summary.sample_query_code is None:
            summary.sample_query_code = registration.query_code
        petition = self.app.get_petition(registration.case_id)
        story = Story(petition, self.now)
        self._live(story, received)
        self.app.save(petition)
        return registration.case_id, petition

    # ----------------------------------------------------------------- registration
    def _register(self, received: datetime) -> Registration:
        """Registered as of the moment it arrived: the demo replays months of history, and
        business time may lie at most a few months before the application's clock."""
        clock, self.app.clock = self.app.clock, ManualClock(received)
        try:
            return self.app.register(self._maybe_again(self._registration(received)))
        finally:
            self.app.clock = clock

    def _registration(self, received: datetime) -> RegisterPetition:
        rng = self.rng
        street = rng.choice(self.streets)
        category, subject, content = citizens.subject(rng)
        channel = rng.choices([c for c, _ in CHANNELS], [w for _, w in CHANNELS])[0]
        received_by = street.parent if rng.random() < 0.75 else self.city
        return RegisterPetition(
            actor=f"intake:{received_by}",
            at=received,
            channel=channel,
            subject=subject,
            content=content,
            category=category,
            location={"district": street.parent, "street": street.id,
                      "address": f"{street.name.split()[0]}{rng.randint(1, 200)}号",
                      "lat": round(36.6 + rng.uniform(-0.2, 0.2), 5),
                      "lon": round(117.0 + rng.uniform(-0.3, 0.3), 5)},
            petitioner={"name": rng.choice(citizens.SURNAMES)
                        + "".join(rng.sample(citizens.GIVEN, 2)),
                        "id_number": citizens.id_number(rng, date(1940, 1, 1), 25000),
                        "phone": citizens.mobile(rng, "3578")},
            co_petitioners=(headcount := rng.randint(5, 60) if rng.random() < 0.08 else 0),
            # named co-petitioners from their own stream: the demo's other draws stay as they were
            group=citizens.group(random.Random(f"group-{received.isoformat()}-{subject}"),
                                 headcount) if headcount else [],
            received_by=received_by,
            proxy_agent=(agent := enrol_generated_agent(
                self.app, f"proxy-{street.id}", street.id, self.now) if rng.random() < 0.1
                else None),
            entrustment=entrustment(self.org, street.id, received) if agent else None,
        )

    def _maybe_again(self, command: RegisterPetition) -> RegisterPetition:
        """About one petition in ten comes again from an earlier petitioner about the same
        matter (the repeat-petition indicator, 最多访一次, needs some)."""
        if self.earlier and self.extra.random() < 0.1:
            first = self.extra.choice(self.earlier[-300:])
            return command.model_copy(update={
                "petitioner": first.petitioner, "category": first.category,
                "subject": first.subject, "content": f"再次反映：{first.content}"})
        self.earlier.append(command)
        return command

    def _working_moment(self, moment: datetime) -> datetime:
        local = moment.astimezone(ZONE)
        hour = self.rng.randint(8, 17)
        moment = datetime.combine(local.date(), time(hour, self.rng.randint(0, 59)), tzinfo=ZONE)
        return min(moment, self.now - timedelta(minutes=5))

    # ----------------------------------------------------------------- lifecycle
    def _live(self, s: Story, received: datetime) -> None:
        rng, p = self.rng, s.petition
        if rng.random() < 0.015:
            return  # never decided: shows up as an overdue acceptance
        if not s.step(rng.uniform(0.1, 5) if rng.random() > 0.04 else rng.uniform(16, 25),
                      lambda at: None):
            return
        if rng.random() < 0.07:
            s.do(lambda at: p.decline(at=at, actor=f"intake:{p.received_by}",
                                      reason="属于诉讼程序处理事项 a matter for the courts",
                                      redirect_to=RedirectChannel.LITIGATION))
            return
        if rng.random() < 0.02:
            s.do(lambda at: p.withdraw(at=at, actor="petitioner", reason="已自行协商解决"))
            return
        track = rng.choices(list(SpeedTrack), [25, 45, 30])[0]
        s.do(lambda at: p.accept(at=at, actor=f"intake:{p.received_by}",
                                 handling_track=rng.choice(list(HandlingTrack)), speed_track=track,
                                 policy=self.app.policy))
        target = p.location.street if p.received_by != self.city else p.location.district
        if not s.step(rng.uniform(0, 0.5), lambda at: p.delegate(
                at=at, actor=f"intake:{p.received_by}", unit=target,
                mode=rng.choice(list(DelegationMode)), note="请依法依规办理", org=self.org)):
            return
        if not self._leader_reception(s):
            return
        if p.proxy_agent and not s.step(rng.uniform(1, 6), lambda at: p.log_proxy_contact(
                at=at, actor=p.proxy_agent, agent=p.proxy_agent, mode=ContactMode.VISIT,
                note="上门了解诉求")):
            return
        self._handle(s, track)

    def _leader_reception(self, s: Story) -> bool:
        """领导接访: most group petitions and a few others are received by a district leader,
        in person on a reception day or by video; drawn from the case's own stream, so the
        demo's other draws stay as they were."""
        p = s.petition
        extra = random.Random(f"reception-{p.received_at.isoformat()}-{p.subject}")
        if extra.random() >= (0.7 if p.group_petition else 0.03):
            return True
        mode = extra.choice(list(ReceptionMode))
        return s.step(extra.uniform(0.5, 4), lambda at: p.record_reception(
            at=at, actor=f"intake:{p.received_by}", unit=p.location.district,
            leader=extra.choice(["区长", "常务副区长", "副区长"]), mode=mode,
            outcome="当面听取诉求，责成承办单位限期办理", org=self.org))

    def _handle(self, s: Story, track: SpeedTrack) -> None:
        rng, p = self.rng, s.petition
        limit = self.app.policy.rules.answer_days_for(track, p.group_petition)  # 集体访: shorter
        late = rng.random() < 0.12
        took = limit * rng.uniform(0.2, 0.9) + (rng.uniform(3, 25) if late else 0)
        if track is SpeedTrack.COMPLEX and rng.random() < 0.15 and not s.step(
                limit * 0.8, lambda at: p.extend_deadline(
                    at=at, actor=f"supervisor:{p.holder}", days=rng.randint(10, 30),
                    reason="案情复杂需进一步调查", approved_by=f"supervisor:{p.holder}",
                    policy=self.app.policy)):
            return
        if late and (not self._supervise(s, limit) or rng.random() < 0.4):
            return  # still unanswered: an overdue case on the supervision queue
        if rng.random() < 0.04 and p.responsible_unit:
            parent = self.org.get(p.responsible_unit).parent
            if parent and not s.step(1, lambda at: p.escalate(
                    at=at, actor=f"supervisor:{parent}", unit=parent,
                    reason="基层难以化解，提级办理", org=self.org)):
                return
        elapsed = (s.at - p.handling_started_at).total_seconds() / 86400 if \
            p.handling_started_at else 0
        if not s.step(max(took - elapsed, 0.01), lambda at: p.answer_petition(
                at=at, actor=f"handler:{p.responsible_unit}", unit=p.responsible_unit,
                answer="经调查核实，已责成相关单位整改，并将结果书面告知信访人。",
                policy=self.app.policy)):
            return
        self._after_answer(s)

    def _supervise(self, s: Story, limit: int) -> bool:
        p = s.petition
        for level, offset in ((SupervisionLevel.REMINDER, limit + 1),
                              (SupervisionLevel.SUPERVISION_LETTER, limit + 4)):
            due = (p.handling_started_at or s.at) + timedelta(days=offset)
            wait = max((due - s.at).total_seconds() / 86400, 0.01)
            if not s.step(wait, lambda at, lv=level: p.supervise(
                    at=at, actor="supervisor:QH", level=lv, reason="办理超期", rule="demo")):
                return False
        return self._suggest(s)

    def _suggest(self, s: Story) -> bool:
        """三项建议权 after a supervision letter: a suggestion to the late unit, answered five
        days later for three cases in four (chosen by the case id: no draw)."""
        p = s.petition
        unit = p.responsible_unit or p.holder
        kind = list(SuggestionKind)[p.id.int % len(SuggestionKind)]
        if not s.step(0.5, lambda at: p.suggest(
                at=at, actor="supervisor:QH", kind=kind, unit=unit, org=self.org,
                text="建议该单位改进工作方法，压实办理责任。")):
            return False
        if p.id.int % 4 == 0:
            return True
        return s.step(5, lambda at: p.respond_suggestion(
            at=at, actor=f"handler:{unit}", number=p.suggestion_count, unit=unit,
            response="已组织整改，并完善相关制度。"))

    def _after_answer(self, s: Story) -> None:
        rng, p = self.rng, s.petition
        if rng.random() < 0.85:
            mood = rng.choices(list(Satisfaction), [70, 20, 10])[0]
            comment = self.extra.choice(COMMENTS[mood])
            if not s.step(rng.uniform(0.2, 5), lambda at: p.rate(
                    at=at, actor="petitioner", attitude=mood, efficiency=mood, quality=mood,
                    comment=comment)):
                return
            if mood is Satisfaction.UNSATISFIED and rng.random() < 0.6 \
                    and self.app.policy.rules.track_has(p.handling_track, "review"):
                self._review(s)
                return
            if mood is Satisfaction.UNSATISFIED and not self._turned_round(s):
                return
        s.step(rng.uniform(5, 12), lambda at: p.close(at=at, actor=f"handler:{p.holder}",
                                                       summary="答复后无异议，办结"))

    def _turned_round(self, s: Story) -> bool:
        """Half the unsatisfied petitioners who do not ask for review see the supervisor reopen
        the case, a new answer, and rate it again (unsatisfied → resolved). Timed and decided
        by the analytics' own generator; ``False`` if the story ran out of time."""
        x, p = self.extra, s.petition
        if x.random() < 0.5:
            return True
        unit = p.responsible_unit
        return (s.step(x.uniform(1, 4), lambda at: p.reopen(
                    at=at, actor=f"supervisor:{p.holder}", reason="群众不满意，重新办理",
                    policy=self.app.policy))
                and s.step(x.uniform(3, 15), lambda at: p.answer_petition(
                    at=at, actor=f"handler:{unit}", unit=unit,
                    answer="经重新调查，问题已实际解决，并当面向信访人说明。",
                    policy=self.app.policy))
                and s.step(x.uniform(0.5, 4), lambda at: p.rate(
                    at=at, actor="petitioner", attitude=Satisfaction.SATISFIED,
                    efficiency=Satisfaction.BASICALLY_SATISFIED,
                    quality=Satisfaction.SATISFIED, comment=x.choice(COMMENTS[
                        Satisfaction.SATISFIED]))))

    def _review(self, s: Story) -> None:
        rng, p = self.rng, s.petition
        answered_by = p.answered_by or p.holder
        reviewer = self.org.get(answered_by).parent or answered_by  # Art. 35: one level up
        if not s.step(rng.uniform(1, 20), lambda at: p.request_review(
                at=at, actor="petitioner", reason="对答复意见不满意", policy=self.app.policy)):
            return
        if not s.step(rng.uniform(5, 25), lambda at: p.decide_review(
                at=at, actor=f"reviewer:{reviewer}", unit=reviewer,
                outcome=rng.choice(list(ReviewOutcome)),
                opinion="经复查，原处理意见正确，予以维持。", org=self.org,
                policy=self.app.policy)):
            return
        s.step(rng.uniform(3, 10), lambda at: p.close(at=at, actor=f"reviewer:{reviewer}",
                                                      summary="复查后办结"))


class Story:
    """Moves a case's business time forward, acting only while the moment is in the past."""

    def __init__(self, petition: Petition, now: datetime):
        self.petition, self.now, self.at = petition, now, petition.last_at

    def step(self, days: float, action: Callable[[datetime], None]) -> bool:
        at = self.at + timedelta(days=days)
        if at > self.now:
            return False
        self.at = at
        return self.do(action)

    def do(self, action: Callable[[datetime], None]) -> bool:
        try:
            action(self.at)
        except DomainError:
            return False
        return True

