"""The public steps of a case: what its petitioner sees of its history, in order.

One read for the follow page's timeline and ``/status``: each event type that
``privacy.PUBLIC_STEPS`` lists, with its business time and only the fields listed there
(through ``disclose`` for the PETITIONER audience) — actors, notes, supervision letters,
proxy contacts, a leader's name and every person's data stay out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workflows.privacy import PUBLIC_STEPS, Audience, disclose, is_public_step


@dataclass(frozen=True)
class PublicStep:
    kind: str  # the event's type, e.g. "Answered", "ReceptionBooked"
    at: datetime  # its business time
    fields: dict[str, Any]  # the listed fields, in PUBLIC_STEPS' order, as stored


def public_steps(events: list[Any]) -> list[PublicStep]:
    out = []
    for event in events:
        kind = type(event).__name__
        if not is_public_step(kind):
            continue
        data = disclose(Audience.PETITIONER, vars(event), kind)
        out.append(PublicStep(kind, event.at, {name: data[name] for name in PUBLIC_STEPS[kind]
                                               if name in data}))
    return out
