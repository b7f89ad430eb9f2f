"""``PetitionApplication.save`` mirrors the library's ``Application.save`` with a quicker
``collect_events``: pinned to the library's code, and equal in what it collects."""

from __future__ import annotations

import hashlib
import inspect

from eventsourcing.application import Application, ProcessingEvent
from eventsourcing.domain import Aggregate, event

from workflows.collected import CollectedEvents

PINNED = {"save": "4e9747d14b8fd046", "collect_events": "7e3a7e6b1abd2bef"}


def _digest(function: object) -> str:
    return hashlib.sha256(inspect.getsource(function).encode()).hexdigest()[:16]  # type: ignore[arg-type]


def test_library_code_mirrored_is_unchanged() -> None:
    """An eventsourcing upgrade that changes either function must be looked at: re-read it,
    mirror the change in PetitionApplication.save / CollectedEvents, then update the pins."""
    assert {"save": _digest(Application.save),
            "collect_events": _digest(ProcessingEvent.collect_events)} == PINNED


class Thing(Aggregate):
    def __init__(self, name: str):
        self.name = name

    @event("Renamed")
    def rename(self, name: str) -> None:
        self.name = name


def test_collects_what_the_library_collects() -> None:
    def made() -> list[object]:
        a, b = Thing("a"), Thing("b")
        b.rename("c")
        loose = Thing("d").collect_events()[0]
        return [a, None, b, loose]

    library, ours = ProcessingEvent(), CollectedEvents()
    library.collect_events(*made(), key="v")
    ours.collect_events(*made(), key="v")
    shape = lambda p: ([(type(e).__name__, e.originator_version) for e in p.events],  # noqa: E731
                       [type(a).__name__ for a in p.aggregates.values()], p.saved_kwargs)
    assert shape(ours) == shape(library)
    assert len(ours.events) == 4 and len(ours.aggregates) == 2
