"""The library's ``ProcessingEvent`` with a quick path for aggregates.

On Python 3.11 ``isinstance`` against the library's runtime ``Protocol`` classes walks every
class of the object's MRO; ``collect_events`` does it twice per aggregate saved, which was a
tenth of a command's CPU (docs/performance.md, figure 1). An ``Aggregate`` is not a domain
event and does collect events, so it takes the library's second branch directly; a
``DomainEvent`` (an index record's event, domain/written_once.py) takes the first; anything
else goes the library's way. ``tests/unit/test_collected.py`` pins the library code this
mirrors.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.application import ProcessingEvent
from eventsourcing.domain import Aggregate, DomainEvent


class CollectedEvents(ProcessingEvent[UUID]):
    def collect_events(self, *objs: Any, **kwargs: Any) -> None:
        for obj in objs:
            if isinstance(obj, Aggregate):
                self.events.extend(obj.collect_events())
                self.aggregates[obj.id] = obj
            elif isinstance(obj, DomainEvent):  # an index record's event (written_once.py)
                self.events.append(obj)
            else:
                super().collect_events(obj)
        self.saved_kwargs.update(kwargs)
