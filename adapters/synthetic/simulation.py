"""`petition simulate`'s driver: a synthetic district lived day by day on a hand-moved clock.

Each simulated day new petitions arrive, staff act on the cases according to seeded
behaviour profiles, the clock moves to the next midnight, the supervision queue catches up
and ``SupervisionProcess.tick`` chases what is due: the closed loop in seconds. Every case's whole
story is drawn from the seed when it arrives, as dated steps (``stories.py``; its people and
subjects from ``citizens.py``, shared with ``petition demo``); nothing the simulation does
depends on what the store contains, on uuid4 or on the wall clock.

Crash-safe by construction: every command carries the idempotency key
``(seed, day, sequence number)``, so re-running from day 0 on the same store after a crash
replays what was done (the same case ids come back) and appends only what was missing; the
ladder's measures are exactly-once through the case's own ladder state. The report is read
from the store at the end, so a resumed run reports the whole history, not just its part.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from adapters.synthetic import citizens
from adapters.synthetic.proxies import entrustment
from adapters.synthetic.stories import Handling, Profile, Step
from domain import events as ev
from domain.deadlines import DeadlineKind
from domain.errors import DomainError
from domain.supervision_ladder import RUNGS
from domain.units import UnitLevel
from domain.values import Channel, HandlingTrack, SpeedTrack
from workflows import commands as c
from workflows.application import Idempotency, PetitionApplication
from workflows.clock import ManualClock
from workflows.proxy_agents import enrol_generated_agent
from workflows.supervision.process import (
    ACTOR,
    ObligationQueue,
    SupervisionProcess,
)

SCOPE = "simulation"
FINAL = (ev.Closed, ev.Declined, ev.Withdrawn, ev.ReReviewDecided)
CONTACT = (ev.ProxyAssigned, ev.ProxyContactLogged)
DEFAULT_START = date(2026, 3, 2)  # a Monday


ROUTINE = {Profile.PROMPT: 60, Profile.LATE: 25, Profile.VERY_LATE: 15}
SPECIAL = {None: 76, Profile.EXTENDED: 6, Profile.ESCALATED: 4, Profile.UNSATISFIED: 8,
           Profile.PROXY_SILENT: 6}


@dataclass(frozen=True)
class MeasureRecord:
    case: str
    unit: str
    rule: str
    at: datetime


@dataclass(frozen=True)
class Silence:
    """A proxy agent let the weekly contact lapse: overdue from ``overdue_at`` to ``until``."""

    case: str
    agent: str
    last_contact: datetime
    overdue_at: datetime
    until: datetime

    @property
    def days_silent(self) -> int:
        return (self.until - self.last_contact).days


@dataclass
class SimulationResult:
    seed: int
    days: int
    cases: dict[str, UUID] = field(default_factory=dict)
    measures: list[MeasureRecord] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)
    silences: list[Silence] = field(default_factory=list)

    def measures_of(self, case: str) -> list[tuple[str, datetime]]:
        return [(m.rule, m.at) for m in self.measures if m.case == case]

    def ladder_by_unit(self) -> dict[str, dict[str, int]]:
        """Per unit, how many measures of each rung it received."""
        table: dict[str, dict[str, int]] = {}
        for m in self.measures:
            row = table.setdefault(m.unit, dict.fromkeys(RUNGS, 0))
            row[m.rule.split(".")[-1]] += 1
        return dict(sorted(table.items()))


class Simulation:
    """Runs ``days`` days from ``start`` (local midnight of day 0) for one seed."""

    def __init__(self, app: PetitionApplication, clock: ManualClock, queue: ObligationQueue,
                 catch_up: Callable[[], object], *, process: SupervisionProcess, seed: int,
                 cases_per_day: int, start: date = DEFAULT_START):
        self.app, self.clock, self.queue, self.catch_up = app, clock, queue, catch_up
        self.seed, self.cases_per_day, self.start = seed, cases_per_day, start
        self.zone = ZoneInfo(app.policy.rules.timezone)
        self.process = process  # the composition root's, over ``queue``
        streets = sorted(u.id for u in app.org if u.level is UnitLevel.STREET)
        random.Random(f"{seed}/units").shuffle(streets)
        cut1, cut2 = len(streets) // 2, len(streets) * 4 // 5
        self.temperament = {Profile.PROMPT: streets[:cut1], Profile.LATE: streets[cut1:cut2],
                            Profile.VERY_LATE: streets[cut2:]}
        self.agenda: dict[int, list[tuple[datetime, int, int, Step]]] = {}
        self.ordinal = 0

    # ------------------------------------------------------------------ the run
    def run(self, days: int, progress: Callable[[int], None] = lambda _: None
            ) -> SimulationResult:
        result = SimulationResult(self.seed, days)
        self.clock.set(self.moment(0, 0))
        for day in range(days):
            self.arrivals(day)
            for seq, step in enumerate(self.steps_of(day)):
                self.perform(day, seq, step, result)
            now = self.clock.now()
            self.clock.set(max(now, self.moment(day + 1, 0)))
            self.catch_up()
            self.process.tick(self.clock.now())
            progress(day + 1)
        self.report(result)
        return result

    def moment(self, day: int, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(self.start + timedelta(days=day), time(hour, minute),
                                tzinfo=self.zone)

    def day_of(self, moment: datetime) -> int:
        return (moment.astimezone(self.zone).date() - self.start).days

    def steps_of(self, day: int) -> list[Step]:
        return [s for *_, s in sorted(self.agenda.pop(day, []), key=lambda t: t[:3])]

    def schedule(self, steps: list[Step]) -> None:
        self.ordinal += 1
        for index, step in enumerate(steps):
            self.agenda.setdefault(self.day_of(step.at), []).append(
                (step.at, self.ordinal, index, step))

    def perform(self, day: int, seq: int, step: Step, result: SimulationResult) -> None:
        key = f"{self.seed}/{day}/{seq}"
        case_id = result.cases.get(step.case)
        if case_id is None and not step.registers:
            result.refused.append((key, "the case was never registered"))
            return
        self.clock.set(max(self.clock.now(), step.at))
        try:
            outcome = self.app.execute(step.build(case_id),  # type: ignore[arg-type]
                                       idempotency=Idempotency(SCOPE, key))
        except DomainError as error:
            result.refused.append((key, str(error)))
            return
        result.cases.setdefault(step.case, outcome.case_id)

    def report(self, result: SimulationResult) -> None:
        """The ladder each case received and its proxy's silences, read from its events
        (whichever run appended them), up to the end of the last simulated day."""
        end = self.moment(result.days, 0)
        for name, case_id in result.cases.items():
            events = [e for e in self.app.events_of(case_id) if e.at <= end]
            for e in events:
                if isinstance(e, ev.SupervisionIssued) and e.actor == ACTOR:
                    result.measures.append(MeasureRecord(name, e.unit, e.rule, e.at))
                elif isinstance(e, ev.Escalated) and e.actor == ACTOR:
                    result.measures.append(MeasureRecord(name, e.from_unit, e.rule, e.at))
            result.silences.extend(self.silences(name, events, end))
        result.measures.sort(key=lambda m: (m.at, m.case, RUNGS.index(m.rule.split(".")[-1])))

    def silences(self, name: str, events: list[Any], end: datetime) -> Iterator[Silence]:
        """Gaps between a proxy agent's contacts longer than the weekly standard allows."""
        agent: str | None = None
        since = end
        for e in [*events, None]:
            at = end if e is None else e.at
            if agent is not None and (e is None or isinstance(e, (*FINAL, *CONTACT))):
                expiry = self.app.policy.deadline(
                    DeadlineKind.PROXY_CONTACT, since, self.app.policy.rules.proxy_contact_days,
                    roll=False).expires_at
                if at > expiry:
                    yield Silence(name, agent, since, expiry, at)
            if e is None or isinstance(e, FINAL):
                return
            if isinstance(e, CONTACT) or (isinstance(e, ev.Registered) and e.proxy_agent):
                agent = getattr(e, "agent", None) or getattr(e, "proxy_agent", None)
                since = e.at

    # ------------------------------------------------------------------ arrivals
    def arrivals(self, day: int) -> None:
        rng = random.Random(f"{self.seed}/{day}")
        showcase = list(Profile) if day == 0 else []
        for i in range(len(showcase) + self.cases_per_day):
            profile = showcase[i] if i < len(showcase) else self.draw_profile(rng)
            self.schedule(list(self.story(rng, day, i, profile)))

    def draw_profile(self, rng: random.Random) -> Profile:
        special = rng.choices(list(SPECIAL), list(SPECIAL.values()))[0]
        return special or rng.choices(list(ROUTINE), list(ROUTINE.values()))[0]

    def story(self, rng: random.Random, day: int, i: int, profile: Profile) -> Iterator[Step]:
        name = f"d{day:03d}-{i:02d}-{profile.value}"
        pool = self.temperament.get(profile) or [s for v in self.temperament.values() for s in v]
        street = rng.choice(pool)
        district = self.app.org.get(street).parent
        assert district is not None
        proxy = enrol_generated_agent(self.app, f"proxy-{street}", street, self.clock.now()) \
            if profile is Profile.PROXY_SILENT else None
        received = self.moment(day, rng.randint(9, 15), rng.randint(0, 59))
        registration = self.registration(rng, received, district, street, proxy)
        yield Step(received, name, lambda _: registration, registers=True)
        track = self.track_for(rng, profile)
        accepted = received + timedelta(minutes=rng.randint(20, 90))
        intake = f"intake:{district}"
        yield Step(accepted, name, lambda cid: c.AcceptPetition(
            case_id=cid, actor=intake, at=accepted, handling_track=HandlingTrack.CLAIM,
            speed_track=track))
        delegated = accepted + timedelta(minutes=5)
        yield Step(delegated, name, lambda cid: c.DelegatePetition(
            case_id=cid, actor=intake, at=delegated, unit=street, note="请依法依规办理"))
        yield from Handling(self.app.policy, self.app.ladder, self.zone, rng, name, street,
                            district, track, accepted).steps(profile)

    def track_for(self, rng: random.Random, profile: Profile) -> SpeedTrack:
        if profile is Profile.PROMPT:
            return rng.choices(list(SpeedTrack), [30, 50, 20])[0]
        if profile in (Profile.LATE, Profile.VERY_LATE):
            return rng.choices([SpeedTrack.GENERAL, SpeedTrack.COMPLEX], [75, 25])[0]
        return SpeedTrack.COMPLEX if profile is Profile.PROXY_SILENT else SpeedTrack.GENERAL

    def registration(self, rng: random.Random, at: datetime, district: str, street: str,
                     proxy: str | None) -> c.RegisterPetition:
        category, subject, content = rng.choice(citizens.SHORTLIST)
        id_number = citizens.id_number(rng, date(1950, 1, 1), 20000)
        return c.RegisterPetition(
            actor=f"intake:{district}", at=at, channel=Channel.ONLINE, subject=subject,
            content=content, category=category,
            location=c.LocationIn(district=district, street=street),
            petitioner=c.PetitionerIn(name="王" + rng.choice(citizens.GIVEN_SHORT),
                                      id_number=id_number, phone=citizens.mobile(rng)),
            received_by=district, proxy_agent=proxy,
            entrustment=entrustment(self.app.org, street, at) if proxy else None)
