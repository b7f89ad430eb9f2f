"""The public steps of a case: what its petitioner sees of its history, in order.

One read for the follow page's timeline and ``/status``: each event type that
``privacy.PUBLIC_STEPS`` lists, with its business time and only the fields listed there
(through ``disclose`` for the PETITIONER audience) — actors, notes, supervision letters,
proxy contacts, a leader's name and every person's data stay out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from workflows.held import Held
from workflows.privacy import PUBLIC_STEPS, Audience, disclose, is_public_step


@dataclass(frozen=True)
class PublicStep:
    kind: str  # the event's type, e.g. "Answered", "ReceptionBooked"
    at: datetime  # its business time
    fields: dict[str, Any]  # the listed fields, in PUBLIC_STEPS' order, as stored


def public_steps(events: list[Any]) -> list[PublicStep]:
    return [step for event in events if (step := public_step(event)) is not None]


def public_step(event: Any) -> PublicStep | None:
    """The event as a public step, or None when its type is none."""
    kind = type(event).__name__
    if not is_public_step(kind):
        return None
    data = disclose(Audience.PETITIONER, vars(event), kind)
    return PublicStep(kind, event.at, {name: data[name] for name in PUBLIC_STEPS[kind]
                                       if name in data})


EventsBetween = Callable[[UUID, int, int], list[Any]]
"""A case's events after one version, up to and including another, in order."""


class StepsOfCases:
    """The public steps of recently followed cases, each held with the version it reaches.

    A case's steps up to version v are made of its events 1..v, which never change once
    stored: held steps are never stale, only short. Asked for a case at a later version (any
    process may have appended since) it reads only the events after the held version; at the
    held version or an earlier one (a replayed answer) it reads nothing. So a case followed
    again costs no read of its whole history (every /status read all its events, decrypting
    each once more). At most ``maxsize`` cases are held, least recently used going first."""

    def __init__(self, read: EventsBetween, maxsize: int = 1000):
        self._read = read
        self._held: Held[UUID, tuple[int, tuple[tuple[int, PublicStep], ...]]] = Held(maxsize)

    def up_to(self, case_id: UUID, version: int) -> list[PublicStep]:
        held_version, steps = self._held.get(case_id) or (0, ())
        if version > held_version:
            events = self._read(case_id, held_version, version)
            if [e.originator_version for e in events] != list(range(held_version + 1,
                                                                    version + 1)):
                raise RuntimeError(f"the stored events of case {case_id} after version "
                                   f"{held_version} do not reach version {version} in order")
            steps += tuple((e.originator_version, step) for e in events
                           if (step := public_step(e)) is not None)
            self._held.put(case_id, (version, steps),  # never shorten what is held
                           over=lambda held: held[0] < version)
        return [step for at, step in steps if at <= version]
