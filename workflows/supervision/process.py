"""The closed loop (闭环督办): when a unit's deadline nears or passes, climb the ladder.

On every tick the process asks the supervision queue for obligations due by ``now`` plus the
earliest rung's lead time, loads each case, and issues the next rung not issued for this
obligation yet, if it is due — reminder, supervision letter, accountability suggestion,
interview, then escalation to the parent unit. One rung per case per tick, and a rung issued
late pushes the next one back by the policy's spacing (``next_due``): like a supervisor, the
process gives the unit each measure's time, even for a case found long overdue. Each measure
is an ordinary command (``SupervisionIssued`` / ``Escalated`` with the rule that caused it).

Exactly once without a ledger of its own: which rungs an obligation has received is state of
the case (``Petition.ladder``), so a rung is never due twice; each rung is decided on one
version of the case and saved only onto that version (a guard, since ``execute`` loads the
case afresh, plus the store's version check), so two instances deciding at once collide and
the loser re-reads and finds nothing left to do; a crash before a save loses nothing because
the next tick decides again from the same facts. A case whose last event is later than
``now`` (a lagging clock, or a simulation replayed from day 0) is left for a later tick.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from domain.business_time import shifted
from domain.deadlines import DeadlineKind
from domain.petition import Petition
from domain.proxy_contact import due_chases
from domain.supervision_ladder import CHASED_KINDS, ESCALATION, Measure, next_due
from domain.values import SupervisionLevel
from workflows.application import PetitionApplication
from workflows.commands import ChaseProxyContact, EscalatePetition, IssueSupervision
from workflows.errors import ConcurrentModification

ACTOR = "system:supervision"
REASONS = {
    "reminder": "期限将至，请及时办理 the deadline is near",
    "supervision_letter": "已超期，重点督办 overdue: key supervision",
    "accountability": "超期未办结，建议问责 long overdue: accountability suggested",
    "interview": "严重超期，约谈责任单位负责人 seriously overdue: interview",
    ESCALATION: "属地难以办结，提级办理 unresolved locally: moved up a level",
}


CHASED = frozenset({*(k.value for k in CHASED_KINDS), DeadlineKind.PROXY_CONTACT.value})
"""Obligations the process chases: the units' (三函一约谈) and the proxy's weekly meeting."""


class ObligationQueue(Protocol):
    def overdue(self, as_of: datetime, *, unit: str | None = None, path: str | None = None,
                limit: int = 50, cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
        ...


@dataclass(frozen=True)
class Issued:
    case_id: UUID
    unit: str
    measure: Measure


class SupervisionProcess:
    def __init__(self, app: PetitionApplication, queue: ObligationQueue, *, page: int = 500):
        self.app, self.queue, self.page = app, queue, page

    def tick(self, now: datetime) -> list[Issued]:
        """Chases every case with a chased obligation due by ``now`` (plus reminder lead)."""
        issued: list[Issued] = []
        for case_id in self.candidates(now):
            issued.extend(self.chase(case_id, now))
        return issued

    def candidates(self, now: datetime) -> Iterator[UUID]:
        horizon = shifted(now, timedelta(days=self.app.ladder.lead_days()))
        seen: set[str] = set()
        cursor: str | None = None
        while True:
            rows, cursor = self.queue.overdue(horizon, limit=self.page, cursor=cursor)
            for row in rows:
                if row["kind"] in CHASED and row["case_id"] not in seen:
                    seen.add(row["case_id"])
                    yield UUID(row["case_id"])
            if cursor is None:
                return

    def chase(self, case_id: UUID, now: datetime, attempts: int = 3) -> list[Issued]:
        """Issues at most one rung of the case's ladder and one of its proxy's; re-reads after
        a lost race."""
        done: list[Issued] = []
        for step in (self._ladder_rung, self._proxy_rung):
            for _ in range(attempts):
                try:
                    issued = step(self._current(case_id, now), now)
                except ConcurrentModification:
                    continue
                done += [issued] if issued is not None else []
                break
        return done

    def _current(self, case_id: UUID, now: datetime) -> Petition | None:
        petition = self.app.get_petition(case_id)
        return None if petition.last_at > now else petition  # ahead of this clock: later

    def _ladder_rung(self, petition: Petition | None, now: datetime) -> Issued | None:
        """The next rung if it is due, decided on one version of the case and saved only
        onto it."""
        deadline = None if petition is None else self.app.policy.current(petition)
        if petition is None or deadline is None:
            return None
        measure = next_due(self.app.ladder.for_case(petition), deadline,
                           petition.ladder_reached(), now, petition.last_rung_at)
        command = None if measure is None else self._command(petition, measure, now)
        if measure is None or command is None:
            return None
        self.app.execute(command, guard=_unchanged_since(petition))
        return Issued(petition.id, petition.obligated_unit, measure)

    def _proxy_rung(self, petition: Petition | None, now: datetime) -> Issued | None:
        return None if petition is None else self._chase_proxy(petition, now)

    def _chase_proxy(self, petition: Petition, now: datetime) -> Issued | None:
        """A missed weekly meeting of the proxy: its next due rung (agent, then community)."""
        week = self.app.policy.proxy_contact(petition)
        if week is None:
            return None
        reached = petition.proxy_ladder.get(week.starts_at.isoformat(), -1)
        for measure in due_chases(self.app.policy.rules.proxy_chase, week, reached, now)[:1]:
            self.app.execute(ChaseProxyContact(
                case_id=petition.id, actor=ACTOR, at=now, rung=measure.rung, rule=measure.rule,
                due_at=measure.due_at), guard=_unchanged_since(petition))
            return Issued(petition.id, petition.proxy_addressee(measure.rung, self.app.org),
                          measure)
        return None

    def _command(self, petition: Petition, measure: Measure, now: datetime
                 ) -> IssueSupervision | EscalatePetition | None:
        if measure.rung != ESCALATION:
            return IssueSupervision(
                case_id=petition.id, actor=ACTOR, at=now, level=SupervisionLevel(measure.rung),
                reason=REASONS[measure.rung], rule=measure.rule, due_at=measure.due_at)
        target = self._escalation_target(petition)
        if target is None or "escalate" not in petition.allowed_commands:
            return None  # nowhere to go up to, or not escalable in this state
        return EscalatePetition(case_id=petition.id, actor=ACTOR, at=now, unit=target,
                                reason=REASONS[ESCALATION], rule=measure.rule,
                                due_at=measure.due_at)

    def _escalation_target(self, petition: Petition) -> str | None:
        """One level above the obligated unit, but never below the unit holding the case
        (moving within its own jurisdiction is delegation, not escalation)."""
        org, unit = self.app.org, petition.obligated_unit
        parent = org.get(unit).parent if unit in org else None
        if parent is None:
            return None
        return parent if org.is_within(petition.holder, parent) else petition.holder


def _unchanged_since(decided_on: Petition) -> Callable[[Petition], None]:
    """``execute`` loads the case afresh; refuse if it moved since the decision was taken
    (another instance issued the rung, or staff answered), so the save never lands on a
    version the decision did not see — the version check at save time covers the rest."""
    def guard(current: Petition) -> None:
        if current.version != decided_on.version:
            raise ConcurrentModification(current.id)
    return guard
