"""The reads of one case that the CLI and the HTTP API serve, as plain data.

The case now (or as a command left it), its events in order, and the case as it stood at an
instant, for staff; the case as its petitioner follows it (``/status``). Callers authorise
(``guard``, before anything is returned; the query code for the petitioner) and format; which
personal data shows is the audience's (``workflows/privacy.py``: staff with or without the pii
scope, the petitioner).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.petition import Petition
from workflows.application import PetitionApplication
from workflows.as_of import events_as_of, petition_as_of
from workflows.case_summary import case_summary, deadline_dict, event_record, plain
from workflows.privacy import Audience, disclose

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


def petitioner_case(app: PetitionApplication, petition: Petition) -> dict[str, Any]:
    """The case as its petitioner sees it: the public steps, deadline, answer and windows."""
    unit = petition.responsible_unit or petition.holder
    return disclose(Audience.PETITIONER, {
        "case_id": str(petition.id),
        "status": petition.status.value,
        "subject": petition.subject,
        "registered_at": plain(petition.received_at),
        "unit": {"id": unit, "name": app.org.name_of(unit)},
        "deadline": deadline_dict(app.policy.current(petition), app.clock.now()),
        "answer": petition.answer,
        "answered_at": plain(petition.answered_at),
        "answer_delivered_at": plain(petition.answer_delivered_at),
        "ratings": plain(petition.ratings),
        "review_window": deadline_dict(app.policy.review_window(petition)),
        "re_review_window": deadline_dict(app.policy.re_review_window(petition)),
        "extension": _extension(petition),
        "decline_reason": petition.decline_reason,
        "redirect_to": plain(petition.redirect_to),
        "steps": [{"type": step.kind, "at": plain(step.at),
                   "fields": {name: plain(value) for name, value in step.fields.items()}}
                  for step in app.public_steps.up_to(petition.id, petition.version)],
    })


def _extension(petition: Petition) -> dict[str, Any] | None:
    """The matter's one extension with its reason: 信访工作条例 Art. 32 requires telling the
    petitioner why (告知信访人延期理由)."""
    if not petition.extension_used:
        return None
    return {"days": petition.extension_granted_days, "reason": petition.extension_reason,
            "extended_at": plain(petition.extended_at)}


