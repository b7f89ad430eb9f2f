"""The case as every read model sees it: the Petition aggregate itself, one event further.

Views store no copy of a case's state and never any personal data. A projection keeps the
cases it saw last in memory; for a case it has not seen at the version just before an event,
it loads the aggregate from the event store at that version. So the read side runs exactly
``Petition.when`` — there is no second fold to keep in step with the domain.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING
from uuid import UUID

from domain import events as ev
from domain.petition import Petition

if TYPE_CHECKING:
    from projections.batching import Item

Loader = Callable[[UUID, int], Petition]


def case_key(case_id: UUID | str) -> str:
    return str(case_id)


class CaseStates:
    """A small LRU of the latest Petition per case, advanced by ``after(event)``.

    Keyed by the case id's integer: every event carries its own UUID object, and comparing
    UUIDs runs Python code, comparing ints does not (it showed in catch-up profiles).
    """

    def __init__(self, load: Loader, capacity: int = 2000):
        self.load, self.capacity = load, capacity
        self._cases: OrderedDict[int, Petition] = OrderedDict()

    def after(self, event: ev.PetitionEvent) -> Petition:
        """The case right after ``event``: cached, or loaded at the version before it.

        A cached case at any other version (e.g. after a rolled-back batch is redelivered)
        is reloaded, so the result never depends on what the cache happened to hold.
        """
        key = event.originator_id.int
        previous = self._cases.pop(key, None)
        wanted = event.originator_version - 1
        if previous is None or previous.version != wanted:
            previous = self.load(event.originator_id, wanted) if wanted else None
        petition = event.mutate(previous)
        assert isinstance(petition, Petition)
        self._cases[key] = petition
        if len(self._cases) > self.capacity:
            self._cases.popitem(last=False)
        return petition

    def latest_of(self, items: Sequence[Item]) -> dict[str, tuple[Petition, int]]:
        """Each case of a batch after its last event there, with that event's position: a
        view computes a case's rows once per batch, not once per event."""
        latest: dict[int, tuple[Petition, int]] = {}
        for item in items:
            if item.is_case_event:
                latest[item.event.originator_id.int] = (self.after(item.event), item.position)
        return {case_key(petition.id): (petition, position)
                for petition, position in latest.values()}

    def clear(self) -> None:
        self._cases.clear()
