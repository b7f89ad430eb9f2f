"""A case as it stood at an instant: the aggregate rebuilt from the events up to then.

``recorded`` (the default) cuts at the library's ``timestamp`` — what the system knew at that
instant, the auditor's question. ``business`` cuts at each event's ``at`` — what had happened
in the world by then, as far as was later recorded.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from domain.petition import Petition
from workflows.application import PetitionApplication
from workflows.errors import CaseNotFound

Cut = Literal["recorded", "business"]


def events_as_of(app: PetitionApplication, case_id: UUID, instant: datetime,
                 *, cut: Cut = "recorded") -> list[Any]:
    if instant.tzinfo is None:
        raise ValueError("the instant must carry a timezone")
    events = app.events_of(case_id)
    return [e for e in events if (e.timestamp if cut == "recorded" else e.at) <= instant]


def petition_as_of(app: PetitionApplication, case_id: UUID, instant: datetime,
                   *, cut: Cut = "recorded") -> Petition:
    """The Petition after its last event at or before ``instant`` (CaseNotFound if none)."""
    petition: Any = None
    for event in events_as_of(app, case_id, instant, cut=cut):
        petition = event.mutate(petition)
    if not isinstance(petition, Petition):
        raise CaseNotFound(case_id)
    return petition
