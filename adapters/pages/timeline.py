"""What a petitioner may see of their case: the public steps, deadline, answer and windows.

Built from the case's events through the PETITIONER audience's allow-list
(``workflows/privacy.py``): internal notes, actors, supervision letters, proxy contacts and
every person's data stay out. Each step names its date and unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from domain.deadlines import Deadline
from domain.petition import Petition
from workflows.application import PetitionApplication
from workflows.privacy import PUBLIC_STEPS, Audience, disclose, is_public_step

CHINA = timezone(timedelta(hours=8))

UNIT_FIELDS = frozenset({"received_by", "unit", "to_unit"})


@dataclass(frozen=True)
class Step:
    kind: str
    on: date
    fields: dict[str, Any]


@dataclass(frozen=True)
class CaseView:
    status: str
    subject: str
    registered_on: date
    unit: str
    deadline: Deadline | None
    answer: str | None
    steps: list[Step]
    can_rate: bool
    review_kind: str | None  # "review" or "re-review" while its window is open
    review_days_left: int | None
    can_withdraw: bool
    attachments: list[tuple[str, str, int]]  # the petitioner's own files: name, type, size


def china_day(moment: datetime) -> date:
    return moment.astimezone(CHINA).date()


def case_view(app: PetitionApplication, petition: Petition) -> CaseView:
    now = app.clock.now()
    allowed = petition.allowed_commands
    review_kind, window = None, None
    if "re-review" in allowed and (w := app.policy.re_review_window(petition)):
        review_kind, window = "re-review", w
    elif "review" in allowed and (w := app.policy.review_window(petition)):
        review_kind, window = "review", w
    if window is not None and window.is_overdue(now):
        review_kind, window = None, None
    unit = petition.responsible_unit or petition.holder
    return CaseView(
        status=petition.status.value, subject=petition.subject,
        registered_on=china_day(petition.received_at), unit=unit_name(app, unit),
        deadline=app.policy.current(petition), answer=petition.answer,
        steps=steps(app, app.events_of(petition.id)),
        can_rate="rate" in allowed and petition.ratings is None,
        review_kind=review_kind,
        review_days_left=(window.due_on - china_day(now)).days if window else None,
        can_withdraw="withdraw" in allowed,
        attachments=[(a.file_name, a.media_type, a.size) for a in petition.attachments],
    )


def steps(app: PetitionApplication, events: list[Any]) -> list[Step]:
    """The public steps, each with the fields the PETITIONER audience sees (in the order
    ``workflows/privacy.PUBLIC_STEPS`` lists them)."""
    out = []
    for event in events:
        kind = type(event).__name__
        if not is_public_step(kind):
            continue
        data = disclose(Audience.PETITIONER, vars(event), kind)
        fields = {name: _value(app, name, data[name]) for name in PUBLIC_STEPS[kind]
                  if name in data}
        out.append(Step(kind, china_day(event.at), fields))
    return out


def _value(app: PetitionApplication, name: str, value: Any) -> Any:
    return unit_name(app, value) if name in UNIT_FIELDS else value


def unit_name(app: PetitionApplication, unit_id: str | None) -> str:
    if not unit_id:
        return ""
    return app.org.get(unit_id).name if unit_id in app.org else unit_id
