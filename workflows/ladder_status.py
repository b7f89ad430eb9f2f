"""Where a case stands on the supervision ladder: the rung reached, and what comes next, when."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID

from domain.deadlines import DeadlinePolicy
from domain.petition import Petition
from domain.supervision_ladder import RUNGS, LadderRules, next_measure
from domain.units import OrgChart


class LadderSource(Protocol):
    """What the ladder's status reads: a case, the deadline policy and the ladder's rules
    and the chart (``PetitionApplication`` is one); read models take this, not the application."""

    org: OrgChart
    policy: DeadlinePolicy
    ladder: LadderRules

    def get_petition(self, case_id: UUID, version: int | None = None) -> Petition: ...

    def get_petitions(self, case_ids: Sequence[UUID]) -> dict[UUID, Petition]: ...


def ladder_status(app: LadderSource, case_id: UUID | str, kind: str) -> dict[str, Any]:
    """For the obligation ``kind`` of a case; empty when it is not the case's running one."""
    return ladder_of(app, app.get_petition(UUID(str(case_id))), kind)


def ladder_of(app: LadderSource, petition: Petition, kind: str) -> dict[str, Any]:
    """``ladder_status`` of a case already read (a page of them is read at once)."""
    deadline = app.policy.current(petition)
    if deadline is None or deadline.kind.value != kind:
        return {"rung": None, "next_rung": None, "next_at": None}
    reached = petition.ladder_reached()
    upcoming = next_measure(app.ladder.for_case(petition), deadline, reached,
                            petition.last_rung_at)
    return {
        "rung": RUNGS[reached] if reached >= 0 else None,
        "next_rung": upcoming.rung if upcoming else None,
        "next_at": upcoming.due_at if upcoming else None,
    }
