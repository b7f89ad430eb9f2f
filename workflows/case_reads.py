"""The reads of one case that the CLI and the HTTP API both serve, as plain data.

The case now (or as a command left it), its events in order, and the case as it stood at an
instant. Callers authorise (``guard``, before anything is returned) and format; which personal
data shows is the audience's (``workflows/privacy.py``: staff with or without the pii scope).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.petition import Petition
from workflows.application import PetitionApplication
from workflows.as_of import events_as_of, petition_as_of
from workflows.case_summary import case_summary, event_record

Guard = Callable[[Petition], None]


def case(app: PetitionApplication, case_id: UUID, *, pii: bool = False,
         version: int | None = None, guard: Guard | None = None) -> dict[str, Any]:
    """The case with its deadlines and the commands it allows now (``version``: as the
    command that wrote that version left it — an idempotent replay's answer)."""
    petition = app.get_petition(case_id, version=version)
    if guard is not None:
        guard(petition)
    return case_summary(petition, app.policy, app.clock.now(), pii=pii)


def history(app: PetitionApplication, case_id: UUID, *, pii: bool = False,
            as_of: datetime | None = None) -> list[dict[str, Any]]:
    """Every event of the case (recorded by ``as_of``, if given), oldest first."""
    events = events_as_of(app, case_id, as_of) if as_of else app.events_of(case_id)
    return [event_record(event, pii=pii) for event in events]


def state_as_of(app: PetitionApplication, case_id: UUID, as_of: datetime, *,
                pii: bool = False) -> dict[str, Any]:
    """The case as it stood at ``as_of``: only what was recorded by then, deadlines then."""
    petition = petition_as_of(app, case_id, as_of)
    return {"as_of": as_of.isoformat(),
            "case": case_summary(petition, app.policy, as_of, pii=pii)}
