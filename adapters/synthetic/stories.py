"""The staff's part of a simulated case, by behaviour profile, as dated steps.

Drawn from the seed when the case arrives (``simulation.py`` imports this module, never the
reverse: a story receives the policy, the ladder and the zone): prompt, late and very late
units, an extension, an escalation by the ladder, an unsatisfied rating that is reopened, and
a proxy agent who stays silent.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from uuid import UUID
from zoneinfo import ZoneInfo

from domain.deadlines import Deadline, DeadlineKind, DeadlinePolicy
from domain.supervision_ladder import LadderRules
from domain.values import ContactMode, Satisfaction, SpeedTrack
from workflows import commands as c
from workflows.proxy_agents import generated_agent_id


class Profile(StrEnum):
    PROMPT = "prompt"  # answers well within the limit
    LATE = "late"  # answers 1–15 days after the deadline
    VERY_LATE = "very_late"  # never answers: the ladder climbs to escalation
    EXTENDED = "extended"  # asks for 15 more days, then answers 3 days past the new deadline
    ESCALATED = "escalated"  # never answers; the parent answers 2 days after the escalation
    UNSATISFIED = "unsatisfied"  # late answer, unsatisfied rating, reopened, answered again
    PROXY_SILENT = "proxy_silent"  # the proxy agent stays silent for two weeks



COMMENTS = {  # beside a rating, for the complaint-sentiment indicator ("" = none)
    Satisfaction.SATISFIED: ["", "感谢及时处理", "问题已解决，谢谢"],
    Satisfaction.BASICALLY_SATISFIED: ["", "基本解决了", "有点慢"],
    Satisfaction.UNSATISFIED: ["太慢了，一直拖延", "问题还是没解决", "敷衍了事"],
}


@dataclass(frozen=True)
class Step:
    """One dated staff action on a named case; ``build`` makes the command from its id."""

    at: datetime
    case: str
    build: Callable[[UUID], c.Command]
    registers: bool = False



class Handling:
    """The staff's part of one case after delegation, as dated steps, by profile."""

    def __init__(self, policy: DeadlinePolicy, ladder: LadderRules, zone: ZoneInfo,
                 rng: random.Random, name: str, street: str, district: str, track: SpeedTrack,
                 accepted: datetime):
        self.policy, self.ladder, self.zone, self.rng, self.name = policy, ladder, zone, rng, name
        self.street, self.district, self.accepted = street, district, accepted
        self.limit = policy.rules.answer_days_for(track)

    def steps(self, profile: Profile) -> Iterator[Step]:
        return getattr(self, profile.value)()

    # ------------------------------------------------------------------ profiles
    def prompt(self) -> Iterator[Step]:
        if self.limit == 0:
            answered = self.accepted + timedelta(hours=2)
        else:
            days = max(1, round(self.limit * self.rng.uniform(0.2, 0.8)))
            answered = self.on(self.local(self.accepted) + timedelta(days=days))
        yield from self.answer_and_close(answered, self.street, moods=(70, 20, 10))

    def late(self) -> Iterator[Step]:
        due = self.due(self.accepted).due_on
        yield from self.answer_and_close(
            self.on(due + timedelta(days=self.rng.randint(1, 15))), self.street)

    def very_late(self) -> Iterator[Step]:
        return iter(())

    def extended(self) -> Iterator[Step]:
        asked = self.on(self.due(self.accepted).due_on - timedelta(days=1), 10)
        handler, supervisor = f"handler:{self.street}", f"supervisor:{self.district}"
        yield Step(asked, self.name, lambda cid: c.RequestExtension(
            case_id=cid, actor=handler, at=asked, days=15, reason="需现场勘查 site visit needed"))
        approved = asked + timedelta(hours=5)
        yield Step(approved, self.name, lambda cid: c.ExtendDeadline(
            case_id=cid, actor=supervisor, at=approved, days=15,
            reason="需现场勘查 site visit needed"))
        new_due = self.due(self.accepted, extra=15).due_on
        yield from self.answer_and_close(self.on(new_due + timedelta(days=3), 11), self.street)

    def escalated(self) -> Iterator[Step]:
        offset = self.ladder.escalation
        if offset is None:
            return
        moved = self.due(self.accepted).expires_at + timedelta(days=offset)  # the ladder's tick
        yield from self.answer_and_close(moved + timedelta(days=2, hours=10), self.district)

    def unsatisfied(self) -> Iterator[Step]:
        first = self.on(self.due(self.accepted).due_on + timedelta(days=2), 10)
        yield self.answer(first, self.street)
        rated = first + timedelta(days=1)
        yield self.rate(rated, Satisfaction.UNSATISFIED)
        reopened = rated + timedelta(days=1)
        supervisor = f"supervisor:{self.district}"
        yield Step(reopened, self.name, lambda cid: c.ReopenPetition(
            case_id=cid, actor=supervisor, at=reopened, reason="群众不满意，重新办理 reopened"))
        second = self.on(self.due(reopened).due_on, 10)  # on the last day: reminded, not late
        yield from self.answer_and_close(second, self.street, moods=(100, 0, 0))

    def proxy_silent(self) -> Iterator[Step]:
        answered = self.on(self.local(self.accepted) + timedelta(days=30), 15)
        closing = list(self.answer_and_close(answered, self.street, moods=(100, 0, 0)))
        agent, registered = generated_agent_id(f"proxy-{self.street}"), self.local(self.accepted)
        for offset in (1, 7, *range(22, 400, 7)):  # silent from day 7 to day 22
            at = self.on(registered + timedelta(days=offset), 16, 30)
            if at >= closing[-1].at:
                break
            yield Step(at, self.name, lambda cid, at=at: c.LogProxyContact(
                case_id=cid, actor=agent, at=at, agent=agent, mode=ContactMode.VISIT,
                note="上门见面 met the petitioner at home"))
        yield from closing

    # ------------------------------------------------------------------ pieces
    def answer_and_close(self, answered: datetime, unit: str,
                         moods: tuple[int, int, int] = (75, 25, 0)) -> Iterator[Step]:
        yield self.answer(answered, unit)
        rated = answered + timedelta(days=self.rng.randint(1, 3))
        mood = self.rng.choices(list(Satisfaction), moods)[0]
        yield self.rate(rated, mood)
        closed = rated + timedelta(days=self.rng.randint(3, 7))
        if mood is Satisfaction.UNSATISFIED:
            confirmed = rated + timedelta(days=1)
            supervisor = f"supervisor:{self.district}"
            yield Step(confirmed, self.name, lambda cid: c.ConfirmAnswer(
                case_id=cid, actor=supervisor, at=confirmed, reason="答复依法合理 answer stands"))
        yield Step(closed, self.name, lambda cid: c.ClosePetition(
            case_id=cid, actor=f"handler:{unit}", at=closed, summary="答复后办结 closed"))

    def answer(self, at: datetime, unit: str) -> Step:
        return Step(at, self.name, lambda cid: c.AnswerPetition(
            case_id=cid, actor=f"handler:{unit}", at=at, unit=unit,
            answer="经调查核实，已责成整改并书面告知信访人。"))

    def rate(self, at: datetime, mood: Satisfaction) -> Step:
        said = COMMENTS[mood]
        comment = said[sum(map(ord, self.name)) % len(said)]  # no draw: seeded runs stay
        return Step(at, self.name, lambda cid: c.RatePetition(
            case_id=cid, actor="petitioner", at=at, attitude=Satisfaction.SATISFIED,
            efficiency=mood, quality=mood, comment=comment))

    def due(self, start: datetime, extra: int = 0) -> Deadline:
        return self.policy.deadline(DeadlineKind.ANSWER, start, self.limit + extra)

    def local(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def on(self, day: date, hour: int | None = None, minute: int | None = None) -> datetime:
        hour = self.rng.randint(10, 16) if hour is None else hour
        minute = self.rng.randint(0, 59) if minute is None else minute
        return datetime.combine(day, time(hour, minute), tzinfo=self.zone)
