"""Many cases at once, as fresh as the repository's one by one, in one read of the store.

The library's repository reads a case with a statement of its own (a cached case fast-forwards:
its events after the cached version; an uncached one reads its snapshot, then its events). A
page of the supervision queue names up to a page of cases, so its ladder column cost a page of
statements. Here the cases are read together through an ``EventsAfter`` the composition root
injects (adapters/persistence/case_histories.py: one statement per store): for a case in the
aggregate cache, only the events after the cached version, applied to a copy of it (the
library's fast-forward, so never older than the store); for any other case, all its events
(its snapshot, where one exists, is only the same state sooner), which then enter the cache as
the repository would put them. Every event is decoded by the application's mapper (decryption,
upcasting) and applied by the library's projector, as the repository does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from copy import deepcopy
from dataclasses import dataclass
from itertools import groupby
from typing import Any
from uuid import UUID

from eventsourcing.application import Repository, project_aggregate
from eventsourcing.persistence import Mapper, StoredEvent

from domain.petition import Petition
from workflows.errors import CaseNotFound

EventsAfter = Callable[[Sequence[tuple[UUID, int]]], Sequence[StoredEvent]]
"""The stored events of each id after the paired version, ordered by id, then version."""


def cached_copy(repository: Repository[UUID], case_id: UUID) -> Petition | None:
    """A copy of the case as this process's aggregate cache holds it, without reading the
    store (None: not cached, or not a case); the cached one is never changed by its reader."""
    cache = repository.cache
    if cache is None:
        return None
    try:
        held = cache.get(case_id)
    except KeyError:
        return None
    return deepcopy(held) if isinstance(held, Petition) else None


@dataclass(frozen=True)
class CaseBatch:
    repository: Repository[UUID]
    mapper: Mapper[UUID]
    events_after: EventsAfter | None  # None: no batch read for this store, one by one

    def get(self, case_ids: Sequence[UUID], one: Callable[[UUID], Petition]
            ) -> dict[UUID, Petition]:
        """Each case now; ``CaseNotFound`` for an id that is not a case (as ``one`` raises)."""
        wanted = list(dict.fromkeys(case_ids))
        if self.events_after is None or not wanted:
            return {case_id: one(case_id) for case_id in wanted}
        held = {case_id: cached_copy(self.repository, case_id) for case_id in wanted}
        stored = self.events_after([(case_id, 0 if copy is None else copy.version)
                                    for case_id, copy in held.items()])
        news = {UUID(str(aggregate_id)): list(group)
                for aggregate_id, group in groupby(stored, key=lambda e: e.originator_id)}
        return {case_id: self._bring_up(case_id, held[case_id], news.get(case_id, []))
                for case_id in wanted}

    def _bring_up(self, case_id: UUID, held: Any, stored: list[StoredEvent]) -> Petition:
        aggregate = project_aggregate(held, (self.mapper.to_domain_event(e) for e in stored))
        if not isinstance(aggregate, Petition):
            raise CaseNotFound(case_id)
        cache = self.repository.cache
        if cache is not None and stored:
            cache.put(case_id, aggregate)  # as the repository caches what it read
            aggregate = deepcopy(aggregate)
        return aggregate

