"""Where a case stands on the supervision ladder: the rung reached, and what comes next, when."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.supervision_ladder import RUNGS, next_measure
from workflows.application import PetitionApplication


def ladder_status(app: PetitionApplication, case_id: UUID | str, kind: str) -> dict[str, Any]:
    """For the obligation ``kind`` of a case; empty when it is not the case's running one."""
    petition = app.get_petition(UUID(str(case_id)))
    deadline = app.policy.current(petition)
    if deadline is None or deadline.kind.value != kind:
        return {"rung": None, "next_rung": None, "next_at": None}
    reached = petition.ladder_reached()
    upcoming = next_measure(app.ladder.for_case(petition), deadline, reached)
    return {
        "rung": RUNGS[reached] if reached >= 0 else None,
        "next_rung": upcoming.rung if upcoming else None,
        "next_at": upcoming.due_at if upcoming else None,
    }
